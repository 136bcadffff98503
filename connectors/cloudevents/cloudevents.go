package cloudevents

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "cloudevents"

// The headers of binary mode that carry the required attributes, in
// canonical form, and the webhook profile's origin header.
const (
	HeaderID          = "Ce-Id"
	HeaderSource      = "Ce-Source"
	HeaderSpecVersion = "Ce-Specversion"
	HeaderType        = "Ce-Type"
	headerTime        = "Ce-Time"
	HeaderOrigin      = "WebHook-Request-Origin"
)

// The media types of structured and batched mode (JSON event format).
const (
	MediaStructured = "application/cloudevents+json"
	MediaBatch      = "application/cloudevents-batch+json"
)

// SpecVersion is the only CloudEvents version accepted.
const SpecVersion = "1.0"

// Connector verifies and normalizes CloudEvents deliveries, as one source's
// settings say. New returns one with the default settings.
type Connector struct {
	auth     string
	header   string
	hmac     schemes.HMAC
	standard schemes.StandardWebhooks
	origins  []string
	rate     int
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)

// New returns a CloudEvents connector with the default settings: an
// HMAC-SHA256 of the body in X-Signature, prefixed "sha256=".
func New() connectors.Connector {
	c := &Connector{}
	c.setDefaults()
	return c
}

// Name returns "cloudevents".
func (*Connector) Name() string { return Name }

// policyHeaders are the attributes of binary mode a policy may look at,
// and the sender's origin.
var policyHeaders = []string{
	HeaderID, HeaderSource, HeaderSpecVersion, HeaderType,
	"Ce-Subject", headerTime, "Ce-Dataschema", HeaderOrigin,
}

// PolicyHeaders returns the descriptive CloudEvents headers, which
// policies may see. The slice is shared: callers must not change it.
func (*Connector) PolicyHeaders() []string { return policyHeaders }

// Parse decodes a verified delivery in any of the three content modes,
// which Content-Type tells apart, and normalizes its event.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	ct := req.Header.Get("Content-Type")
	mediaType := mediaTypeOf(ct)
	switch {
	case mediaType == MediaStructured:
		return parseStructured(req, req.Body)
	case mediaType == MediaBatch:
		return parseBatch(req)
	case strings.HasPrefix(mediaType, "application/cloudevents-batch"):
		return nil, fmt.Errorf("%w: %q; of the batch formats only %s (JSON) is read", connectors.ErrUnsupportedMediaType, mediaType, MediaBatch)
	case strings.HasPrefix(mediaType, "application/cloudevents"):
		return nil, fmt.Errorf("%w: %q; of the event formats only %s (JSON) is read", connectors.ErrUnsupportedMediaType, mediaType, MediaStructured)
	}
	return parseBinary(req, ct, mediaType)
}

// mediaTypeOf returns the media type of a Content-Type value, lower-case
// and without parameters; the parameters (a charset) change nothing here.
func mediaTypeOf(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	for i := 0; i < len(mt); i++ {
		if c := mt[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(mt)
		}
	}
	return mt
}

// attributes are the context attributes Reflex reads.
type attributes struct {
	specVersion, id, source, typ, time string
}

// check refuses attributes the specification does not allow; an
// attribute is named in errors between before and after ("the ce-",
// " header").
func (a *attributes) check(before, after string) error {
	name := func(attr string) string { return before + attr + after }
	if a.specVersion == "" {
		return fmt.Errorf("%w: %s is missing", connectors.ErrMalformed, name("specversion"))
	}
	if a.specVersion != SpecVersion {
		return fmt.Errorf("%w: %s is %q; only CloudEvents %s is accepted", connectors.ErrMalformed, name("specversion"), clip(a.specVersion), SpecVersion)
	}
	if a.id == "" {
		return fmt.Errorf("%w: %s is missing", connectors.ErrMalformed, name("id"))
	}
	if a.source == "" {
		return fmt.Errorf("%w: %s is missing", connectors.ErrMalformed, name("source"))
	}
	if !validType(a.typ) {
		return checkType(name("type"), a.typ)
	}
	if a.time != "" {
		if _, err := time.Parse(time.RFC3339Nano, a.time); err != nil {
			return fmt.Errorf("%w: %s is not an RFC 3339 time", connectors.ErrMalformed, name("time"))
		}
	}
	return nil
}

// maxTypeSize bounds the type attribute Reflex keeps as Event.Type.
const maxTypeSize = 128

// typeChar accepts the characters of the reverse-DNS names CloudEvents
// types are written in: letters, digits, '.', '-', '_' and ':'.
func typeChar(_ int, r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == ':'
}

// validType reports whether checkType accepts typ, without building an
// error.
func validType(typ string) bool {
	if typ == "" || len(typ) > maxTypeSize {
		return false
	}
	for i, r := range typ {
		if !typeChar(i, r) {
			return false
		}
	}
	return true
}

// checkType refuses a type that is missing, too long or not made of
// typeChar's characters; what names it in the error.
func checkType(what, typ string) error {
	return connectors.CheckValue(what, typ, maxTypeSize, typeChar, "letters, digits, '.', '-', '_' and ':'")
}

// DeliveryID returns the delivery id of a CloudEvent: "ce-" and the first
// 40 hex digits of the SHA-256 of its source, a NUL and its id, the pair
// CloudEvents makes unique.
func DeliveryID(source, id string) string {
	var stack [256]byte
	msg := append(append(append(stack[:0], source...), 0), id...)
	sum := sha256.Sum256(msg)
	var out [3 + 40]byte
	copy(out[:], "ce-")
	hex.Encode(out[3:], sum[:20])
	return string(out[:])
}

// newEvent returns the common fields of the event of a's CloudEvent,
// normalized from its data when it is a CDEvent. data is nil when the
// event's data is absent or not JSON.
func newEvent(req *connectors.Request, a *attributes, data []byte) (*event.Event, error) {
	ev := &event.Event{
		ID:         DeliveryID(a.source, a.id),
		IDFrom:     connectors.IDFromAttributes,
		Source:     req.Source,
		Connector:  Name,
		Type:       a.typ,
		Kind:       event.KindUnnormalized,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if err := normalize(a, data, ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// clip shortens a sender's value quoted in an error.
func clip(s string) string {
	const max = 16
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
