package bitbucketserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// signature is Bitbucket's scheme: "sha256=" and the hex HMAC-SHA256 of
// the raw body (HmacSHA256, the default and only algorithm offered).
var signature = schemes.HMAC{Prefix: "sha256="}

// Verify checks X-Hub-Signature against each of the source's secrets in
// constant time. A delivery without a signature (a webhook without a
// secret, or with Basic authentication only) is refused, and so is an
// empty secret.
func (*Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	sig, err := connectors.CredentialHeader(req.Header, HeaderSignature)
	if err != nil {
		return err
	}
	if sig == "" && req.Header.Get("Authorization") != "" {
		return fmt.Errorf("%w: the %s header is missing and Basic authentication is not accepted; give the webhook a secret in Bitbucket", connectors.ErrUnauthorized, HeaderSignature)
	}
	return signature.Check(HeaderSignature, sig, req.Body, secrets, "give the webhook a secret in Bitbucket (HmacSHA256)")
}

// Sign sets X-Hub-Signature as Bitbucket computes it.
func (*Connector) Sign(header http.Header, body, secret []byte) {
	header.Set(HeaderSignature, signature.Sum(body, secret))
}

// Delivery returns the headers Bitbucket Server sends with a delivery, and
// the payload with its eventKey set to typ, as Bitbucket writes it there
// too. A payload that is not a JSON object is returned as it is.
func (*Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("User-Agent", "Atlassian HttpClient 4.2.0 / Bitbucket-9.5.2 (9005002) / Default")
	h.Set(HeaderEvent, typ)
	h.Set(HeaderDelivery, id)
	return h, withEventKey(payload, typ)
}

// withEventKey returns payload with its eventKey field set to typ.
func withEventKey(payload []byte, typ string) []byte {
	var doc map[string]json.RawMessage
	if json.Unmarshal(payload, &doc) != nil || doc == nil {
		return payload
	}
	var current string
	if json.Unmarshal(doc["eventKey"], &current) == nil && current == typ {
		return payload
	}
	doc["eventKey"], _ = json.Marshal(typ)
	out, err := json.Marshal(doc)
	if err != nil {
		return payload
	}
	return out
}

// EventType returns the event key of a recorded delivery: X-Event-Key,
// else the payload's eventKey.
func (*Connector) EventType(h http.Header, payload []byte) string {
	if typ := h.Get(HeaderEvent); typ != "" {
		return typ
	}
	var p struct {
		EventKey string `json:"eventKey"`
	}
	if decode(payload, &p) != nil {
		return ""
	}
	return p.EventKey
}

var _ connectors.Simulator = (*Connector)(nil)
