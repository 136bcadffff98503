package buildkite

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// mac is Buildkite's signature: the hex HMAC-SHA256 of
// "<timestamp>.<body>" with the webhook's token.
var mac = schemes.HMAC{}

// The parts of X-Buildkite-Signature, and how many comma-separated
// entries Verify reads: Buildkite sends two.
const (
	partTimestamp = "timestamp"
	partSignature = "signature"
	maxParts      = 8
)

// maxTimestampDigits bounds the signed timestamp; seconds since 1970 have
// 10 digits until 2286.
const maxTimestampDigits = 19

// Verify proves a delivery genuine by the one credential Buildkite sends,
// as the webhook's Token setting chooses:
//
//   - X-Buildkite-Signature, "timestamp=<unix seconds>,signature=<hex>":
//     the signature must be the HMAC-SHA256 of "<timestamp>.<body>" with
//     one of the source's secrets (the webhook's token), compared in
//     constant time, and the timestamp, the time Buildkite dispatched the
//     request, must lie within the tolerance of the receive time
//     (settings.tolerance, default 5m): a stale or future one is refused
//     with connectors.ErrStale.
//   - X-Buildkite-Token: the token itself, compared in constant time with
//     the source's secrets, unless settings.require_signature refuses
//     deliveries that are not signed.
//
// A delivery with both headers, or neither, is refused, and so is one
// that repeats either; an empty secret never verifies.
func (c *Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	sigs, tokens := req.Header.Values(HeaderSignature), req.Header.Values(HeaderToken)
	switch {
	case len(sigs) > 0 && len(tokens) > 0:
		return fmt.Errorf("%w: the delivery carries both %s and %s; Buildkite sends one, as the webhook's Token setting chooses", connectors.ErrUnauthorized, HeaderSignature, HeaderToken)
	case len(sigs) > 1 || len(tokens) > 1:
		return fmt.Errorf("%w: %s or %s is sent more than once", connectors.ErrUnauthorized, HeaderSignature, HeaderToken)
	case len(sigs) == 1:
		return c.verifySignature(sigs[0], req, secrets)
	case c.requireSignature:
		return fmt.Errorf("%w: the %s header is missing and this source requires signed deliveries (settings.require_signature); set the webhook's Token to be sent as X-Buildkite-Signature in Buildkite", connectors.ErrUnauthorized, HeaderSignature)
	case len(tokens) == 0:
		return fmt.Errorf("%w: neither the %s nor the %s header is present; give the webhook a token in Buildkite", connectors.ErrUnauthorized, HeaderSignature, HeaderToken)
	case tokens[0] == "":
		return fmt.Errorf("%w: the %s header is empty", connectors.ErrUnauthorized, HeaderToken)
	case !schemes.TokenMatches(tokens[0], secrets):
		return fmt.Errorf("%w: %s does not match the source's token", connectors.ErrUnauthorized, HeaderToken)
	}
	return nil
}

// verifySignature checks an X-Buildkite-Signature value: its timestamp
// against the receive time first (it costs nothing), then its signature.
func (c *Connector) verifySignature(value string, req *connectors.Request, secrets [][]byte) error {
	ts, sig, err := splitSignature(value)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > maxTimestampDigits || strings.Trim(ts, "0123456789") != "" {
		return fmt.Errorf("%w: the timestamp of %s must be whole seconds since 1970", connectors.ErrUnauthorized, HeaderSignature)
	}
	if err := connectors.CheckTimestamp("the timestamp of "+HeaderSignature, n, req.ReceivedAt, c.tolerance); err != nil {
		return err
	}
	if !mac.MatchesParts(sig, secrets, []byte(ts), dot, req.Body) {
		return fmt.Errorf("%w: the signature of %s does not match the source's token", connectors.ErrUnauthorized, HeaderSignature)
	}
	return nil
}

// splitSignature returns the timestamp and signature parts of an
// X-Buildkite-Signature value; each must be there once. Other parts are
// ignored.
func splitSignature(value string) (ts, sig string, err error) {
	var nts, nsig, seen int
	for part := range strings.SplitSeq(value, ",") {
		if seen++; seen > maxParts {
			break
		}
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case partTimestamp:
			ts, nts = v, nts+1
		case partSignature:
			sig, nsig = v, nsig+1
		}
	}
	switch {
	case nts != 1 || ts == "":
		return "", "", fmt.Errorf("%w: %s must hold one timestamp=<unix seconds>", connectors.ErrUnauthorized, HeaderSignature)
	case nsig != 1 || sig == "":
		return "", "", fmt.Errorf("%w: %s must hold one signature=<hex>", connectors.ErrUnauthorized, HeaderSignature)
	}
	return ts, sig, nil
}

// dot separates the timestamp from the body in what Buildkite signs.
var dot = []byte{'.'}

// signedContent returns what Buildkite signs: "<timestamp>.<body>".
func signedContent(ts string, body []byte) []byte {
	msg := make([]byte, 0, len(ts)+1+len(body))
	msg = append(msg, ts...)
	msg = append(msg, '.')
	return append(msg, body...)
}

// HeaderRecordedTimestamp is where a recorded delivery (a fixture) keeps
// the timestamp of the X-Buildkite-Signature it was recorded with, since
// the signature header itself is never recorded. It is no header of
// Buildkite's: Sign reads it and removes it, and a test that replays a
// fixture now drops it (its name says Timestamp) to be signed now.
const HeaderRecordedTimestamp = "X-Recorded-Signature-Timestamp"

// Sign authenticates a delivery as Buildkite does with secret, the
// webhook's token. Headers that hold X-Buildkite-Token (recorded empty,
// as a fixture of a webhook in token mode records it) get the token
// there. Others get X-Buildkite-Signature, signed at the time
// HeaderRecordedTimestamp holds, else now.
func (*Connector) Sign(header http.Header, body, secret []byte) {
	recorded := header.Get(HeaderRecordedTimestamp)
	header.Del(HeaderRecordedTimestamp)
	if len(header.Values(HeaderToken)) > 0 {
		header.Set(HeaderToken, string(secret))
		return
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	if _, err := strconv.ParseUint(recorded, 10, 63); err == nil {
		ts = recorded
	}
	header.Set(HeaderSignature, partTimestamp+"="+ts+","+partSignature+"="+mac.Sum(signedContent(ts, body), secret))
}

// userAgent is what a simulated delivery says it comes from: Buildkite's
// own User-Agent is not documented.
const userAgent = "Buildkite-Webhook (reflex send)"

// Delivery returns the headers Buildkite sends with a delivery of event
// type typ, and payload with typ written as its event, where Buildkite
// carries it too; a payload that is not a JSON object is returned as it
// is. Buildkite sends no delivery id, so id is not used: the delivery's
// id is the hash of its body. Sign adds the signature.
func (*Connector) Delivery(typ, _ string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set(HeaderEvent, typ)
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(payload, &doc); err != nil || doc == nil {
		return h, payload
	}
	quoted, _ := json.Marshal(typ)
	doc["event"] = quoted
	body, err := json.Marshal(doc)
	if err != nil {
		return h, payload
	}
	return h, body
}

// EventType returns the event type of a recorded delivery: its
// X-Buildkite-Event, else its payload's event.
func (*Connector) EventType(h http.Header, payload []byte) string {
	if typ := h.Get(HeaderEvent); typ != "" {
		return typ
	}
	var p struct {
		Event string `json:"event"`
	}
	if connectors.Decode(payload, &p) != nil || checkEventType("event", p.Event) != nil {
		return ""
	}
	return p.Event
}

var _ connectors.Simulator = (*Connector)(nil)
