package acr

import (
	"fmt"
	"mime"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registryv2"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "acr"

// The actions of Azure Container Registry's webhooks, as Event.Type holds
// them.
const (
	ActionPush        = "push"
	ActionDelete      = "delete"
	ActionChartPush   = "chart_push"
	ActionChartDelete = "chart_delete"
	ActionQuarantine  = "quarantine"
	ActionPing        = "ping"
)

// DefaultHeader is the header that carries the source's secret unless
// settings.header names another.
const DefaultHeader = "Authorization"

// Connector verifies and normalizes Azure Container Registry webhooks.
// New returns one with the default settings: the secret in the
// Authorization header, no confirmation.
type Connector struct {
	// header is the canonical name of the header that carries the
	// secret; empty means DefaultHeader.
	header string
	// loginServer names the registry for events whose payload does not
	// (settings.login_server); empty when not set.
	loginServer string
	// confirm holds settings.confirm; nil when the source asks for no
	// confirmation.
	confirm *registryv2.Settings
}

// New returns an Azure Container Registry connector with the default
// settings.
func New() connectors.Connector { return &Connector{} }

// Name returns "acr".
func (*Connector) Name() string { return Name }

// secretHeader returns the header that carries the source's secret.
func (c *Connector) secretHeader() string {
	if c.header == "" {
		return DefaultHeader
	}
	return c.header
}

// PolicyHeaders returns no header of the registry's own: it sends none
// that describes the delivery, and its custom headers hold the secret.
func (*Connector) PolicyHeaders() []string { return nil }

// Parse decodes a verified delivery, whole: a ping is answered, every
// other action is normalized, and its id is the delivery id.
func (c *Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	var p payload
	if err := connectors.Decode(req.Body, &p); err != nil {
		return nil, fmt.Errorf("%w: the body is not an Azure Container Registry webhook event: %v", connectors.ErrMalformed, err)
	}
	if err := checkAction(p.Action); err != nil {
		return nil, err
	}
	if p.Action == ActionPing {
		return &connectors.Result{Ping: true, Payload: req.Body, Checked: true}, nil
	}
	if err := connectors.CheckDeliveryID("the payload's id", p.ID); err != nil {
		return nil, err
	}
	ev := &event.Event{
		ID:         p.ID,
		Source:     req.Source,
		Connector:  Name,
		Type:       p.Action,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if err := c.normalize(&p, ev); err != nil {
		return nil, err
	}
	return &connectors.Result{Event: ev, Payload: req.Body, Checked: true}, nil
}

// maxAction bounds the payload's action; the longest known is
// "chart_delete".
const maxAction = 32

// checkAction accepts the shape of the registry's actions: lower-case
// words joined by '_'.
func checkAction(action string) error {
	return connectors.CheckValue("the payload's action", action, maxAction, func(i int, r rune) bool {
		return r >= 'a' && r <= 'z' || (i > 0 && r == '_')
	}, "lower-case letters and '_'")
}

// checkContentType accepts JSON, the body the registry sends
// ("application/json" unless the webhook's custom headers set another
// Content-Type), and a delivery without a Content-Type.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: cannot read Content-Type %q; Azure Container Registry sends application/json", connectors.ErrUnsupportedMediaType, ct)
	}
	if mediaType != "application/json" {
		return fmt.Errorf("%w: %q; Azure Container Registry sends application/json (remove the Content-Type custom header from the webhook)", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)
