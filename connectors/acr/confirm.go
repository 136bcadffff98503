package acr

import (
	"context"
	"net/url"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registryv2"
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
	if c.confirm == nil || ev == nil || ev.Kind != event.KindArtifactPublished || ev.Artifact == nil {
		return nil, nil
	}
	if ev.Artifact.Type != "container" {
		return &event.Confirmation{
			By:     "registry " + registryHost(c.confirm.Registry),
			Detail: "a " + ev.Artifact.Type + " artifact cannot be asked about through the registry API",
			At:     time.Now().UTC(),
		}, nil
	}
	if cred.Username == "" {
		cred.Username = c.confirm.Username
	}
	return registryv2.Confirm(ctx, c.confirm.Registry, ev.Artifact, cred)
}

// registryHost returns the host of a registry's base URL, which
// Configure checked.
func registryHost(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	return u.Host
}

var _ connectors.Confirmer = (*Connector)(nil)
