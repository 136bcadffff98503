package agent

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
)

// forwardSigners sign a forwarded delivery the way a receiver expects:
// they set the headers of the delivery and its signature with secret.
var forwardSigners = map[string]func(h http.Header, d deliveryHeaders, body, secret []byte){
	// github signs as GitHub does, so a GitHub receiver (Flux, Argo
	// Events, Jenkins) verifies it with its own webhook secret.
	"github": func(h http.Header, d deliveryHeaders, body, secret []byte) {
		h.Set("User-Agent", "GitHub-Hookshot/reflex-forward")
		h.Set("X-GitHub-Event", d.typ)
		h.Set("X-GitHub-Delivery", d.id)
		h.Set("X-Hub-Signature-256", "sha256="+hmacHex(secret, body))
	},
	// gitlab authenticates as GitLab does, with the secret token in
	// X-Gitlab-Token (a token, not a signature: the secret travels in the
	// header, inside the network), so a GitLab receiver (Flux, Argo Events,
	// Jenkins) checks it with its own secret token.
	"gitlab": func(h http.Header, d deliveryHeaders, _, secret []byte) {
		h.Set("User-Agent", "GitLab/reflex-forward")
		h.Set("X-Gitlab-Event", d.typ)
		h.Set("X-Gitlab-Event-UUID", d.id)
		h.Set("Idempotency-Key", d.id)
		h.Set("X-Gitlab-Token", string(secret))
	},
	// hmac signs with a plain HMAC-SHA256 of the body.
	"hmac": func(h http.Header, d deliveryHeaders, body, secret []byte) {
		h.Set("X-Reflex-Event", d.typ)
		h.Set("X-Reflex-Delivery", d.id)
		h.Set("X-Reflex-Connector", d.connector)
		h.Set("X-Reflex-Signature-256", "sha256="+hmacHex(secret, body))
	},
}

// deliveryHeaders are what a signer says of the forwarded delivery.
type deliveryHeaders struct{ connector, typ, id string }

func hmacHex(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// errNothingToForward marks a forward action in a job that carries no
// delivery: its trigger does not forward, and another attempt changes
// nothing.
var errNothingToForward = errors.New("the job carries no delivery to forward: its trigger needs forward: true")

// forward hands the job's original delivery, byte for byte, to a receiver
// inside the network, signed with the action's local secret, with the
// provider's delivery id so the receiver can dedupe.
func (r *Runner) forward(ctx context.Context, a *Action, vars Vars, out *boundedBuffer) (int, error) {
	d := r.Delivery
	if d == nil {
		return -1, errNothingToForward
	}
	url, err := vars.expandEscaped(a.URL, urlEscaper(a.URL))
	if err != nil {
		return -1, err
	}
	// The secret is the operator's: never taken from a job parameter.
	secret, err := Vars{Config: vars.Config}.expand(a.Secret)
	if err != nil {
		return -1, fmt.Errorf("secret: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Payload))
	if err != nil {
		return -1, err
	}
	req.Header.Set("Content-Type", "application/json")
	forwardSigners[a.Sign](req.Header, deliveryHeaders{connector: d.Connector, typ: d.Type, id: d.ID}, d.Payload, []byte(secret))
	return r.send(req, a, out, fmt.Sprintf("forward %s %s %s", d.Type, d.ID, url))
}
