package hmac

import (
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/pathnorm"
	"github.com/reflexops/reflex/connectors/schemes"
	"github.com/reflexops/reflex/event"
)

// Name is the connector's name in the configuration.
const Name = "hmac"

// Connector verifies and normalizes deliveries signed with an HMAC as a
// source's settings say. New returns it with the default settings.
type Connector struct {
	// header carries the signature, made as scheme says.
	header string
	scheme schemes.HMAC
	// signed is the signed message's template, nil when it is the body;
	// signsID is true when it holds the delivery id.
	signed  template
	signsID bool
	// timestampHeader, when set, carries the signed Unix time, which
	// must lie within tolerance of the receive time.
	timestampHeader string
	tolerance       time.Duration
	// idHeader and typeHeader carry the delivery id and the event type,
	// when the sender sends them; idWhat and typeWhat name them in
	// errors.
	idHeader, idWhat     string
	typeHeader, typeWhat string
	// policyHeaders are the descriptive headers of the settings.
	policyHeaders []string
	spec          *pathnorm.Spec
}

var (
	_ connectors.Connector      = (*Connector)(nil)
	_ connectors.PolicyHeaderer = (*Connector)(nil)
)

// New returns an HMAC connector with the default settings: GitHub's
// scheme, content-hash ids, and the type in the payload's "type".
func New() connectors.Connector {
	c := &Connector{}
	if err := c.Configure(nil); err != nil {
		panic("hmac: the default settings are invalid: " + err.Error())
	}
	return c
}

// Name returns "hmac".
func (*Connector) Name() string { return Name }

// PolicyHeaders returns the delivery id, event type and timestamp headers
// the settings name, which policies may see. The slice is shared: callers
// must not change it.
func (c *Connector) PolicyHeaders() []string { return c.policyHeaders }

// Parse decodes a verified delivery: its id (or the hash of its body),
// its type, and the event the settings read from the payload.
func (c *Connector) Parse(req *connectors.Request) (*connectors.Result, error) {
	if err := checkContentType(req.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	ev := &event.Event{
		Source:     req.Source,
		Connector:  Name,
		ReceivedAt: req.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if c.idHeader != "" {
		ev.ID = req.Header.Get(c.idHeader)
		if err := connectors.CheckDeliveryID(c.idWhat, ev.ID); err != nil {
			return nil, err
		}
	} else {
		ev.ID, ev.IDFrom = connectors.ContentHash(req.Body), connectors.IDFromContentHash
	}
	if c.typeHeader != "" {
		ev.Type = req.Header.Get(c.typeHeader)
		if ev.Type == "" {
			ev.Type = pathnorm.UnknownType
		} else if err := pathnorm.CheckType(c.typeWhat, ev.Type); err != nil {
			return nil, err
		}
	}
	if err := c.spec.Apply(req.Body, ev); err != nil {
		return nil, err
	}
	return &connectors.Result{Event: ev, Payload: req.Body}, nil
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
		return fmt.Errorf("%w: %q; the hmac connector reads JSON payloads: send application/json", connectors.ErrUnsupportedMediaType, mediaType)
	}
	return nil
}
