package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// signingTokenPrefix starts a GitLab signing token, as it starts every
// Standard Webhooks secret.
const signingTokenPrefix = "whsec_"

// Verify proves a delivery genuine. A delivery carrying webhook-signature
// must be signed by one of the source's signing tokens ("whsec_…") within
// the tolerance, whatever its X-Gitlab-Token says: a bad signature is
// refused even beside a right token. A delivery without one must carry an
// X-Gitlab-Token equal to one of the source's other secrets, unless the
// source requires signatures. Secrets are compared in constant time; an
// empty secret or token never matches.
func (c *Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	h := req.Header
	signingTokens, tokens := splitSecrets(secrets)
	switch {
	case signed(h):
		if len(signingTokens) == 0 {
			return fmt.Errorf("%w: the delivery carries %s but none of the source's secrets is a signing token (\"whsec_…\"); add the webhook's signing token to the source", connectors.ErrUnauthorized, schemes.HeaderWebhookSignature)
		}
		return schemes.StandardWebhooks{Tolerance: c.tolerance}.Verify(h, req.Body, signingTokens, req.ReceivedAt)
	case c.requireSignature:
		return fmt.Errorf("%w: the %s header is missing and this source requires signed deliveries (settings.require_signature); give the webhook a signing token in GitLab", connectors.ErrUnauthorized, schemes.HeaderWebhookSignature)
	case len(h.Values(HeaderToken)) == 0:
		return fmt.Errorf("%w: neither the %s nor the %s header is present; give the webhook a secret token or a signing token in GitLab", connectors.ErrUnauthorized, HeaderToken, schemes.HeaderWebhookSignature)
	}
	token, err := connectors.CredentialHeader(h, HeaderToken)
	if err != nil {
		return err
	}
	if token == "" {
		return fmt.Errorf("%w: the %s header is empty; give the webhook a secret token in GitLab", connectors.ErrUnauthorized, HeaderToken)
	}
	if !schemes.TokenMatches(token, tokens) {
		return fmt.Errorf("%w: %s does not match the source's secret token", connectors.ErrUnauthorized, HeaderToken)
	}
	return nil
}

// signed reports whether a delivery takes the signed path: it carries
// webhook-signature (even empty) or its Svix equivalent. Verify then checks
// the signature, and Parse takes the delivery id from the signed
// webhook-id.
func signed(h http.Header) bool {
	return len(h.Values(schemes.HeaderWebhookSignature)) > 0 || schemes.Present(h)
}

// splitSecrets sorts a source's secrets into signing tokens ("whsec_…")
// and secret tokens.
func splitSecrets(secrets [][]byte) (signingTokens, tokens [][]byte) {
	for _, s := range secrets {
		if isSigningToken(s) {
			signingTokens = append(signingTokens, s)
		} else {
			tokens = append(tokens, s)
		}
	}
	return signingTokens, tokens
}

func isSigningToken(secret []byte) bool {
	return strings.HasPrefix(string(secret), signingTokenPrefix)
}

// Sign authenticates a delivery as GitLab does with secret: a signing
// token ("whsec_…") signs it the Standard Webhooks way, with the
// Idempotency-Key as webhook-id and the recorded webhook-timestamp, or now
// when none is recorded; any other secret is sent as X-Gitlab-Token.
func (*Connector) Sign(h http.Header, body, secret []byte) {
	if !isSigningToken(secret) {
		h.Set(HeaderToken, string(secret))
		return
	}
	id := h.Get(HeaderIdempotencyKey)
	for _, name := range []string{schemes.HeaderWebhookID, HeaderEventUUID} {
		if id == "" {
			id = h.Get(name)
		}
	}
	if id == "" {
		id = connectors.ContentHash(body)
	}
	at := time.Now()
	if ts, err := strconv.ParseInt(h.Get(schemes.HeaderWebhookTimestamp), 10, 64); err == nil {
		at = time.Unix(ts, 0)
	}
	schemes.Sign(h, id, at, body, secret)
}

// Delivery returns the headers GitLab sends with a delivery of event type
// typ (Event.Type, such as "push", or the X-Gitlab-Event value itself) and
// the payload as it is: its object_kind is the payload's own.
func (*Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitLab/reflex-send")
	h.Set(HeaderEvent, headerOf(typ))
	h.Set(HeaderIdempotencyKey, id)
	return h, payload
}

// EventType returns the X-Gitlab-Event of a recorded delivery, or the one
// its payload's object_kind stands for when the header was not recorded.
func (*Connector) EventType(h http.Header, payload []byte) string {
	if v := h.Get(HeaderEvent); v != "" {
		return v
	}
	var p struct {
		ObjectKind string `json:"object_kind"`
	}
	if decode(payload, &p) != nil || !isSlug(p.ObjectKind) {
		return ""
	}
	return headerOf(p.ObjectKind)
}

var _ connectors.Simulator = (*Connector)(nil)
