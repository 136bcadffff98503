package schemes

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/reflexops/reflex/connectors"
)

// TokenMatches reports whether presented equals one of secrets. It
// compares digests, so neither the time taken nor an early exit tells how
// long a secret is or how much of it matched.
func TokenMatches(presented string, secrets [][]byte) bool {
	if presented == "" {
		return false
	}
	got := sha256.Sum256([]byte(presented))
	match := 0
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		want := sha256.Sum256(s)
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return match == 1
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// value, and false when the value is not one.
func BearerToken(authorization string) (string, bool) {
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// BasicCredentials returns "user:password" of an "Authorization: Basic …"
// value, and false when the value is not one.
func BasicCredentials(authorization string) (string, bool) {
	scheme, enc, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil || !strings.Contains(string(raw), ":") {
		return "", false
	}
	return string(raw), true
}

// BasicAuthorization returns the Authorization value of Basic credentials
// "user:password", as a provider sends it.
func BasicAuthorization(credentials []byte) string {
	return "Basic " + base64.StdEncoding.EncodeToString(credentials)
}

// CheckPathToken verifies the token that ends a delivery's URL,
// /hooks/{source}/{token}, for a provider (named in the message) that
// signs nothing and can only be given a URL. A token elsewhere, in the
// query string or a header, is never read. Refusals wrap
// connectors.ErrUnauthorized and never show the token.
func CheckPathToken(req *connectors.Request, secrets [][]byte, provider string) error {
	if req.PathToken == "" {
		return fmt.Errorf("%w: the webhook URL must end in the source's token, /hooks/%s/<token>: %s signs nothing, and a token in the query string or a header is not read", connectors.ErrUnauthorized, req.Source, provider)
	}
	if !TokenMatches(req.PathToken, secrets) {
		return fmt.Errorf("%w: the token in the webhook URL does not match the source's secret", connectors.ErrUnauthorized)
	}
	return nil
}
