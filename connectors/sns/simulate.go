package sns

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/awsevents"
)

// userAgent is what SNS sends as User-Agent.
const userAgent = "Amazon Simple Notification Service Agent"

// simulatedTopic is the topic of a simulated notification when the
// connector names none.
const simulatedTopic = "arn:aws:sns:us-east-1:123456789012:reflex"

// signaturePlaceholder stands for the signature of a simulated
// notification until Sign writes it: as long as a 2048-bit RSA
// signature in base64, SNS's size, so Sign can write it in place.
var signaturePlaceholder = strings.Repeat("A", 342) + "=="

// signatureField finds the Signature of a message's body.
var signatureField = regexp.MustCompile(`("Signature"\s*:\s*")([A-Za-z0-9+/=]*)(")`)

// Sign publishes an SNS message the way SNS does, when secret is a PEM
// RSA private key (PKCS #1 or PKCS #8), as a test's is: it stamps body's
// message with the time now (a Timestamp of SNS's form,
// 2006-01-02T15:04:05.000Z, is replaced by one of the same length) and
// writes the signature of the message, by its SignatureVersion, over the
// Signature in body, in place, when the two have the same length
// (2048-bit keys, and the placeholder Delivery writes, are); otherwise
// body is left as it is. With any other secret it does nothing: an SNS
// message signs itself, with SNS's key, and a recorded one is sent as it
// is. header is left alone: SNS sends no signature header.
func (*Connector) Sign(_ http.Header, body, secret []byte) {
	key, err := parsePrivateKey(secret)
	if err != nil {
		return
	}
	// Sign has no clock of its own: the message is published now.
	stamped := timestampField.ReplaceAll(body, []byte("${1}"+time.Now().UTC().Format(timestampLayout)+"${2}"))
	signed, err := resign(stamped, key)
	if err != nil || len(signed) != len(body) {
		return
	}
	copy(body, signed)
}

// timestampLayout is how SNS writes a Timestamp.
const timestampLayout = "2006-01-02T15:04:05.000Z"

// timestampField finds a Timestamp of SNS's form in a message's body.
var timestampField = regexp.MustCompile(`("Timestamp"\s*:\s*")[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z(")`)

// parsePrivateKey reads a PEM RSA private key: the whole secret, so that
// a secret with a key somewhere inside it is not taken for one.
func parsePrivateKey(secret []byte) (*rsa.PrivateKey, error) {
	block, rest := pem.Decode(secret)
	if block == nil || !bytes.HasPrefix(bytes.TrimSpace(secret), []byte("-----BEGIN ")) || len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("not a PEM key")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
	}
	return nil, errors.New("not an RSA private key")
}

// resign returns body with its Signature replaced by key's signature of
// its message, by its SignatureVersion; the rest of body is kept byte for
// byte.
func resign(body []byte, key *rsa.PrivateKey) ([]byte, error) {
	m, err := decodeMessage(body)
	if err != nil {
		return nil, err
	}
	hash := crypto.SHA256
	switch m.SignatureVersion {
	case SignatureVersion1:
		hash = crypto.SHA1
	case SignatureVersion2:
	default:
		return nil, fmt.Errorf("SignatureVersion %q is neither 1 nor 2", m.SignatureVersion)
	}
	signed, err := m.stringToSign()
	if err != nil {
		return nil, err
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, hash, digest(hash, signed))
	if err != nil {
		return nil, err
	}
	if n := len(signatureField.FindAllIndex(body, -1)); n != 1 {
		return nil, fmt.Errorf("the body has %d Signature fields, want 1", n)
	}
	enc := base64.StdEncoding.EncodeToString(sig)
	return signatureField.ReplaceAll(body, []byte("${1}"+enc+"${3}")), nil
}

// Delivery returns a delivery as SNS makes it. A recorded SNS message
// (payload with a Type and a Signature) is sent as it is, with the
// headers its fields give: typ and id are ignored, since changing the
// message would void its signature. Any other payload becomes the
// Message of a Notification with MessageId id, of the connector's first
// topic, signed with SignatureVersion 2 by a certificate on SNS's
// us-east-1 endpoint (or the topic's region), and a placeholder
// signature for Sign to replace; a payload that is a JSON object gets
// typ as its detail-type, as an EventBridge event. Only a server that
// trusts the signing key (a test's) verifies such a delivery: no one
// else can sign for SNS.
func (c *Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	if m, err := decodeMessage(payload); err == nil && m.Signature != "" {
		return messageHeaders(m), bytes.Clone(payload)
	}
	if typ != "" {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(payload, &doc); err == nil && doc != nil {
			doc["detail-type"], _ = json.Marshal(typ)
			if b, err := json.Marshal(doc); err == nil {
				payload = b
			}
		}
	}
	topic := simulatedTopic
	if len(c.topics) > 0 {
		topic = c.topics[0]
	}
	endpoint := "https://sns." + regionOf(topic) + ".amazonaws.com"
	if strings.HasPrefix(regionOf(topic), "cn-") {
		endpoint += ".cn"
	}
	// Delivery has no clock of its own: a simulated message is sent now.
	m := &message{
		Type: TypeNotification, MessageID: id, TopicArn: topic, Message: string(payload),
		Timestamp:        time.Now().UTC().Format(timestampLayout),
		SignatureVersion: SignatureVersion2, Signature: signaturePlaceholder,
		SigningCertURL: endpoint + "/SimpleNotificationService-reflex-simulator.pem",
	}
	body := notificationBody(m, endpoint+"/?Action=Unsubscribe&SubscriptionArn="+topic+":reflex-simulator")
	return messageHeaders(m), body
}

// notificationBody writes a Notification as SNS does: one field a line,
// in SNS's order.
func notificationBody(m *message, unsubscribeURL string) []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, f := range [][2]string{
		{"Type", m.Type}, {"MessageId", m.MessageID}, {"TopicArn", m.TopicArn}, {"Message", m.Message},
		{"Timestamp", m.Timestamp}, {"SignatureVersion", m.SignatureVersion}, {"Signature", m.Signature},
		{"SigningCertURL", m.SigningCertURL}, {"UnsubscribeURL", unsubscribeURL},
	} {
		if i > 0 {
			b.WriteString(",\n")
		}
		v, _ := json.Marshal(f[1])
		fmt.Fprintf(&b, "  %q : %s", f[0], v)
	}
	b.WriteString("\n}")
	return b.Bytes()
}

// messageHeaders returns the headers SNS sends with m.
func messageHeaders(m *message) http.Header {
	h := http.Header{}
	h.Set(HeaderMessageType, m.Type)
	h.Set(HeaderMessageID, m.MessageID)
	h.Set(HeaderTopicArn, m.TopicArn)
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("User-Agent", userAgent)
	return h
}

// EventType returns the event type Parse gives a recorded message: the
// detail-type of a Notification's EventBridge event, else the message
// type. A payload that is an EventBridge event rather than an SNS
// message gives its detail-type.
func (*Connector) EventType(_ http.Header, payload []byte) string {
	m, err := decodeMessage(payload)
	if err != nil {
		if e, err := awsevents.Decode(payload); err == nil && e.IsEvent() {
			return e.DetailType
		}
		return ""
	}
	if m.Type == TypeNotification {
		if e, err := awsevents.Decode([]byte(m.Message)); err == nil && e.IsEvent() {
			return e.DetailType
		}
	}
	return m.Type
}

var _ connectors.Simulator = (*Connector)(nil)
