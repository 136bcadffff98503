package gitea

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "gitea"

// The headers Gitea sends with every delivery, and Forgejo's and Gogs's
// names for the same values.
const (
	HeaderEvent            = "X-Gitea-Event"
	HeaderEventType        = "X-Gitea-Event-Type"
	HeaderDelivery         = "X-Gitea-Delivery"
	HeaderSignature        = "X-Gitea-Signature"
	HeaderForgejoEvent     = "X-Forgejo-Event"
	HeaderForgejoEventType = "X-Forgejo-Event-Type"
	HeaderForgejoDelivery  = "X-Forgejo-Delivery"
	HeaderForgejoSignature = "X-Forgejo-Signature"
	HeaderGogsEvent        = "X-Gogs-Event"
	HeaderGogsDelivery     = "X-Gogs-Delivery"
	HeaderGogsSignature    = "X-Gogs-Signature"
	HeaderHubSignature256  = "X-Hub-Signature-256"
	headerTargetType       = "X-Gitea-Hook-Installation-Target-Type"
)

// The headers each value is read from, first present first: Forgejo sends
// its own names beside Gitea's, and both send Gogs's. An error about a
// missing value names Gitea's header.
var (
	eventHeaders    = []string{HeaderForgejoEvent, HeaderEvent, HeaderGogsEvent}
	deliveryHeaders = []string{HeaderForgejoDelivery, HeaderDelivery, HeaderGogsDelivery}
)

// Connector verifies and normalizes Gitea and Forgejo webhook deliveries.
// Its zero value is ready to use.
type Connector struct{}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)

// New returns a Gitea connector.
func New() connectors.Connector { return &Connector{} }

// Name returns "gitea".
func (*Connector) Name() string { return Name }

// policyHeaders are the descriptive headers: the event, its precise
// trigger, the delivery and the scope of the hook.
var policyHeaders = []string{
	HeaderEvent, HeaderEventType, HeaderDelivery,
	HeaderForgejoEvent, HeaderForgejoEventType, HeaderForgejoDelivery,
	headerTargetType,
}

// PolicyHeaders returns Gitea's and Forgejo's descriptive headers, which
// policies may see. The slice is shared: callers must not change it.
func (*Connector) PolicyHeaders() []string { return policyHeaders }

// Parse decodes a verified delivery: its type, delivery id and payload,
// and the normalized event.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	name, typ := firstHeader(req.Header, eventHeaders)
	if err := checkEventType(name, typ); err != nil {
		return nil, err
	}
	name, id := firstHeader(req.Header, deliveryHeaders)
	if err := connectors.CheckDeliveryID("the "+name+" header", id); err != nil {
		return nil, err
	}
	payload, err := payloadOf(req)
	if err != nil {
		return nil, err
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

// firstHeader returns the first of names that h holds, and its value;
// Gitea's name (the second) and "" when it holds none.
func firstHeader(h http.Header, names []string) (name, value string) {
	for _, n := range names {
		if v := h.Values(n); len(v) > 0 {
			return n, v[0]
		}
	}
	return names[1], ""
}

// maxEventTypeSize bounds the event header; Gitea's longest is about 30.
const maxEventTypeSize = 64

// checkEventType accepts the shape of Gitea's event names (lower-case
// words joined by '_').
func checkEventType(header, typ string) error {
	return connectors.CheckHeader(header, typ, maxEventTypeSize, func(i int, r rune) bool {
		return r >= 'a' && r <= 'z' || (i > 0 && (r >= '0' && r <= '9' || r == '_'))
	}, "lower-case letters, digits and '_', starting with a letter")
}

// contentTypes names what a Gitea webhook may send, for errors.
const contentTypes = "Gitea sends application/json or application/x-www-form-urlencoded"

// formType is the media type of a form-encoded delivery.
const formType = "application/x-www-form-urlencoded"

// mediaTypeOf returns the media type of h's Content-Type, "" when it is
// missing, and an error when it cannot be read.
func mediaTypeOf(h http.Header) (string, error) {
	ct := h.Get("Content-Type")
	if ct == "" {
		return "", nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	return mediaType, err
}

// isForm reports whether h sends a form-encoded body.
func isForm(h http.Header) bool {
	mediaType, err := mediaTypeOf(h)
	return err == nil && mediaType == formType
}

// formPayload returns the payload field of a form-encoded body: the JSON
// document Gitea sends, and signs, as it is.
func formPayload(body []byte) ([]byte, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: the form-encoded body cannot be decoded: %v", connectors.ErrMalformed, err)
	}
	payload := form.Get("payload")
	if payload == "" {
		return nil, fmt.Errorf("%w: the form-encoded body has no payload field", connectors.ErrMalformed)
	}
	return []byte(payload), nil
}

// payloadOf returns the JSON document of a delivery, which Gitea sends
// either as the body or, for a form-encoded hook, in the payload field.
func payloadOf(req *connectors.Request) ([]byte, error) {
	mediaType, err := mediaTypeOf(req.Header)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read Content-Type %q; %s", connectors.ErrUnsupportedMediaType, req.Header.Get("Content-Type"), contentTypes)
	}
	switch mediaType {
	case "application/json":
		return req.Body, nil
	case formType:
		return formPayload(req.Body)
	case "":
		return nil, fmt.Errorf("%w: the Content-Type header is missing; %s", connectors.ErrUnsupportedMediaType, contentTypes)
	default:
		return nil, fmt.Errorf("%w: %q; %s", connectors.ErrUnsupportedMediaType, mediaType, contentTypes)
	}
}

// malformed wraps a JSON decoding error of one event type.
func malformed(typ string, err error) error {
	return fmt.Errorf("%w: the %s payload is not valid JSON of the expected shape: %v", connectors.ErrMalformed, typ, err)
}
