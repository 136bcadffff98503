package circleci

import (
	"fmt"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "circleci"

// The headers CircleCI sends with a delivery. CircleCI writes them in
// lower case (circleci-event-type); these are the canonical forms net/http
// keys them by.
const (
	HeaderEventType = "Circleci-Event-Type"
	HeaderSignature = "Circleci-Signature"
)

// The headers' names as CircleCI documents them, for messages.
const (
	nameEventType = "circleci-event-type"
	nameSignature = "circleci-signature"
)

// The event types CircleCI sends, as the payload's type and the
// circleci-event-type header name them.
const (
	TypeWorkflowCompleted = "workflow-completed"
	TypeJobCompleted      = "job-completed"
	// typePing is what a test delivery is taken to be when its type says
	// so. The "Test Ping Event" button sends an abbreviated payload whose
	// type is not documented (UNCONFIRMED); see the package doc.
	typePing = "ping"
)

// Connector verifies and normalizes CircleCI outbound webhook deliveries.
// Its zero value is ready to use.
type Connector struct{}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)

// New returns a CircleCI connector.
func New() connectors.Connector { return &Connector{} }

// Name returns "circleci".
func (*Connector) Name() string { return Name }

// policyHeaders are CircleCI's descriptive headers beside the common ones.
var policyHeaders = []string{HeaderEventType}

// PolicyHeaders returns CircleCI's descriptive headers, which policies may
// see. The slice is shared: callers must not change it.
func (*Connector) PolicyHeaders() []string { return policyHeaders }

// Parse decodes a verified delivery: the payload, its event type (the
// payload's type, which the circleci-event-type header must agree with),
// its delivery id (the payload's id) and the normalized event.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	var p payload
	if err := connectors.Decode(req.Body, &p); err != nil {
		return nil, fmt.Errorf("%w: the payload is not valid JSON of the expected shape: %v", connectors.ErrMalformed, err)
	}
	typ, err := eventType(req.Header.Values(HeaderEventType), p.Type)
	if err != nil {
		return nil, err
	}
	if typ == typePing {
		return &connectors.Result{Ping: true, Payload: req.Body, Checked: true}, nil
	}
	if err := connectors.CheckDeliveryID("the payload's id", p.ID); err != nil {
		return nil, err
	}
	ev := &event.Event{
		ID:         p.ID,
		Source:     req.Source,
		Connector:  Name,
		Type:       typ,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	normalize(typ, &p, ev)
	return &connectors.Result{Event: ev, Payload: req.Body, Checked: true}, nil
}

// maxEventTypeSize bounds an event type; CircleCI's are about 20 long.
const maxEventTypeSize = 64

// eventType returns the delivery's event type: the payload's type, which
// the signature covers, else the header's. When both are sent they must
// agree, so that what the header says (which policies see) is what the
// payload is. Both must have the shape of CircleCI's names.
func eventType(header []string, body string) (string, error) {
	if len(header) > 0 {
		if err := checkEventType("the "+nameEventType+" header", header[0]); err != nil {
			return "", err
		}
	}
	switch {
	case body == "" && len(header) == 0:
		return "", fmt.Errorf("%w: the payload has no type and the %s header is missing", connectors.ErrMalformed, nameEventType)
	case body == "":
		return header[0], nil
	}
	if err := checkEventType("the payload's type", body); err != nil {
		return "", err
	}
	if len(header) > 0 && header[0] != body {
		return "", fmt.Errorf("%w: the %s header and the payload's type differ; CircleCI sends the same type in both", connectors.ErrMalformed, nameEventType)
	}
	return body, nil
}

// checkEventType accepts the shape of CircleCI's event types: lower-case
// words joined by '-'.
func checkEventType(what, typ string) error {
	return connectors.CheckValue(what, typ, maxEventTypeSize, func(i int, r rune) bool {
		return r >= 'a' && r <= 'z' || (i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_'))
	}, "lower-case letters, digits, '-' and '_', starting with a letter")
}

// checkContentType accepts application/json, which CircleCI sends; its
// parameters (a charset) are not read.
func checkContentType(ct string) error {
	if ct == "" {
		return fmt.Errorf("%w: the Content-Type header is missing; CircleCI sends application/json", connectors.ErrUnsupportedMediaType)
	}
	mediaType, _, _ := strings.Cut(ct, ";")
	if mediaType = strings.TrimSpace(mediaType); !strings.EqualFold(mediaType, "application/json") {
		return fmt.Errorf("%w: %q; CircleCI sends application/json", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}
