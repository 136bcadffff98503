package github

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/reflexops/reflex/connectors"
)

// Verify checks X-Hub-Signature-256 against each of the source's secrets in
// constant time. The SHA-1 X-Hub-Signature alone is refused, and so is an
// empty secret: unlike go-github's ValidatePayload, there is no fallback and
// no unverified path.
func (*Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	sig, err := connectors.CredentialHeader(req.Header, HeaderSignature)
	if err != nil {
		return err
	}
	if sig == "" {
		if req.Header.Get(HeaderSignature1) != "" {
			return fmt.Errorf("%w: only the SHA-1 %s header was sent; Reflex requires %s (GitHub sends it when the webhook has a secret)", connectors.ErrUnauthorized, HeaderSignature1, HeaderSignature)
		}
		return fmt.Errorf("%w: the %s header is missing; give the webhook a secret in GitHub", connectors.ErrUnauthorized, HeaderSignature)
	}
	if !strings.HasPrefix(sig, "sha256=") {
		return fmt.Errorf("%w: %s must start with \"sha256=\"", connectors.ErrUnauthorized, HeaderSignature)
	}
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		if gh.ValidateSignature(sig, req.Body, secret) == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: %s does not match the source's secret", connectors.ErrUnauthorized, HeaderSignature)
}

// Sign sets X-Hub-Signature-256 as GitHub computes it.
func (*Connector) Sign(header http.Header, body, secret []byte) {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	header.Set(HeaderSignature, "sha256="+hex.EncodeToString(mac.Sum(nil)))
}

// Delivery returns the headers GitHub sends with a JSON delivery, and the
// payload as it is.
func (*Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/reflex-send")
	h.Set(HeaderEvent, typ)
	h.Set(HeaderDelivery, id)
	return h, payload
}

// EventType returns the event type of recorded GitHub headers.
func (*Connector) EventType(h http.Header, _ []byte) string { return h.Get(HeaderEvent) }

var _ connectors.Simulator = (*Connector)(nil)
