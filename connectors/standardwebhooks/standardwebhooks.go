package standardwebhooks

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/pathnorm"
	"github.com/reflexops/reflex/connectors/schemes"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "standard-webhooks"

// Connector verifies and normalizes Standard Webhooks deliveries as a
// source's settings say. New returns it with the default settings.
type Connector struct {
	scheme schemes.StandardWebhooks
	spec   *pathnorm.Spec
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)

// New returns a Standard Webhooks connector with the default settings.
func New() connectors.Connector {
	c := &Connector{}
	if err := c.Configure(nil); err != nil {
		panic("standardwebhooks: the default settings are invalid: " + err.Error())
	}
	return c
}

// Name returns "standard-webhooks".
func (*Connector) Name() string { return Name }

// policyHeaders are the descriptive Standard Webhooks headers: the
// message id and the attempt's time, under both names.
var policyHeaders = []string{
	schemes.HeaderWebhookID, schemes.HeaderWebhookTimestamp, "svix-id", "svix-timestamp",
}

// PolicyHeaders returns the message id and timestamp headers, which
// policies may see. The slice is shared: callers must not change it.
func (*Connector) PolicyHeaders() []string { return policyHeaders }

// Parse decodes a verified delivery: the message id from webhook-id, and
// the event the settings read from the payload.
func (c *Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	id := messageID(req.Header)
	if err := connectors.CheckDeliveryID("the "+schemes.HeaderWebhookID+" header", id); err != nil {
		return nil, err
	}
	ev := &event.Event{
		ID:         id,
		Source:     req.Source,
		Connector:  Name,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if err := c.spec.Apply(req.Body, ev); err != nil {
		return nil, err
	}
	return &connectors.Result{Event: ev, Payload: req.Body}, nil
}

// messageID returns webhook-id, or svix-id without it, as
// schemes.ReadHeaders does; the canonical names are looked up without
// an allocation.
func messageID(h http.Header) string {
	if id := h.Get("Webhook-Id"); id != "" {
		return id
	}
	return h.Get("Svix-Id")
}

// checkContentType accepts a JSON body: application/json, any "+json"
// type, or no Content-Type at all.
func checkContentType(ct string) error {
	if ct == "" || ct == "application/json" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: cannot read Content-Type %q; send application/json", connectors.ErrUnsupportedMediaType, ct)
	}
	if mediaType != "application/json" && !strings.HasSuffix(mediaType, "+json") {
		return fmt.Errorf("%w: %q; Reflex reads Standard Webhooks payloads as JSON: send application/json", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}
