package buildkite

import (
	"fmt"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "buildkite"

// The headers Buildkite sends with a delivery: the event type, and either
// the signature or the token, as the webhook's Token setting chooses.
const (
	HeaderEvent     = "X-Buildkite-Event"
	HeaderSignature = "X-Buildkite-Signature"
	HeaderToken     = "X-Buildkite-Token"
)

// pingEvent is the event type Buildkite sends when a webhook's settings
// change.
const pingEvent = "ping"

// DefaultTolerance is how far the timestamp of X-Buildkite-Signature may
// lie from the receive time, either way, unless settings.tolerance says
// otherwise: the window Buildkite's documentation gives as an example.
const DefaultTolerance = 5 * time.Minute

// Connector verifies and normalizes Buildkite Pipelines webhook
// deliveries. New returns one with the default settings.
type Connector struct {
	// tolerance bounds the signed timestamp's distance from the receive
	// time.
	tolerance time.Duration
	// requireSignature refuses deliveries that carry the token only.
	requireSignature bool
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)

// New returns a Buildkite connector with the default settings.
func New() connectors.Connector { return &Connector{tolerance: DefaultTolerance} }

// Name returns "buildkite".
func (*Connector) Name() string { return Name }

// policyHeaders are Buildkite's descriptive headers beside the common
// ones: the event type (the others are credentials).
var policyHeaders = []string{HeaderEvent}

// PolicyHeaders returns Buildkite's descriptive headers, which policies
// may see. The slice is shared: callers must not change it.
func (*Connector) PolicyHeaders() []string { return policyHeaders }

// Parse decodes a verified delivery: its event type (X-Buildkite-Event,
// which the payload's event must agree with), its delivery id (the hash of
// the body: Buildkite sends none) and the normalized event. A ping is
// reported as a ping.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	typ := req.Header.Get(HeaderEvent)
	if err := checkEventType("the "+HeaderEvent+" header", typ); err != nil {
		return nil, err
	}
	if err := checkContentType(req.Header.Values("Content-Type")); err != nil {
		return nil, err
	}
	var p payload
	if err := connectors.Decode(req.Body, &p); err != nil {
		return nil, fmt.Errorf("%w: the %s payload is not valid JSON of the expected shape: %v", connectors.ErrMalformed, typ, err)
	}
	if p.Event != "" && p.Event != typ {
		return nil, fmt.Errorf("%w: the %s header and the payload's event differ; Buildkite sends the same event in both", connectors.ErrMalformed, HeaderEvent)
	}
	if typ == pingEvent {
		return &connectors.Result{Ping: true, Payload: req.Body, Checked: true}, nil
	}
	ev := &event.Event{
		ID:         connectors.ContentHash(req.Body),
		IDFrom:     connectors.IDFromContentHash,
		Source:     req.Source,
		Connector:  Name,
		Type:       typ,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	normalize(typ, &p, ev)
	return &connectors.Result{Event: ev, Payload: req.Body, Checked: true}, nil
}

// maxEventTypeSize bounds X-Buildkite-Event; Buildkite's longest,
// cluster_token.registration_blocked, has 34 characters.
const maxEventTypeSize = 64

// checkEventType accepts the shape of Buildkite's event types: lower-case
// words joined by '.' and '_'.
func checkEventType(what, typ string) error {
	return connectors.CheckValue(what, typ, maxEventTypeSize, func(i int, r rune) bool {
		return r >= 'a' && r <= 'z' || (i > 0 && (r >= '0' && r <= '9' || r == '.' || r == '_'))
	}, "lower-case letters, digits, '.' and '_', starting with a letter")
}

// checkContentType accepts application/json, or no Content-Type at all:
// Buildkite's documentation does not say which it sends (UNCONFIRMED), and
// the body is checked as JSON whatever it says. Any other type is refused.
func checkContentType(values []string) error {
	if len(values) == 0 || values[0] == "" {
		return nil
	}
	mediaType, _, _ := strings.Cut(values[0], ";")
	if mediaType = strings.TrimSpace(mediaType); !strings.EqualFold(mediaType, "application/json") {
		return fmt.Errorf("%w: %q; Buildkite sends JSON (application/json)", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}
