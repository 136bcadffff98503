package eventbridge

import (
	"fmt"
	"mime"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/awsevents"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "eventbridge"

// Connector verifies and normalizes the deliveries of an EventBridge API
// destination. New returns one with the default settings: an API key in
// the X-Api-Key header.
type Connector struct {
	// header is the canonical name of the API key header; empty when
	// Basic authentication is configured.
	header string
	// username is the Basic user name, with Basic authentication.
	username string
}

// New returns an EventBridge connector that expects the source's secret
// as an API key in the X-Api-Key header.
func New() connectors.Connector { return &Connector{header: DefaultAPIKeyHeader} }

// Name returns "eventbridge".
func (*Connector) Name() string { return Name }

// PolicyHeaders returns no header of EventBridge's own: it sends none
// that describes the event, and the connection's own headers may carry
// its API key, so policies see only the common headers.
func (*Connector) PolicyHeaders() []string { return nil }

// Parse decodes a verified delivery, an EventBridge event, once: its id
// is the delivery id, its detail-type the event type, and the events
// awsevents normalizes are normalized.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	e, err := awsevents.Decode(req.Body)
	if err != nil {
		return nil, err
	}
	if !e.IsEvent() {
		return nil, fmt.Errorf("%w: the body is not an EventBridge event: it has no id or no detail-type; have the rule send the matched event (an input transformer must keep its id and detail-type)", connectors.ErrMalformed)
	}
	if err := connectors.CheckDeliveryID("the event's id", e.ID); err != nil {
		return nil, err
	}
	ev := &event.Event{
		ID:         e.ID,
		Source:     req.Source,
		Connector:  Name,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if err := e.Normalize(ev); err != nil {
		return nil, err
	}
	return &connectors.Result{Event: ev, Payload: req.Body, Checked: true}, nil
}

// checkContentType accepts JSON, which EventBridge sends
// ("application/json; charset=utf-8"), or no Content-Type at all.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: cannot read Content-Type %q; EventBridge sends application/json", connectors.ErrUnsupportedMediaType, ct)
	}
	if mediaType != "application/json" {
		return fmt.Errorf("%w: %q; EventBridge sends application/json", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)
