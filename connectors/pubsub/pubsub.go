package pubsub

import (
	"encoding/base64"
	"fmt"
	"mime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "pubsub"

// The event types the connector gives Event.Type; Pub/Sub itself names
// none, so they say which producer the message was recognised as.
const (
	// TypeCloudBuild is a Cloud Build status message (topic cloud-builds).
	TypeCloudBuild = "cloud-build"
	// TypeGCR is an Artifact Registry or Container Registry notification
	// (topic gcr).
	TypeGCR = "gcr"
	// TypePubSub is any other message.
	TypePubSub = "pubsub"
)

// Connector verifies and normalizes Pub/Sub push deliveries. New returns
// one that refuses everything until Configure gives it an audience and
// the service accounts to trust. It is safe for concurrent use.
type Connector struct {
	// audience is the aud claim a token must carry.
	audience string
	// serviceAccounts are the email claims accepted.
	serviceAccounts []string
	// keysURL is where Google's signing keys (a JWKS) are fetched.
	keysURL string
	// issuers are the iss claims accepted.
	issuers []string
	// subscriptions, when set, are the only subscriptions accepted.
	subscriptions []string

	// now is Sign's clock, time.Now when nil: a token is issued at
	// now(). Verify judges a token against the request's ReceivedAt.
	now func() time.Time
	// cache holds the fetched key set.
	cache keyfetch.Cache
	// keys is the key set parsed from the last document the cache
	// returned, so a document is parsed once, not once per delivery.
	keys atomic.Pointer[keySet]
	// tokens remembers tokens whose signature verified.
	tokens tokenCache
}

var (
	_ connectors.Connector    = (*Connector)(nil)
	_ connectors.Configurable = (*Connector)(nil)
	_ connectors.KeyHolder    = (*Connector)(nil)
)

// New returns a Pub/Sub connector with the default settings: Google's key
// set and issuers, and no audience or service account, so that nothing
// verifies until Configure names them.
func New() connectors.Connector {
	return &Connector{keysURL: DefaultKeysURL, issuers: DefaultIssuers}
}

// Name returns "pubsub".
func (*Connector) Name() string { return Name }

// envelope is the body of a wrapped push delivery.
type envelope struct {
	Message struct {
		Data       string            `json:"data"`
		Attributes map[string]string `json:"attributes"`
		// MessageID and MessageIDSnake are the same id: Pub/Sub sends
		// both spellings, older deliveries only message_id.
		MessageID      string `json:"messageId"`
		MessageIDSnake string `json:"message_id"`
	} `json:"message"`
	Subscription string `json:"subscription"`
}

// Parse decodes a verified push delivery: the envelope, its message id
// (the delivery id), its base64 data, and the event the data makes (see
// normalize). The stored payload is the data document for a message the
// connector recognises, and the envelope as received for any other.
func (c *Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	var env envelope
	if err := connectors.Decode(req.Body, &env); err != nil {
		return nil, fmt.Errorf("%w: the body is not a Pub/Sub push envelope: %v", connectors.ErrMalformed, err)
	}
	m := &env.Message
	id, err := messageID(m.MessageID, m.MessageIDSnake)
	if err != nil {
		return nil, err
	}
	if err := c.checkSubscription(env.Subscription); err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(m.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: the message's data is not standard base64: %v", connectors.ErrMalformed, err)
	}
	ev := &event.Event{
		ID:         id,
		Source:     req.Source,
		Connector:  Name,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	payload, err := normalize(m.Attributes, data, ev)
	if err != nil {
		return nil, err
	}
	if payload == nil {
		payload = req.Body
	}
	return &connectors.Result{Event: ev, Payload: payload, Checked: true}, nil
}

// messageID returns the delivery id: messageId, else message_id. The two
// must agree when both are sent.
func messageID(camel, snake string) (string, error) {
	id := camel
	switch {
	case id == "":
		id = snake
	case snake != "" && snake != camel:
		return "", fmt.Errorf("%w: the message's messageId and message_id differ; Pub/Sub sends the same id in both", connectors.ErrMalformed)
	}
	if id == "" {
		return "", fmt.Errorf("%w: the message has no messageId: is this a wrapped Pub/Sub push delivery? (payload unwrapping must be off)", connectors.ErrMalformed)
	}
	return id, connectors.CheckDeliveryID("the message's messageId", id)
}

// checkSubscription refuses a subscription settings.subscriptions does
// not list, when it lists any.
func (c *Connector) checkSubscription(sub string) error {
	if len(c.subscriptions) == 0 || slices.Contains(c.subscriptions, sub) {
		return nil
	}
	if sub == "" {
		return errNotAllowed{"the envelope names no subscription, and settings.subscriptions allows only those it lists"}
	}
	if len(sub) > maxSubscription {
		return errNotAllowed{"the envelope's subscription is not one settings.subscriptions lists"}
	}
	return errNotAllowed{fmt.Sprintf("the subscription %q is not one settings.subscriptions lists", sub)}
}

// errNotAllowed refuses a genuine delivery that the source's settings do
// not accept. It is a refusal of the sender (ErrUnauthorized, 401) found
// while decoding (ErrMalformed, as Parse's errors are).
type errNotAllowed struct{ msg string }

func (e errNotAllowed) Error() string {
	return connectors.ErrUnauthorized.Error() + ": " + e.msg
}

// Is makes the error both ErrUnauthorized and ErrMalformed.
func (errNotAllowed) Is(target error) bool {
	return target == connectors.ErrUnauthorized || target == connectors.ErrMalformed
}

// checkContentType accepts application/json, which Pub/Sub sends, or no
// Content-Type at all.
func checkContentType(ct string) error {
	if ct == "" || ct == "application/json" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: cannot read Content-Type %q; Pub/Sub sends application/json", connectors.ErrUnsupportedMediaType, ct)
	}
	if mediaType != "application/json" {
		return fmt.Errorf("%w: %q; Pub/Sub sends application/json", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}
