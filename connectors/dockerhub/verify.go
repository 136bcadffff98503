package dockerhub

import (
	"context"
	"net/http"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// Verify checks the token that ends the delivery's URL
// (/hooks/{source}/{token}) against each of the source's secrets in
// constant time. Docker Hub signs nothing and sends no credential: the URL
// it is given is all that can carry a secret. A token anywhere else, in
// the query string or a header, is not read; an empty secret never
// matches.
func (*Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	return schemes.CheckPathToken(req, secrets, "Docker Hub")
}

// Sign sets nothing: Docker Hub signs nothing, and the source's token
// belongs in the URL the delivery is posted to (/hooks/{source}/{token}),
// which the caller builds, not in a header.
func (*Connector) Sign(http.Header, []byte, []byte) {}

// Delivery returns the headers Docker Hub sends and the payload as it is:
// a Docker Hub webhook carries neither an event type (it is always a
// push) nor a delivery id.
func (*Connector) Delivery(_, _ string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return h, payload
}

// EventType returns "push", the only event Docker Hub sends.
func (*Connector) EventType(http.Header, []byte) string { return EventPush }

var _ connectors.Simulator = (*Connector)(nil)
