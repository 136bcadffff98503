package connectors

import (
	"fmt"
	"net/http"
	"strings"
)

// CheckHeader checks a header a connector keeps, such as an event type or
// a delivery id: it must be present, at most max bytes long, and made of
// characters allowed accepts (by position, for a first character that
// differs); alphabet describes them in the error. Such values end up in
// storage keys, URLs and CloudEvents attributes, so none is taken as sent.
// Errors wrap ErrMalformed.
func CheckHeader(name, value string, max int, allowed func(i int, r rune) bool, alphabet string) error {
	return CheckValue("the "+name+" header", value, max, allowed, alphabet)
}

// CheckValue is CheckHeader for a value from anywhere: what names it in
// the error, e.g. "the payload's id".
func CheckValue(what, value string, max int, allowed func(i int, r rune) bool, alphabet string) error {
	if value == "" {
		return fmt.Errorf("%w: %s is missing", ErrMalformed, what)
	}
	if len(value) > max {
		return fmt.Errorf("%w: %s is longer than %d characters", ErrMalformed, what, max)
	}
	for i, r := range value {
		if !allowed(i, r) {
			return fmt.Errorf("%w: %s may hold only %s", ErrMalformed, what, alphabet)
		}
	}
	return nil
}

// commonPolicyHeaders are the request headers every delivery shows
// policies, whatever its provider.
var commonPolicyHeaders = []string{"User-Agent", "Content-Type", "X-Request-Id", "X-Forwarded-For"}

// PolicyHeaderer is implemented by connectors whose provider sends headers
// that policies may see (request.headers): descriptive ones, never a
// credential or a signature.
type PolicyHeaderer interface {
	// PolicyHeaders returns the names of the provider's headers that
	// policies may see; callers do not change the slice.
	PolicyHeaders() []string
}

// PolicyHeaders returns the headers of a delivery that policies may see,
// by lower-case name: the common ones and those c names.
func PolicyHeaders(c Connector, h http.Header) map[string]string {
	var own []string
	if ph, ok := c.(PolicyHeaderer); ok {
		own = ph.PolicyHeaders()
	}
	out := make(map[string]string, len(commonPolicyHeaders)+len(own))
	for _, names := range [][]string{commonPolicyHeaders, own} {
		for _, name := range names {
			if v := h.Get(name); v != "" {
				out[strings.ToLower(name)] = v
			}
		}
	}
	return out
}
