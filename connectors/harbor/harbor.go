package harbor

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "harbor"

// Connector verifies and normalizes Harbor webhook notifications. Its
// zero value is ready to use.
type Connector struct{}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)

// New returns a Harbor connector.
func New() connectors.Connector { return &Connector{} }

// Name returns "harbor".
func (*Connector) Name() string { return Name }

// PolicyHeaders returns no header of Harbor's own: it sends none that
// describes the notification, and its Authorization header is the secret.
func (*Connector) PolicyHeaders() []string { return nil }

// Parse decodes a verified notification, in either payload format, once,
// and normalizes it: one event, or a batch of one event per resource when
// it names several.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	cloudEvent, err := formatOf(req.Header)
	if err != nil {
		return nil, err
	}
	var p payload
	if err := connectors.Decode(req.Body, &p); err != nil {
		return nil, fmt.Errorf("%w: the body is not a Harbor notification: %v", connectors.ErrMalformed, err)
	}
	if err := checkEventType(p.Type); err != nil {
		return nil, err
	}
	base := event.Event{
		Source:     req.Source,
		Connector:  Name,
		Type:       p.Type,
		Actor:      p.Operator,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	data := p.EventData
	if cloudEvent || p.SpecVersion != "" {
		if err := checkCloudEvent(&p); err != nil {
			return nil, err
		}
		base.ID, data = p.ID, p.Data
	} else {
		base.ID, base.IDFrom = connectors.ContentHash(req.Body), connectors.IDFromContentHash
	}
	events, err := normalize(&base, data)
	if err != nil {
		return nil, err
	}
	if len(events) == 1 {
		return &connectors.Result{Event: events[0], Payload: req.Body, Checked: true}, nil
	}
	batch := make([]*connectors.Result, len(events))
	for i, ev := range events {
		ev.ID += "." + strconv.Itoa(i+1)
		batch[i] = &connectors.Result{Event: ev, Payload: req.Body, Checked: true}
	}
	return &connectors.Result{Batch: batch}, nil
}

// The media types of Harbor's two payload formats.
const (
	mediaJSON        = "application/json"
	mediaCloudEvents = "application/cloudevents+json"
)

// contentTypes names what Harbor sends, for errors.
const contentTypes = "Harbor sends application/json (Default format) or application/cloudevents+json (CloudEvents format)"

// formatOf reads the Content-Type: whether the body is a structured
// CloudEvent. A missing Content-Type is read as Default JSON (a body with
// specversion is still read as a CloudEvent).
func formatOf(h http.Header) (cloudEvent bool, err error) {
	ct := h.Get("Content-Type")
	if ct == "" {
		return false, nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false, fmt.Errorf("%w: cannot read Content-Type %q; %s", connectors.ErrUnsupportedMediaType, ct, contentTypes)
	}
	switch mediaType {
	case mediaJSON:
		return false, nil
	case mediaCloudEvents:
		return true, nil
	case "application/cloudevents-batch+json":
		return false, fmt.Errorf("%w: a batch of CloudEvents, which Harbor does not send; for other senders use the cloudevents connector", connectors.ErrUnsupportedMediaType)
	}
	return false, fmt.Errorf("%w: %q; %s", connectors.ErrUnsupportedMediaType, mediaType, contentTypes)
}

// maxEventTypeSize bounds the type; Harbor's longest is about 40
// characters ("harbor.replication.status.changed").
const maxEventTypeSize = 64

// checkEventType accepts the shape of Harbor's types in both formats:
// PUSH_ARTIFACT, harbor.artifact.pushed.
func checkEventType(typ string) error {
	return connectors.CheckValue("the payload's type", typ, maxEventTypeSize, func(i int, r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			(i > 0 && (r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-'))
	}, "letters, digits, '_', '.' and '-', starting with a letter")
}

// checkCloudEvent checks the attributes of a CloudEvents-format
// notification: specversion 1.0 and an id, which is the delivery id.
func checkCloudEvent(p *payload) error {
	if p.SpecVersion != "1.0" {
		return fmt.Errorf("%w: the CloudEvent's specversion is %q, not 1.0", connectors.ErrMalformed, p.SpecVersion)
	}
	return connectors.CheckDeliveryID("the CloudEvent's id", p.ID)
}
