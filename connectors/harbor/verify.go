package harbor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// setup tells the sender how to authenticate, for errors.
const setup = "set the webhook policy's Auth Header in Harbor, and the source's secret to the same whole value"

// Verify compares the Authorization header, whole, with each of the
// source's secrets in constant time: Harbor sends its policy's Auth
// Header value as it is, and signs nothing. An empty secret never
// matches, and a delivery with several Authorization headers is refused.
func (*Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	values := req.Header.Values("Authorization")
	switch {
	case len(values) == 0 || values[0] == "":
		return fmt.Errorf("%w: the Authorization header is missing; %s", connectors.ErrUnauthorized, setup)
	case len(values) > 1:
		return fmt.Errorf("%w: the delivery has %d Authorization headers; Harbor sends one", connectors.ErrUnauthorized, len(values))
	case !schemes.TokenMatches(values[0], secrets):
		return fmt.Errorf("%w: the Authorization header does not match the source's secret (the whole Auth Header value of the webhook policy)", connectors.ErrUnauthorized)
	}
	return nil
}

// Sign sets the Authorization header Harbor sends: the policy's Auth
// Header value, secret, as it is.
func (*Connector) Sign(header http.Header, _, secret []byte) {
	header.Set("Authorization", string(secret))
}

// userAgent is what Harbor's job service sends as User-Agent.
const userAgent = "Go-http-client/1.1"

// Delivery returns the headers Harbor sends and payload with typ written
// as its type. A CloudEvents-format payload (one with specversion) also
// gets id as its id and the CloudEvents media type; a Default-format one
// has no id (Parse hashes the body). A payload that is not a JSON object
// is returned as it is.
func (*Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", mediaJSON)
	h.Set("User-Agent", userAgent)
	return h, connectors.EditMembers(payload, func(doc map[string]json.RawMessage) {
		doc["type"] = connectors.JSONString(typ)
		if _, ce := doc["specversion"]; ce {
			h.Set("Content-Type", mediaCloudEvents)
			doc["id"] = connectors.JSONString(id)
		}
	})
}

// EventType returns the type of a recorded payload; Harbor sends no event
// header.
func (*Connector) EventType(_ http.Header, payload []byte) string {
	var p struct {
		Type string `json:"type"`
	}
	if connectors.Decode(payload, &p) != nil {
		return ""
	}
	return p.Type
}

var _ connectors.Simulator = (*Connector)(nil)
