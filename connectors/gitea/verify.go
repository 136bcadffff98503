package gitea

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// The two encodings of the same HMAC-SHA256 of the body: bare lower-case
// hex (X-Gitea-Signature and its copies) and GitHub's "sha256=" prefixed
// form (X-Hub-Signature-256).
var (
	bareHex = schemes.HMAC{}
	hub256  = schemes.HMAC{Prefix: "sha256="}
)

// signatureHeaders are the headers Verify reads, first present first; the
// GitHub-style one only when none of the others was sent.
var signatureHeaders = []struct {
	name   string
	scheme schemes.HMAC
}{
	{HeaderForgejoSignature, bareHex},
	{HeaderSignature, bareHex},
	{HeaderGogsSignature, bareHex},
	{HeaderHubSignature256, hub256},
}

// Verify checks the first signature header present against each of the
// source's secrets in constant time. A header present but empty (or
// X-Hub-Signature-256 holding only "sha256=") is what a webhook without a
// secret sends, and is refused as unsigned; an empty secret never
// verifies. Gitea signs the JSON payload, which a form-encoded delivery
// carries in its payload field: that field, the very bytes Parse reads,
// is what the signature must match then.
func (*Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	for _, sh := range signatureHeaders {
		values := req.Header.Values(sh.name)
		if len(values) == 0 {
			continue
		}
		sig, err := connectors.CredentialHeader(req.Header, sh.name)
		if err != nil {
			return err
		}
		if sig == "" || sig == sh.scheme.Prefix {
			return fmt.Errorf("%w: the delivery is unsigned (%s is empty): give the webhook a secret in Gitea", connectors.ErrUnauthorized, sh.name)
		}
		if !strings.HasPrefix(sig, sh.scheme.Prefix) {
			return fmt.Errorf("%w: %s must start with %q", connectors.ErrUnauthorized, sh.name, sh.scheme.Prefix)
		}
		signed, err := signedContent(req)
		if err != nil {
			return err
		}
		if !sh.scheme.Matches(sig, signed, secrets) {
			return fmt.Errorf("%w: %s does not match the source's secret", connectors.ErrUnauthorized, sh.name)
		}
		return nil
	}
	return fmt.Errorf("%w: the %s header is missing (nor %s, %s or %s was sent); give the webhook a secret in Gitea",
		connectors.ErrUnauthorized, HeaderSignature, HeaderForgejoSignature, HeaderGogsSignature, HeaderHubSignature256)
}

// signedContent returns what Gitea signs: the body, or a form-encoded
// body's payload field. A form without one is refused as malformed.
func signedContent(req *connectors.Request) ([]byte, error) {
	if !isForm(req.Header) {
		return req.Body, nil
	}
	return formPayload(req.Body)
}

// Sign sets the signature headers as Gitea computes them: X-Gitea-Signature,
// X-Gogs-Signature and X-Hub-Signature-256, and X-Forgejo-Signature too
// when the headers are Forgejo's (they hold X-Forgejo-Event). Gitea signs
// the JSON payload: for a form-encoded body (the header's Content-Type
// says so), that is its payload field, not the body.
func (*Connector) Sign(header http.Header, body, secret []byte) {
	if isForm(header) {
		if payload, err := formPayload(body); err == nil {
			body = payload
		}
	}
	sum := bareHex.Sum(body, secret)
	header.Set(HeaderSignature, sum)
	header.Set(HeaderGogsSignature, sum)
	header.Set(HeaderHubSignature256, hub256.Prefix+sum)
	if len(header.Values(HeaderForgejoEvent)) > 0 {
		header.Set(HeaderForgejoSignature, sum)
	}
}

// Delivery returns the headers Gitea sends with a JSON delivery, and the
// payload as it is. Gitea's client sends Go's default User-Agent.
func (*Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Go-http-client/1.1")
	h.Set(HeaderEvent, typ)
	h.Set(HeaderEventType, typ)
	h.Set(HeaderDelivery, id)
	return h, payload
}

// EventType returns the event type of recorded Gitea or Forgejo headers.
func (*Connector) EventType(h http.Header, _ []byte) string {
	_, typ := firstHeader(h, eventHeaders)
	return typ
}

var _ connectors.Simulator = (*Connector)(nil)
