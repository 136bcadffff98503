package sns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/reflexops/reflex/connectors"
)

// The message types SNS sends an HTTPS subscription, in the
// x-amz-sns-message-type header and the body's Type.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// The headers SNS sends with every message. None holds a credential.
const (
	HeaderMessageType     = "X-Amz-Sns-Message-Type"
	HeaderMessageID       = "X-Amz-Sns-Message-Id"
	HeaderTopicArn        = "X-Amz-Sns-Topic-Arn"
	HeaderSubscriptionArn = "X-Amz-Sns-Subscription-Arn"
	// HeaderRawDelivery is set on a subscription's raw message
	// deliveries, which carry no signature.
	HeaderRawDelivery = "X-Amz-Sns-Rawdelivery"
)

// message is an SNS message as the body holds it: the fields its
// signature covers, and those that say how to check it.
type message struct {
	Type      string `json:"Type"`
	MessageID string `json:"MessageId"`
	Token     string `json:"Token"`
	TopicArn  string `json:"TopicArn"`
	// Subject is nil when the message has none, which the signed
	// string then leaves out.
	Subject          *string `json:"Subject"`
	Message          string  `json:"Message"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion string  `json:"SignatureVersion"`
	Signature        string  `json:"Signature"`
	SigningCertURL   string  `json:"SigningCertURL"`
	SubscribeURL     string  `json:"SubscribeURL"`
}

// decodeMessage decodes an SNS message. Errors wrap ErrMalformed.
func decodeMessage(body []byte) (*message, error) {
	var m message
	if err := connectors.Decode(body, &m); err != nil {
		return nil, fmt.Errorf("%w: the body is not an SNS message: %v", connectors.ErrMalformed, err)
	}
	if err := checkMembers(body); err != nil {
		return nil, err
	}
	switch m.Type {
	case TypeNotification, TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
	case "":
		return nil, fmt.Errorf("%w: the body is not an SNS message: it has no Type", connectors.ErrMalformed)
	default:
		return nil, fmt.Errorf("%w: the message's Type is none of Notification, SubscriptionConfirmation and UnsubscribeConfirmation", connectors.ErrMalformed)
	}
	return &m, nil
}

// checkMembers refuses a message whose top-level members are ambiguous:
// a name given twice, or a field's name in another case. The signature
// covers the fields as decoded, not the body's bytes, and the body is
// what is stored and forwarded; a body that reads one way to the decoder
// (which matches names in any case, the last of a repeated one winning)
// and another way to whatever reads it later could carry a signed value
// past the check and another to the consumer.
func checkMembers(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("%w: the body is not an SNS message: not a JSON object", connectors.ErrMalformed)
	}
	seen := make(map[string]bool, 16)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: the body is not an SNS message: %v", connectors.ErrMalformed, err)
		}
		name, _ := tok.(string)
		folded := strings.ToLower(name)
		if seen[folded] {
			return fmt.Errorf("%w: the message names %q twice (in some case): a signed message names each field once", connectors.ErrMalformed, name)
		}
		seen[folded] = true
		if canonical, ok := fieldNames[folded]; ok && canonical != name {
			return fmt.Errorf("%w: the message's %q is not spelled %q, as SNS spells it", connectors.ErrMalformed, name, canonical)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return fmt.Errorf("%w: the body is not an SNS message: %v", connectors.ErrMalformed, err)
		}
	}
	return nil
}

// fieldNames maps the message's field names, folded to lower case, to
// their spelling.
var fieldNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Type", "MessageId", "Token", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "SubscribeURL", "UnsubscribeURL"} {
		m[strings.ToLower(n)] = n
	}
	return m
}()

// checkHeaders checks that the headers SNS sends beside the body, when
// present, say what the signed message says, so that nothing that reads
// them (a log, a policy) is told another story.
func (m *message) checkHeaders(h http.Header) error {
	for _, c := range []struct{ header, field, value string }{
		{HeaderMessageType, "Type", m.Type},
		{HeaderMessageID, "MessageId", m.MessageID},
		{HeaderTopicArn, "TopicArn", m.TopicArn},
	} {
		if v := h.Get(c.header); v != "" && v != c.value {
			return fmt.Errorf("%w: the %s header does not match the message's %s", connectors.ErrMalformed, strings.ToLower(c.header), c.field)
		}
	}
	return nil
}

// stringToSign returns what SNS signs: for each field of the message's
// type, in byte order, its name and its value, each followed by a
// newline. A notification's Subject is there only when the message has
// one. A confirmation without its SubscribeURL or Token is refused.
func (m *message) stringToSign() ([]byte, error) {
	type field struct{ name, value string }
	var fields []field
	switch m.Type {
	case TypeNotification:
		fields = []field{{"Message", m.Message}, {"MessageId", m.MessageID}}
		if m.Subject != nil {
			fields = append(fields, field{"Subject", *m.Subject})
		}
		fields = append(fields, field{"Timestamp", m.Timestamp}, field{"TopicArn", m.TopicArn}, field{"Type", m.Type})
	default:
		if m.SubscribeURL == "" || m.Token == "" {
			return nil, fmt.Errorf("%w: the %s has no SubscribeURL or no Token", connectors.ErrMalformed, m.Type)
		}
		fields = []field{{"Message", m.Message}, {"MessageId", m.MessageID}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type}}
	}
	n := 0
	for _, f := range fields {
		n += len(f.name) + len(f.value) + 2
	}
	buf := make([]byte, 0, n)
	for _, f := range fields {
		buf = append(append(append(append(buf, f.name...), '\n'), f.value...), '\n')
	}
	return buf, nil
}

// clip returns s quoted, cut to at most n bytes, for an error message
// that names a value the sender chose.
func clip(s string, n int) string {
	if len(s) > n {
		return fmt.Sprintf("%q…", s[:n])
	}
	return fmt.Sprintf("%q", s)
}
