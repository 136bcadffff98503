package quay

import (
	"context"
	"net/http"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// Verify checks the token that ends the delivery's URL
// (/hooks/{source}/{token}) against each of the source's secrets in
// constant time. Quay signs nothing and sends no credential: a webhook
// notification is only a URL. A token anywhere else, in the query string
// or a header, is not read; an empty secret never matches.
func (*Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	return schemes.CheckPathToken(req, secrets, "Quay")
}

// Sign sets nothing: Quay signs nothing, and the source's token belongs
// in the URL the delivery is posted to (/hooks/{source}/{token}), which
// the caller builds, not in a header.
func (*Connector) Sign(http.Header, []byte, []byte) {}

// Delivery returns the header Quay sends and the payload as it is: a
// Quay notification carries neither its event type nor a delivery id,
// whatever typ and id are.
func (*Connector) Delivery(_, _ string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return h, payload
}

// EventType returns the event type a recorded payload's shape gives (see
// the package documentation), "" when it is not a Quay notification.
func (*Connector) EventType(_ http.Header, body []byte) string {
	var p payload
	if connectors.Decode(body, &p) != nil {
		return ""
	}
	typ, err := eventType(&p, nil)
	if err != nil {
		return ""
	}
	return typ
}

var _ connectors.Simulator = (*Connector)(nil)
