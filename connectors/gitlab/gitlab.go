package gitlab

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "gitlab"

// The headers GitLab sends with a delivery.
const (
	HeaderEvent          = "X-Gitlab-Event"
	HeaderToken          = "X-Gitlab-Token"
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderEventUUID      = "X-Gitlab-Event-UUID"
	HeaderWebhookUUID    = "X-Gitlab-Webhook-UUID"
	HeaderInstance       = "X-Gitlab-Instance"
)

// Connector verifies and normalizes GitLab webhook deliveries. New returns
// one with the default settings.
type Connector struct {
	// tolerance bounds a signed timestamp's distance from the receive
	// time.
	tolerance time.Duration
	// requireSignature refuses deliveries without webhook-signature.
	requireSignature bool
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)

// New returns a GitLab connector with the default settings.
func New() connectors.Connector {
	return &Connector{tolerance: schemes.DefaultTolerance}
}

// Name returns "gitlab".
func (*Connector) Name() string { return Name }

// policyHeaders are GitLab's descriptive headers: the event, the sending
// instance, the hook and the delivery ids.
var policyHeaders = []string{HeaderEvent, HeaderInstance, HeaderWebhookUUID, HeaderEventUUID, HeaderIdempotencyKey}

// PolicyHeaders returns GitLab's descriptive headers, which policies may
// see. The slice is shared: callers must not change it.
func (*Connector) PolicyHeaders() []string { return policyHeaders }

// Parse decodes a verified delivery: its type, delivery id and payload,
// and the normalized event.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	typ, err := eventType(req.Header.Get(HeaderEvent))
	if err != nil {
		return nil, err
	}
	id, idFrom, err := deliveryID(req.Header, req.Body)
	if err != nil {
		return nil, err
	}
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	ev := &event.Event{
		ID:         id,
		IDFrom:     idFrom,
		Source:     req.Source,
		Connector:  Name,
		Type:       typ,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if err := normalize(req.Body, ev); err != nil {
		return nil, err
	}
	return &connectors.Result{Event: ev, Payload: req.Body, Checked: true}, nil
}

// maxEventHeaderSize bounds X-Gitlab-Event; GitLab's longest,
// "Resource Access Token Hook", has 26 characters.
const maxEventHeaderSize = 64

// hookSuffix ends every X-Gitlab-Event value.
const hookSuffix = "Hook"

// unusualTypes maps the X-Gitlab-Event values whose object_kind is not
// their own words; the others are those words, see eventType.
var unusualTypes = map[string]string{
	"Job Hook":                   "build",
	"Resource Access Token Hook": "access_token",
}

// knownTypes holds eventType's result for the headers GitLab documents,
// so the common deliveries take a lookup.
var knownTypes = map[string]string{
	"Push Hook":          "push",
	"Tag Push Hook":      "tag_push",
	"Merge Request Hook": "merge_request",
	"Release Hook":       "release",
	"Pipeline Hook":      "pipeline",
	"Job Hook":           "build",
	"Deployment Hook":    "deployment",
	"System Hook":        "system",
	"Issue Hook":         "issue",
	"Note Hook":          "note",
}

// eventType returns Event.Type for an X-Gitlab-Event value: the header's
// words in lower case joined by '_', without the final "Hook" ("Tag Push
// Hook" is "tag_push"), or the object_kind unusualTypes names. Only
// letters, digits and spaces are accepted, so the type is never a string
// the sender chose freely.
func eventType(header string) (string, error) {
	if typ, ok := knownTypes[header]; ok {
		return typ, nil
	}
	err := connectors.CheckHeader(HeaderEvent, header, maxEventHeaderSize, func(i int, r rune) bool {
		return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || (i > 0 && (r >= '0' && r <= '9' || r == ' '))
	}, "letters, digits and spaces, starting with a letter, such as \"Push Hook\"")
	if err != nil {
		return "", err
	}
	return slugOf(header), nil
}

// slugOf applies eventType's rule to a checked header.
func slugOf(header string) string {
	if typ, ok := unusualTypes[header]; ok {
		return typ
	}
	words := strings.Fields(header)
	if len(words) > 1 && words[len(words)-1] == hookSuffix {
		words = words[:len(words)-1]
	}
	return strings.ToLower(strings.Join(words, "_"))
}

// headerOf returns the X-Gitlab-Event value of an event type, given either
// as Event.Type ("tag_push", "build") or, for a recorded delivery, as the
// header itself ("Tag Push Hook"). A fixture named after GitLab's UI
// ("job") is the Job Hook too.
func headerOf(typ string) string {
	if strings.ContainsAny(typ, " ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return typ
	}
	if typ == "job" {
		return "Job Hook"
	}
	for header, t := range unusualTypes {
		if t == typ {
			return header
		}
	}
	words := strings.Split(typ, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ") + " " + hookSuffix
}

// deliveryID returns the id that de-duplicates a delivery. A signed one
// (see signed) has the webhook-id its signature covers, which GitLab sets
// to the Idempotency-Key: an Idempotency-Key that differs is refused, as
// it would let a captured delivery be replayed as a new event under a new
// key. An unsigned one has Idempotency-Key, which GitLab keeps across
// retries and resends, else X-Gitlab-Event-UUID (GitLab before 17.4), else
// the hash of the body (GitLab before 14.8). A header that is present must
// be a well-formed id.
func deliveryID(h http.Header, body []byte) (id, idFrom string, err error) {
	if signed(h) {
		id := schemes.ReadHeaders(h).ID
		if err := connectors.CheckDeliveryID("the "+schemes.HeaderWebhookID+" header", id); err != nil {
			return "", "", err
		}
		if len(h.Values(HeaderIdempotencyKey)) > 0 && h.Get(HeaderIdempotencyKey) != id {
			return "", "", fmt.Errorf("%w: the %s header differs from %s; they must match, as GitLab sends them, since the signature covers %s only", connectors.ErrMalformed, HeaderIdempotencyKey, schemes.HeaderWebhookID, schemes.HeaderWebhookID)
		}
		return id, "", nil
	}
	for _, name := range []string{HeaderIdempotencyKey, HeaderEventUUID} {
		if v := h.Get(name); v != "" {
			return v, "", connectors.CheckDeliveryID("the "+name+" header", v)
		}
	}
	return connectors.ContentHash(body), connectors.IDFromContentHash, nil
}

// checkContentType accepts application/json, the only type GitLab sends.
func checkContentType(ct string) error {
	if ct == "application/json" {
		return nil
	}
	if ct == "" {
		return fmt.Errorf("%w: the Content-Type header is missing; GitLab sends application/json", connectors.ErrUnsupportedMediaType)
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: cannot read Content-Type %q; GitLab sends application/json", connectors.ErrUnsupportedMediaType, ct)
	}
	if mediaType != "application/json" {
		return fmt.Errorf("%w: %q; GitLab sends application/json", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}

// malformed wraps a JSON decoding error of one event type.
func malformed(typ string, err error) error {
	return fmt.Errorf("%w: the %s payload is not valid JSON of the expected shape: %v", connectors.ErrMalformed, typ, err)
}
