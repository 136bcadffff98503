package bitbucket

import (
	"fmt"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "bitbucket"

// The headers Bitbucket Cloud sends with every delivery.
const (
	HeaderEvent     = "X-Event-Key"
	HeaderDelivery  = "X-Request-UUID"
	HeaderHook      = "X-Hook-UUID"
	HeaderAttempt   = "X-Attempt-Number"
	HeaderSignature = "X-Hub-Signature"
)

// Connector verifies and normalizes Bitbucket Cloud webhook deliveries.
// Its zero value is ready to use.
type Connector struct{}

// New returns a Bitbucket Cloud connector.
func New() connectors.Connector { return &Connector{} }

// Name returns "bitbucket".
func (*Connector) Name() string { return Name }

// policyHeaders are Bitbucket's descriptive headers: the event, the
// request, the webhook and the attempt.
var policyHeaders = []string{HeaderEvent, HeaderDelivery, HeaderHook, HeaderAttempt}

// PolicyHeaders returns Bitbucket's descriptive headers, which policies
// may see. The slice is shared: callers must not change it.
func (*Connector) PolicyHeaders() []string { return policyHeaders }

// Parse decodes a verified delivery: its event key, its delivery id (the
// body's SHA-256 when X-Request-UUID is absent) and the normalized event,
// or a batch of events for a push of several refs.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	typ := req.Header.Get(HeaderEvent)
	if err := checkEventType(typ); err != nil {
		return nil, err
	}
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	ev := &event.Event{
		ID:         req.Header.Get(HeaderDelivery),
		Source:     req.Source,
		Connector:  Name,
		Type:       typ,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if ev.ID == "" {
		ev.ID, ev.IDFrom = connectors.ContentHash(req.Body), connectors.IDFromContentHash
	} else if err := connectors.CheckDeliveryID("the "+HeaderDelivery+" header", ev.ID); err != nil {
		return nil, err
	}
	events, err := normalize(typ, req.Body, ev)
	if err != nil {
		return nil, err
	}
	return result(ev, events, req.Body)
}

// maxEventTypeSize bounds X-Event-Key; Bitbucket's longest is about 40.
const maxEventTypeSize = 64

// checkEventType accepts the shape of Bitbucket's event keys: lower-case
// words joined by ':' and '_', e.g. "repo:commit_status_updated".
func checkEventType(typ string) error {
	return connectors.CheckHeader(HeaderEvent, typ, maxEventTypeSize, func(i int, r rune) bool {
		return r >= 'a' && r <= 'z' || (i > 0 && (r >= '0' && r <= '9' || r == '_' || r == ':'))
	}, "lower-case letters, digits, '_' and ':', starting with a letter")
}

// checkContentType accepts JSON, the only body Bitbucket Cloud sends.
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
