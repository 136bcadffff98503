package circleci

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// v1 is CircleCI's v1 signature: the hex HMAC-SHA256 of the body with the
// webhook's secret token, after "v1=" in circleci-signature.
var v1 = schemes.HMAC{}

// The version Reflex checks, and how many entries of circleci-signature it
// reads: CircleCI sends one per version, so a few are plenty, and a
// forged header cannot make Verify compute many MACs.
const (
	signatureVersion = "v1"
	maxSignatures    = 8
)

// Verify checks circleci-signature, a comma-separated list of versioned
// signatures ("v1=<hex>,v2=…"): a v1 entry must be the HMAC-SHA256 of the
// body with one of the source's secrets, compared in constant time. Only
// v1 is read, the only version there is: an entry of another version
// never verifies a delivery, so a version Reflex does not check cannot be
// used to downgrade it. A header without a v1 entry, or without a v1
// entry that matches, is refused; an empty secret never verifies.
func (*Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	value, err := connectors.CredentialHeader(req.Header, HeaderSignature)
	if err != nil {
		return err
	}
	if strings.TrimSpace(value) == "" {
		return fmt.Errorf("%w: the %s header is missing or empty; give the webhook a secret token in CircleCI", connectors.ErrUnauthorized, nameSignature)
	}
	seen, found, match := 0, 0, false
	for entry := range strings.SplitSeq(value, ",") {
		if seen++; seen > maxSignatures {
			break
		}
		version, sig, ok := strings.Cut(strings.TrimSpace(entry), "=")
		if !ok || version != signatureVersion {
			continue
		}
		found++
		if v1.Matches(sig, req.Body, secrets) {
			match = true
		}
	}
	switch {
	case found == 0:
		return fmt.Errorf("%w: %s holds no v1 signature, the only version Reflex checks", connectors.ErrUnauthorized, nameSignature)
	case !match:
		return fmt.Errorf("%w: %s holds no v1 signature by the source's secret", connectors.ErrUnauthorized, nameSignature)
	}
	return nil
}

// Sign sets circleci-signature as CircleCI computes it: "v1=" and the hex
// HMAC-SHA256 of the body.
func (*Connector) Sign(header http.Header, body, secret []byte) {
	header.Set(HeaderSignature, signatureVersion+"="+v1.Sum(body, secret))
}

// userAgent is what CircleCI's deliveries say they come from.
const userAgent = "CircleCI-Webhook/1.0"

// Delivery returns the headers CircleCI sends with a delivery of event
// type typ, and payload with typ and id written as its type and id, where
// CircleCI carries them. A payload that is not a JSON object is returned
// as it is.
func (*Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set(HeaderEventType, typ)
	return h, connectors.EditMembers(payload, func(doc map[string]json.RawMessage) {
		doc["type"], doc["id"] = connectors.JSONString(typ), connectors.JSONString(id)
	})
}

// EventType returns the event type of a recorded delivery: its
// circleci-event-type header, else its payload's type.
func (*Connector) EventType(h http.Header, payload []byte) string {
	if typ := h.Get(HeaderEventType); typ != "" {
		return typ
	}
	var p struct {
		Type string `json:"type"`
	}
	if connectors.Decode(payload, &p) != nil || checkEventType("type", p.Type) != nil {
		return ""
	}
	return p.Type
}

var _ connectors.Simulator = (*Connector)(nil)
