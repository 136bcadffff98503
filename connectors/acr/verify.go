package acr

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// Verify checks the whole value of the header that carries the secret
// (Authorization, or settings.header) against each of the source's
// secrets in constant time. Azure Container Registry signs nothing: a
// webhook's custom headers are the only place a secret can travel. An
// empty secret never matches.
func (c *Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	name := c.secretHeader()
	value, err := connectors.CredentialHeader(req.Header, name)
	if err != nil {
		return err
	}
	if value == "" {
		return fmt.Errorf("%w: the %s header is missing; give the webhook the custom header %s holding the source's secret (az acr webhook create --headers \"%s=<secret>\")", connectors.ErrUnauthorized, name, name, name)
	}
	if !schemes.TokenMatches(value, secrets) {
		return fmt.Errorf("%w: the %s header does not match the source's secret (its whole value is compared)", connectors.ErrUnauthorized, name)
	}
	return nil
}

// Sign sets the custom header a webhook sends, holding secret as it is.
func (c *Connector) Sign(header http.Header, _, secret []byte) {
	header.Set(c.secretHeader(), string(secret))
}

// Delivery returns the header the registry sends and the payload with
// typ and id written into it, as action and id. A payload that is not a
// JSON object is returned as it is.
func (*Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return h, connectors.EditMembers(payload, func(doc map[string]json.RawMessage) {
		doc["action"], doc["id"] = connectors.JSONString(typ), connectors.JSONString(id)
	})
}

// EventType returns the action of a recorded payload.
func (*Connector) EventType(_ http.Header, body []byte) string {
	var p struct {
		Action string `json:"action"`
	}
	if connectors.Decode(body, &p) != nil {
		return ""
	}
	return p.Action
}

var _ connectors.Simulator = (*Connector)(nil)
