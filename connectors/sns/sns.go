package sns

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/awsevents"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "sns"

// ActionUnsubscribed is the Action of the event an UnsubscribeConfirmation
// records.
const ActionUnsubscribed = "unsubscribed"

// Connector verifies and normalizes the messages of an SNS HTTPS
// subscription. It must be configured with the topics it trusts
// (settings.topic_arns): New's refuses every message.
type Connector struct {
	// topics are the allowed topic ARNs, sorted.
	topics []string
	// allowV1 accepts SignatureVersion 1 (SHA1withRSA).
	allowV1 bool
	// tolerance bounds a message's Timestamp.
	tolerance time.Duration
	// certs fetches and keeps the signing certificates.
	certs certStore
	// confirmed remembers the confirmations answered.
	confirmed confirmations
}

// New returns an SNS connector with the default settings and no topic:
// Configure must name the topics before it accepts any message.
func New() connectors.Connector { return &Connector{allowV1: true, tolerance: DefaultTolerance} }

// Name returns "sns".
func (*Connector) Name() string { return Name }

// PolicyHeaders returns SNS's descriptive headers: the message type and
// id, the topic and the subscription, none of them a credential.
func (*Connector) PolicyHeaders() []string {
	return []string{HeaderMessageType, HeaderMessageID, HeaderTopicArn, HeaderSubscriptionArn}
}

// Parse decodes a verified message, once, and its Message when it holds
// an EventBridge event. The delivery id is the MessageId, which SNS
// keeps when it retries; the payload stored is the SNS message whole, as
// signed. A Notification's event type is the EventBridge event's
// detail-type, normalized by awsevents, or "Notification" (unnormalized)
// for a Message that is not an EventBridge event, such as text. An
// UnsubscribeConfirmation is recorded as an event of its own: other,
// Action "unsubscribed". A SubscriptionConfirmation, which Handshake
// answers before Parse could see it, is a ping.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	m, err := decodeMessage(req.Body)
	if err != nil {
		return nil, err
	}
	if m.Type == TypeSubscriptionConfirmation {
		return &connectors.Result{Ping: true, Payload: req.Body, Checked: true}, nil
	}
	if err := connectors.CheckDeliveryID("the message's MessageId", m.MessageID); err != nil {
		return nil, err
	}
	ev := &event.Event{
		ID:         m.MessageID,
		Source:     req.Source,
		Connector:  Name,
		Type:       m.Type,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if m.Type == TypeUnsubscribeConfirmation {
		ev.Kind, ev.Action = event.KindOther, ActionUnsubscribed
	} else if err := normalizeMessage(m.Message, ev); err != nil {
		return nil, err
	}
	return &connectors.Result{Event: ev, Payload: req.Body, Checked: true}, nil
}

// normalizeMessage normalizes a Notification's Message: an EventBridge
// event through awsevents, anything else (text, other JSON) unnormalized
// with the type "Notification".
func normalizeMessage(msg string, ev *event.Event) error {
	ev.Kind = event.KindUnnormalized
	if !strings.HasPrefix(strings.TrimLeft(msg, " \t\r\n"), "{") {
		return nil
	}
	e, err := awsevents.Decode([]byte(msg))
	switch {
	case errors.Is(err, awsevents.ErrNotEvent):
		return nil
	case err != nil:
		return fmt.Errorf("the notification's Message: %w", err)
	case !e.IsEvent():
		return nil
	}
	return e.Normalize(ev)
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)
