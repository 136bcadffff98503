package acr

import (
	"context"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Confirm asks the registry settings.confirm names whether the pushed
// image exists, with the digest the event names, through the registry
// API. It returns nil, nil when the source asks for no confirmation or ev
// is not an artifact.published event. A Helm chart pushed to the
// registry's legacy chart repositories (chart_push) is not served by that
// API: it is refuted without asking. Only that registry is ever asked: an
// image the payload places on another host is refuted, not fetched.
// cred's username, when empty, is settings.confirm's.
func (c *Connector) Confirm(ctx context.Context, ev *event.Event, cred connectors.Credential) (*event.Confirmation, error) {
	if c.confirm == nil {
		return nil, nil
	}
	return c.confirm.Confirm(ctx, ev, cred)
}

var _ connectors.Confirmer = (*Connector)(nil)
