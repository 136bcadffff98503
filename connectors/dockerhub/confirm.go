package dockerhub

import (
	"context"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Confirm asks the registry settings.confirm names (Docker Hub's by
// default) whether the pushed tag exists, through the registry API. It
// returns nil, nil when the source asks for no confirmation or ev is not
// an artifact.published event. Only that registry is ever asked: an image
// the payload places elsewhere is refuted, not fetched, and callback_url
// is never called. cred's username, when empty, is settings.confirm's.
func (c *Connector) Confirm(ctx context.Context, ev *event.Event, cred connectors.Credential) (*event.Confirmation, error) {
	if c.confirm == nil {
		return nil, nil
	}
	return c.confirm.Confirm(ctx, ev, cred)
}

var _ connectors.Confirmer = (*Connector)(nil)
