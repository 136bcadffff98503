package schemes

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // offered only where a source allows it
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"github.com/reflexops/reflex/connectors"
)

// The digest algorithms an HMAC signature may use.
const (
	SHA1   = "sha1"
	SHA256 = "sha256"
	SHA512 = "sha512"
)

// The encodings of an HMAC signature.
const (
	Hex    = "hex"
	Base64 = "base64"
)

// HMAC is a signature scheme: a MAC of the signed message, encoded and
// perhaps prefixed (GitHub's "sha256=").
type HMAC struct {
	// Algorithm is SHA256 (the zero value), SHA512 or SHA1.
	Algorithm string
	// Encoding is Hex (the zero value) or Base64.
	Encoding string
	// Prefix precedes the encoded MAC, e.g. "sha256="; it must be there.
	Prefix string
}

func (s HMAC) newHash() (func() hash.Hash, error) {
	switch s.Algorithm {
	case "", SHA256:
		return sha256.New, nil
	case SHA512:
		return sha512.New, nil
	case SHA1:
		return sha1.New, nil
	}
	return nil, fmt.Errorf("unknown HMAC algorithm %q (known: sha256, sha512, sha1)", s.Algorithm)
}

// Sum returns the encoded signature of message with secret, prefix
// included, as the provider sends it.
func (s HMAC) Sum(message, secret []byte) string {
	h, err := s.newHash()
	if err != nil {
		return ""
	}
	mac := hmac.New(h, secret)
	mac.Write(message)
	sum := mac.Sum(nil)
	if s.Encoding == Base64 {
		return s.Prefix + base64.StdEncoding.EncodeToString(sum)
	}
	return s.Prefix + hex.EncodeToString(sum)
}

// Matches reports whether signature is the MAC of message under one of
// secrets. Hex is compared case-insensitively; every secret is tried, so
// the time taken does not tell which one matched.
func (s HMAC) Matches(signature string, message []byte, secrets [][]byte) bool {
	return s.MatchesParts(signature, secrets, message)
}

// MatchesParts is Matches for a message made of parts in order (a
// timestamp, a separator, the body), without copying them into one.
func (s HMAC) MatchesParts(signature string, secrets [][]byte, parts ...[]byte) bool {
	enc, ok := strings.CutPrefix(signature, s.Prefix)
	if !ok || enc == "" {
		return false
	}
	var got []byte
	var err error
	if s.Encoding == Base64 {
		got, err = base64.StdEncoding.DecodeString(enc)
	} else {
		got, err = hex.DecodeString(enc)
	}
	h, herr := s.newHash()
	if err != nil || herr != nil || len(got) != h().Size() {
		return false
	}
	match := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		mac := hmac.New(h, secret)
		for _, p := range parts {
			mac.Write(p)
		}
		if hmac.Equal(got, mac.Sum(nil)) {
			match = true
		}
	}
	return match
}

// Check verifies the signature a request carries in header name (value):
// it must be there, start with the scheme's prefix and match the body under
// one of secrets. Each refusal wraps connectors.ErrUnauthorized and says
// what was wrong; setup is appended to a missing signature's message, to
// tell the sender how to sign (e.g. "give the webhook a secret in
// Bitbucket").
func (s HMAC) Check(name, value string, body []byte, secrets [][]byte, setup string) error {
	switch {
	case value == "" || value == s.Prefix:
		return fmt.Errorf("%w: the %s header is missing or empty; %s", connectors.ErrUnauthorized, name, setup)
	case !strings.HasPrefix(value, s.Prefix):
		return fmt.Errorf("%w: %s must start with %q", connectors.ErrUnauthorized, name, s.Prefix)
	case !s.Matches(value, body, secrets):
		return fmt.Errorf("%w: %s does not match the source's secret", connectors.ErrUnauthorized, name)
	}
	return nil
}
