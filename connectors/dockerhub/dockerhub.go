package dockerhub

import (
	"fmt"
	"mime"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registryv2"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "dockerhub"

// EventPush is Event.Type of every Docker Hub delivery: a webhook is sent
// for pushes only, and names no event type of its own.
const EventPush = "push"

// Connector verifies and normalizes Docker Hub repository webhooks. New
// returns one that confirms nothing with the registry.
type Connector struct {
	// confirm holds settings.confirm; nil when the source asks for no
	// confirmation.
	confirm *registryv2.Settings
}

// New returns a Docker Hub connector with the default settings.
func New() connectors.Connector { return &Connector{} }

// Name returns "dockerhub".
func (*Connector) Name() string { return Name }

// TakesPathToken returns true: Docker Hub can only be given a URL, so the
// source's token is its last segment, /hooks/{source}/{token}.
func (*Connector) TakesPathToken() bool { return true }

// PolicyHeaders returns no header of Docker Hub's own: it sends none that
// describes the delivery.
func (*Connector) PolicyHeaders() []string { return nil }

// Parse decodes a verified delivery, whole, into the artifact.published
// event of the tag it pushed. Docker Hub sends no delivery id: the SHA-256
// of the body stands in for one.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	var p pushPayload
	if err := connectors.Decode(req.Body, &p); err != nil {
		return nil, fmt.Errorf("%w: the body is not a Docker Hub push payload: %v", connectors.ErrMalformed, err)
	}
	ev := &event.Event{
		ID:         connectors.ContentHash(req.Body),
		IDFrom:     connectors.IDFromContentHash,
		Source:     req.Source,
		Connector:  Name,
		Type:       EventPush,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if err := normalize(&p, ev); err != nil {
		return nil, err
	}
	return &connectors.Result{Event: ev, Payload: req.Body, Checked: true}, nil
}

// checkContentType accepts JSON, the only body Docker Hub sends, and a
// delivery without a Content-Type, which Docker Hub does not document.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: cannot read Content-Type %q; Docker Hub sends application/json", connectors.ErrUnsupportedMediaType, ct)
	}
	if mediaType != "application/json" {
		return fmt.Errorf("%w: %q; Docker Hub sends application/json", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PathTokenTaker = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)
