package bitbucketserver

import (
	"fmt"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "bitbucket-server"

// The headers Bitbucket Server and Data Center send with every delivery.
const (
	HeaderEvent     = "X-Event-Key"
	HeaderDelivery  = "X-Request-Id"
	HeaderSignature = "X-Hub-Signature"
)

// pingEvent is the event key of the "Test connection" request.
const pingEvent = "diagnostics:ping"

// Connector verifies and normalizes Bitbucket Server and Data Center
// webhook deliveries. Its zero value is ready to use.
type Connector struct{}

// New returns a Bitbucket Server connector.
func New() connectors.Connector { return &Connector{} }

// Name returns "bitbucket-server".
func (*Connector) Name() string { return Name }

// policyHeaders are the descriptive headers Bitbucket Server sends beside
// the common ones (X-Request-Id is one of those).
var policyHeaders = []string{HeaderEvent}

// PolicyHeaders returns Bitbucket Server's descriptive headers, which
// policies may see. The slice is shared: callers must not change it.
func (*Connector) PolicyHeaders() []string { return policyHeaders }

// Parse decodes a verified delivery: its event key, its delivery id (the
// body's SHA-256 when X-Request-Id is absent) and the normalized event,
// or a batch of events for a push of several refs. A diagnostics:ping is
// reported as a ping and not normalized.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	typ := req.Header.Get(HeaderEvent)
	if err := checkEventType(typ); err != nil {
		return nil, err
	}
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	id, idFrom := req.Header.Get(HeaderDelivery), ""
	if id == "" {
		id, idFrom = connectors.ContentHash(req.Body), connectors.IDFromContentHash
	} else if err := connectors.CheckDeliveryID("the "+HeaderDelivery+" header", id); err != nil {
		return nil, err
	}
	if typ == pingEvent {
		// What the test request carries is not documented; it is answered
		// whatever its body, which nothing reads.
		return &connectors.Result{Ping: true, Payload: req.Body}, nil
	}
	ev := &event.Event{
		ID:         id,
		IDFrom:     idFrom,
		Source:     req.Source,
		Connector:  Name,
		Type:       typ,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	events, err := normalize(typ, req.Body, ev)
	if err != nil {
		return nil, err
	}
	return result(ev, events, req.Body)
}

// maxEventTypeSize bounds X-Event-Key; the longest known is about 30.
const maxEventTypeSize = 64

// checkEventType accepts the shape of Bitbucket's event keys: lower-case
// words joined by ':' and '_', e.g. "pr:reviewer:approved".
func checkEventType(typ string) error {
	return connectors.CheckHeader(HeaderEvent, typ, maxEventTypeSize, func(i int, r rune) bool {
		return r >= 'a' && r <= 'z' || (i > 0 && (r >= '0' && r <= '9' || r == '_' || r == ':'))
	}, "lower-case letters, digits, '_' and ':', starting with a letter")
}

// checkContentType accepts JSON, which Bitbucket sends as
// "application/json; charset=utf-8".
func checkContentType(ct string) error {
	if ct == "" {
		return fmt.Errorf("%w: the Content-Type header is missing; Bitbucket sends application/json", connectors.ErrUnsupportedMediaType)
	}
	// Only the media type matters; its parameters (a charset) are not read.
	mediaType, _, _ := strings.Cut(ct, ";")
	if mediaType = strings.TrimSpace(mediaType); !strings.EqualFold(mediaType, "application/json") {
		return fmt.Errorf("%w: %q; Bitbucket sends application/json", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}

// malformed wraps a JSON decoding error of one event type.
func malformed(typ string, err error) error {
	return fmt.Errorf("%w: the %s payload is not valid JSON of the expected shape: %v", connectors.ErrMalformed, typ, err)
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)
