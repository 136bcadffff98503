package artifactory

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// signature is the scheme of a signed delivery: HMAC-SHA256 of the body,
// hex, no prefix.
var signature = schemes.HMAC{}

// Verify checks a delivery the way the source's settings say: the
// HMAC-SHA256 of the body in X-JFrog-Event-Auth (signed), or the secret
// itself in the token header (token), against each of the source's
// secrets in constant time. An empty secret never matches.
func (c *Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	if c.tokenHeader != "" {
		value, err := connectors.CredentialHeader(req.Header, c.tokenHeader)
		if err != nil {
			return err
		}
		if value == "" {
			return fmt.Errorf("%w: the %s header is missing; give the webhook handler the source's secret (with payload signing off), or a custom header %s holding it", connectors.ErrUnauthorized, c.tokenHeader, c.tokenHeader)
		}
		if !schemes.TokenMatches(value, secrets) {
			return fmt.Errorf("%w: the %s header does not match the source's secret", connectors.ErrUnauthorized, c.tokenHeader)
		}
		return nil
	}
	value, err := connectors.CredentialHeader(req.Header, HeaderAuth)
	if err != nil {
		return err
	}
	value = strings.TrimSpace(value)
	err = signature.Check(HeaderAuth, value, req.Body, secrets, "give the webhook handler the source's secret and turn on \"Use secret for payload signing\"")
	if err != nil && schemes.TokenMatches(value, secrets) {
		return fmt.Errorf("%w: %s carries the secret itself, not a signature: turn on \"Use secret for payload signing\" for the webhook handler, or set the source's auth setting to token", connectors.ErrUnauthorized, HeaderAuth)
	}
	return err
}

// Sign sets what Artifactory sends: the HMAC of body with secret in
// X-JFrog-Event-Auth, or, in token mode, secret itself in the token
// header.
func (c *Connector) Sign(header http.Header, body, secret []byte) {
	if c.tokenHeader != "" {
		header.Set(c.tokenHeader, string(secret))
		return
	}
	header.Set(HeaderAuth, signature.Sum(body, secret))
}

// Delivery returns the headers Artifactory sends and payload with typ
// written into it: "domain.event_type" (e.g. "docker.pushed") sets both,
// a bare domain sets the domain. id is not used: Artifactory sends no
// delivery id, so Parse hashes the body. A payload that is not a JSON
// object is returned as it is.
func (*Connector) Delivery(typ, _ string, payload []byte) (http.Header, []byte) {
	h := newHeader()
	return h, connectors.EditMembers(payload, func(doc map[string]json.RawMessage) {
		domain, eventType, both := strings.Cut(typ, ".")
		doc["domain"] = connectors.JSONString(domain)
		if both {
			doc["event_type"] = connectors.JSONString(eventType)
		}
	})
}

// EventType returns the "domain.event_type" of a recorded payload, as
// Delivery takes it; Artifactory sends no event header.
func (*Connector) EventType(_ http.Header, payload []byte) string {
	var p struct {
		Domain    string `json:"domain"`
		EventType string `json:"event_type"`
	}
	if connectors.Decode(payload, &p) != nil || p.Domain == "" {
		return ""
	}
	if p.EventType == "" {
		return p.Domain
	}
	return p.Domain + "." + p.EventType
}

var _ connectors.Simulator = (*Connector)(nil)
