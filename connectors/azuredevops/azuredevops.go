package azuredevops

import (
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "azure-devops"

// Connector verifies and normalizes Azure DevOps service hook deliveries.
// New returns one with the default settings: Basic authentication.
type Connector struct {
	// header names the custom header that carries the secret; empty
	// means the Authorization header's Basic credentials do.
	header string
}

// New returns an Azure DevOps connector that expects Basic
// authentication.
func New() connectors.Connector { return &Connector{} }

// Name returns "azure-devops".
func (*Connector) Name() string { return Name }

// PolicyHeaders returns no header of Azure DevOps' own: it sends none that
// describes the delivery, and the custom headers a subscription adds may
// hold its secret, so policies see only the common headers.
func (*Connector) PolicyHeaders() []string { return nil }

// Parse decodes a verified delivery: its event type, its delivery id and
// the normalized event, all from the body, which it decodes once. A body
// whose resource does not have the shape of the event types the connector
// normalizes is decoded again without it: that is an error for those
// types only.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	var n notification
	if err := decode(req.Body, &n); err != nil {
		n = notification{}
		if bare := decode(req.Body, &n.envelope); bare != nil {
			return nil, fmt.Errorf("%w: the body is not a service hook notification: %v", connectors.ErrMalformed, bare)
		}
		if _, known := normalizers[n.EventType]; known {
			return nil, fmt.Errorf("%w: the %s notification does not have the documented shape: %v", connectors.ErrMalformed, n.EventType, err)
		}
	}
	if err := checkEventType(n.EventType); err != nil {
		return nil, err
	}
	id, err := deliveryID(&n.envelope)
	if err != nil {
		return nil, err
	}
	ev := &event.Event{
		ID:         id,
		Source:     req.Source,
		Connector:  Name,
		Type:       n.EventType,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	events, err := normalize(&n, ev)
	if err != nil {
		return nil, err
	}
	return result(ev, events, req.Body)
}

// maxEventTypeSize bounds eventType; Azure DevOps' longest are about 50
// characters ("ms.vss-pipelinechecks-events.approval-completed").
const maxEventTypeSize = 128

// checkEventType accepts the shape of Azure DevOps' event types: words
// joined by '.', '-' and '_', starting with a letter.
func checkEventType(typ string) error {
	return connectors.CheckValue("the payload's eventType", typ, maxEventTypeSize, func(i int, r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			(i > 0 && (r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_'))
	}, "letters, digits, '.', '-' and '_', starting with a letter")
}

// deliveryID returns the id that de-duplicates a delivery: the
// notification (subscriptionId "." notificationId), which Azure DevOps
// numbers within a subscription and keeps while it retries, or else the
// event id. The event id must be there either way: every notification has
// one.
func deliveryID(env *envelope) (string, error) {
	if err := connectors.CheckDeliveryID("the payload's id", env.ID); err != nil {
		return "", err
	}
	if env.SubscriptionID == "" || env.NotificationID == "" {
		return env.ID, nil
	}
	id := env.SubscriptionID + "." + string(env.NotificationID)
	if err := connectors.CheckDeliveryID("the payload's subscriptionId and notificationId", id); err != nil {
		return "", err
	}
	return id, nil
}

// notificationID is the body's notificationId: a number as Azure DevOps
// sends it, or a string, kept as its decimal text. null and 0 mean none.
type notificationID string

// UnmarshalJSON reads a non-negative integer or a string.
func (n *notificationID) UnmarshalJSON(b []byte) error {
	s := string(b)
	switch {
	case s == "null" || s == "0":
		*n = ""
	case strings.HasPrefix(s, `"`):
		unquoted, err := strconv.Unquote(s)
		if err != nil {
			return fmt.Errorf("notificationId: %w", err)
		}
		*n = notificationID(unquoted)
	default:
		if _, err := strconv.ParseUint(s, 10, 64); err != nil {
			return fmt.Errorf("notificationId %s is not a whole number", s)
		}
		*n = notificationID(s)
	}
	return nil
}

// checkContentType accepts JSON, the only body the Web Hooks consumer
// sends ("application/json; charset=utf-8").
func checkContentType(ct string) error {
	if ct == "" {
		return fmt.Errorf("%w: the Content-Type header is missing; Azure DevOps sends application/json", connectors.ErrUnsupportedMediaType)
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: cannot read Content-Type %q; Azure DevOps sends application/json", connectors.ErrUnsupportedMediaType, ct)
	}
	if mediaType != "application/json" {
		return fmt.Errorf("%w: %q; Azure DevOps sends application/json", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)
