package jenkins

import (
	"fmt"
	"mime"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "jenkins"

// Connector verifies and normalizes the Notification plugin's deliveries,
// and confirms finished builds with Jenkins when its settings ask. New
// returns one with the default settings: the token in the URL, no
// confirmation.
type Connector struct {
	// mode is where the token is: tokenInURL, tokenInHeader or
	// tokenInBasic.
	mode string
	// header names the header that holds the token in tokenInHeader mode.
	header string
	// confirm is where and as whom finished builds are confirmed; nil
	// when they are not.
	confirm *confirmTarget
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
	_ connectors.PathTokenTaker = (*Connector)(nil)
)

// New returns a Jenkins connector that takes the token in the URL.
func New() connectors.Connector { return &Connector{mode: tokenInURL} }

// Name returns "jenkins".
func (*Connector) Name() string { return Name }

// PolicyHeaders returns no header of Jenkins' own: the plugin sends none
// that describes the delivery.
func (*Connector) PolicyHeaders() []string { return nil }

// TakesPathToken reports whether deliveries carry their token in the URL,
// /hooks/{source}/{token}: the default.
func (c *Connector) TakesPathToken() bool { return c.mode == tokenInURL }

// Parse decodes a verified notification once and normalizes it.
func (*Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	var n notification
	if err := connectors.Decode(req.Body, &n); err != nil {
		return nil, fmt.Errorf("%w: the body is not a Notification plugin document: %v", connectors.ErrMalformed, err)
	}
	ev := &event.Event{
		ID:         connectors.ContentHash(req.Body),
		IDFrom:     connectors.IDFromContentHash,
		Source:     req.Source,
		Connector:  Name,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if err := normalize(&n, ev); err != nil {
		return nil, err
	}
	return &connectors.Result{Event: ev, Payload: req.Body, Checked: true}, nil
}

// contentTypes names what the plugin sends, for errors.
const contentTypes = "the Notification plugin sends application/json when the endpoint's format is JSON"

// checkContentType accepts JSON, and no Content-Type at all; XML (the
// plugin's other format) is refused.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: cannot read Content-Type %q; %s", connectors.ErrUnsupportedMediaType, ct, contentTypes)
	}
	switch mediaType {
	case "application/json":
		return nil
	case "application/xml", "text/xml":
		return fmt.Errorf("%w: XML; set the endpoint's format to JSON in the job's notification settings", connectors.ErrUnsupportedMediaType)
	}
	return fmt.Errorf("%w: %q; %s", connectors.ErrUnsupportedMediaType, mediaType, contentTypes)
}
