package github

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "github"

// The headers GitHub sends with every delivery.
const (
	HeaderEvent       = "X-GitHub-Event"
	HeaderDelivery    = "X-GitHub-Delivery"
	HeaderSignature   = "X-Hub-Signature-256"
	HeaderSignature1  = "X-Hub-Signature"
	maxDeliveryIDSize = 128
)

// Connector verifies and normalizes GitHub webhook deliveries. Its zero
// value is ready to use.
type Connector struct{}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)

// New returns a GitHub connector.
func New() connectors.Connector { return &Connector{} }

// Name returns "github".
func (*Connector) Name() string { return Name }

// policyHeaders are GitHub's descriptive headers: the event, the
// delivery, the hook and the installation target.
var policyHeaders = []string{
	HeaderEvent, HeaderDelivery, "X-GitHub-Hook-Id",
	"X-GitHub-Hook-Installation-Target-Type", "X-GitHub-Hook-Installation-Target-Id",
	"X-GitHub-Enterprise-Host", "X-GitHub-Enterprise-Version",
}

// PolicyHeaders returns GitHub's descriptive headers, which policies may
// see. The slice is shared: callers must not change it.
func (*Connector) PolicyHeaders() []string { return policyHeaders }

// Parse decodes a verified delivery: its type, delivery id and payload, and
// the normalized event. A ping is reported as such and not normalized.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	typ := req.Header.Get(HeaderEvent)
	if err := checkEventType(typ); err != nil {
		return nil, err
	}
	id := req.Header.Get(HeaderDelivery)
	if err := checkDeliveryID(id); err != nil {
		return nil, err
	}
	payload, err := payloadOf(req)
	if err != nil {
		return nil, err
	}
	if typ == "ping" {
		var ping struct {
			HookID int64 `json:"hook_id"`
		}
		if err := json.Unmarshal(payload, &ping); err != nil {
			return nil, malformed("ping", err)
		}
		return &connectors.Result{Ping: true, Payload: payload, Checked: true}, nil
	}
	ev := &event.Event{
		ID:         id,
		Source:     req.Source,
		Connector:  Name,
		Type:       typ,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if err := normalize(typ, payload, ev); err != nil {
		return nil, err
	}
	return &connectors.Result{Event: ev, Payload: payload, Checked: true}, nil
}

// maxEventTypeSize bounds X-GitHub-Event; GitHub's longest is about 40.
const maxEventTypeSize = 64

// checkEventType accepts the shape of GitHub's event names (lower-case
// words joined by '_').
func checkEventType(typ string) error {
	return connectors.CheckHeader(HeaderEvent, typ, maxEventTypeSize, func(i int, r rune) bool {
		return r >= 'a' && r <= 'z' || (i > 0 && (r >= '0' && r <= '9' || r == '_'))
	}, "lower-case letters, digits and '_', starting with a letter")
}

// checkDeliveryID accepts GitHub's GUIDs and anything of the same shape.
func checkDeliveryID(id string) error {
	return connectors.CheckHeader(HeaderDelivery, id, maxDeliveryIDSize, func(_ int, r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
	}, "letters, digits, '-', '_' and '.'")
}

// payloadOf returns the JSON document of a delivery, which GitHub sends
// either as the body or, for form-encoded hooks, in the payload field.
func payloadOf(req *connectors.Request) ([]byte, error) {
	ct := req.Header.Get("Content-Type")
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil && ct != "" {
		return nil, fmt.Errorf("%w: cannot read Content-Type %q; GitHub sends application/json or application/x-www-form-urlencoded", connectors.ErrUnsupportedMediaType, ct)
	}
	switch mediaType {
	case "application/json":
		return req.Body, nil
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(req.Body))
		if err != nil {
			return nil, fmt.Errorf("%w: the form-encoded body cannot be decoded: %v", connectors.ErrMalformed, err)
		}
		payload := form.Get("payload")
		if payload == "" {
			return nil, fmt.Errorf("%w: the form-encoded body has no payload field", connectors.ErrMalformed)
		}
		return []byte(payload), nil
	case "":
		return nil, fmt.Errorf("%w: the Content-Type header is missing; GitHub sends application/json or application/x-www-form-urlencoded", connectors.ErrUnsupportedMediaType)
	default:
		return nil, fmt.Errorf("%w: %q; GitHub sends application/json or application/x-www-form-urlencoded", connectors.ErrUnsupportedMediaType, mediaType)
	}
}

// malformed wraps a JSON decoding error of one event type.
func malformed(typ string, err error) error {
	return fmt.Errorf("%w: the %s payload is not valid JSON of the expected shape: %v", connectors.ErrMalformed, typ, err)
}
