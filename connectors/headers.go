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

// CredentialHeader returns the value of a header that carries a
// credential (a signature or a token), "" when it is absent. A header
// sent more than once with different values is refused with an error
// wrapping ErrUnauthorized: no provider sends two, and whichever Reflex
// checked, a proxy or a log in front of it could take the other.
func CredentialHeader(h http.Header, name string) (string, error) {
	values := h.Values(name)
	if len(values) == 0 {
		return "", nil
	}
	for _, v := range values[1:] {
		if v != values[0] {
			return "", fmt.Errorf("%w: the %s header is sent %d times with different values; a provider sends it once", ErrUnauthorized, http.CanonicalHeaderKey(name), len(values))
		}
	}
	return values[0], nil
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

// CheckCredentialHeader checks the name of a header a source's settings
// say carries a credential or a signature: it must be a valid header name,
// and none that policies are shown or that HTTP itself gives a meaning
// (Content-Type, Host, Authorization handled by its own scheme), so a
// secret never reaches a policy's input or a log. field names the setting
// in the error, as "settings.<field>".
func CheckCredentialHeader(field, name string) error {
	if name == "" || !isToken(name) {
		return fmt.Errorf("settings.%s: %q is not a header name", field, name)
	}
	canonical := http.CanonicalHeaderKey(name)
	for _, reserved := range commonPolicyHeaders {
		if canonical == reserved {
			return fmt.Errorf("settings.%s: %s is shown to policies and logged; carry the credential in a header of its own", field, canonical)
		}
	}
	switch {
	case canonical == "Host", canonical == "Authorization", canonical == "Cookie", canonical == "Connection",
		canonical == "Transfer-Encoding", canonical == "Forwarded", strings.HasPrefix(canonical, "Content-"):
		return fmt.Errorf("settings.%s: %s has a meaning of its own in HTTP; carry the credential in a header of its own", field, canonical)
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110), as a header name
// must be.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
