package artifactory

import (
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "artifactory"

// HeaderAuth is the header Artifactory authenticates a delivery with: the
// HMAC of the body when the handler signs, its secret as it is when not.
const HeaderAuth = "X-JFrog-Event-Auth"

// Connector verifies and normalizes Artifactory webhook deliveries. New
// returns one with the default settings: signed deliveries.
type Connector struct {
	// tokenHeader names the header that holds the secret as it is; empty
	// means the deliveries are signed (HeaderAuth holds an HMAC).
	tokenHeader string
	// registryHost is the Docker registry's host, when the settings name
	// it.
	registryHost string
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)

// New returns an Artifactory connector that expects signed deliveries.
func New() connectors.Connector { return &Connector{} }

// Name returns "artifactory".
func (*Connector) Name() string { return Name }

// PolicyHeaders returns no header of Artifactory's own: it sends none that
// describes the delivery, and its auth header and a handler's custom
// headers may hold the secret.
func (*Connector) PolicyHeaders() []string { return nil }

// Parse decodes a verified delivery once and normalizes it.
func (c *Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	var p payload
	if err := connectors.Decode(req.Body, &p); err != nil {
		return nil, fmt.Errorf("%w: the body is not an Artifactory webhook event: %v", connectors.ErrMalformed, err)
	}
	if err := checkWord("the payload's domain", p.Domain); err != nil {
		return nil, err
	}
	if err := checkWord("the payload's event_type", p.EventType); err != nil {
		return nil, err
	}
	ev := &event.Event{
		ID:         connectors.ContentHash(req.Body),
		IDFrom:     connectors.IDFromContentHash,
		Source:     req.Source,
		Connector:  Name,
		Type:       p.Domain,
		Action:     p.EventType,
		Actor:      actor(p.Source),
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if err := c.normalize(&p, ev); err != nil {
		return nil, err
	}
	return &connectors.Result{Event: ev, Payload: req.Body, Checked: true}, nil
}

// maxWord bounds a domain or an event type; JFrog's longest are about 30
// characters ("artifactory_release_bundle").
const maxWord = 64

// checkWord accepts the shape of JFrog's domains and event types:
// lower-case words joined by '_'.
func checkWord(what, word string) error {
	return connectors.CheckValue(what, word, maxWord, func(i int, r rune) bool {
		return r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '_')
	}, "lower-case letters, digits and '_', starting with a letter")
}

// contentTypes names what Artifactory sends, for errors.
const contentTypes = "Artifactory's predefined webhooks send application/json"

// checkContentType accepts JSON, and no Content-Type at all.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: cannot read Content-Type %q; %s", connectors.ErrUnsupportedMediaType, ct, contentTypes)
	}
	if mediaType != "application/json" {
		return fmt.Errorf("%w: %q; %s", connectors.ErrUnsupportedMediaType, mediaType, contentTypes)
	}
	return nil
}

// contentType is what Artifactory sends as Content-Type.
const contentType = "application/json"

// newHeader returns the headers of a delivery, before its signature.
func newHeader() http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	return h
}
