package quay

import (
	"fmt"
	"mime"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registryv2"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "quay"

// Connector verifies and normalizes the webhook notifications of Quay.io
// and Red Hat Quay. New returns one that confirms nothing with the
// registry.
type Connector struct {
	// confirm holds settings.confirm; nil when the source asks for no
	// confirmation.
	confirm *registryv2.Settings
}

// New returns a Quay connector with the default settings.
func New() connectors.Connector { return &Connector{} }

// Name returns "quay".
func (*Connector) Name() string { return Name }

// TakesPathToken returns true: a Quay notification is only a URL, so the
// source's token is its last segment, /hooks/{source}/{token}.
func (*Connector) TakesPathToken() bool { return true }

// PolicyHeaders returns no header of Quay's own: it sends none that
// describes the delivery.
func (*Connector) PolicyHeaders() []string { return nil }

// Parse decodes a verified delivery, whole, and normalizes it by its
// event type, which Quay does not send: the URL's event parameter names
// it, or else the payload's shape (see the package documentation). A
// repo_push of several tags is a batch of one event per tag.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	var p payload
	if err := connectors.Decode(req.Body, &p); err != nil {
		return nil, fmt.Errorf("%w: the body is not a Quay notification: %v", connectors.ErrMalformed, err)
	}
	typ, err := eventType(&p, req.Query)
	if err != nil {
		return nil, err
	}
	ev := &event.Event{
		ID:         connectors.ContentHash(req.Body),
		IDFrom:     connectors.IDFromContentHash,
		Source:     req.Source,
		Connector:  Name,
		Type:       typ,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if shapes[typ] == shapeBuild || typ == EventBuild {
		// Quay sends the same body for each event of a build (build_start,
		// build_success, …): the event type tells their deliveries apart.
		ev.ID += "." + typ
	}
	events, err := normalize(&p, ev)
	if err != nil {
		return nil, err
	}
	return result(ev, events, req.Body)
}

// checkContentType accepts JSON, the only body Quay sends
// ("Content-type: application/json"), and a delivery without a
// Content-Type.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: cannot read Content-Type %q; Quay sends application/json", connectors.ErrUnsupportedMediaType, ct)
	}
	if mediaType != "application/json" {
		return fmt.Errorf("%w: %q; Quay sends application/json", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PathTokenTaker = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)
