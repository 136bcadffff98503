package hmac

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
)

// Verify checks the signature header against each of the source's
// secrets in constant time (schemes.HMAC), over the body or the signed
// template, and the timestamp header against the receive time. Empty
// secrets never match.
func (c *Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	sig, err := connectors.CredentialHeader(req.Header, c.header)
	if err != nil {
		return err
	}
	if sig == "" {
		return fmt.Errorf("%w: the %s header is missing; give the webhook a secret at the sender", connectors.ErrUnauthorized, c.header)
	}
	if !strings.HasPrefix(sig, c.scheme.Prefix) {
		return fmt.Errorf("%w: %s must start with %q", connectors.ErrUnauthorized, c.header, c.scheme.Prefix)
	}
	msg := req.Body
	if c.signed != nil {
		var ts, id string
		if c.timestampHeader != "" {
			if ts, err = c.checkTimestamp(req); err != nil {
				return err
			}
		}
		if c.signsID {
			if id = req.Header.Get(c.idHeader); id == "" {
				return fmt.Errorf("%w: the %s header is missing; it is signed", connectors.ErrUnauthorized, c.idHeader)
			}
		}
		msg = c.signed.message(ts, id, req.Body)
	}
	if !c.scheme.Matches(sig, msg, secrets) {
		return fmt.Errorf("%w: %s does not match the source's secret", connectors.ErrUnauthorized, c.header)
	}
	return nil
}

// checkTimestamp returns the timestamp header, refusing one that is
// missing, not Unix seconds, or outside the tolerance.
func (c *Connector) checkTimestamp(req *connectors.Request) (string, error) {
	ts := req.Header.Get(c.timestampHeader)
	if ts == "" {
		return "", fmt.Errorf("%w: the %s header is missing", connectors.ErrUnauthorized, c.timestampHeader)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: %s must be whole seconds since 1970", connectors.ErrUnauthorized, c.timestampHeader)
	}
	if err := connectors.CheckTimestamp(c.timestampHeader, secs, req.ReceivedAt, c.tolerance); err != nil {
		return "", err
	}
	return ts, nil
}

// Sign sets the signature header of body as the settings describe it:
// with the timestamp already in header (else the current time) and the
// delivery id already there (else a new one) when they are signed.
func (c *Connector) Sign(header http.Header, body, secret []byte) {
	msg := body
	if c.signed != nil {
		var ts, id string
		if c.timestampHeader != "" {
			ts = header.Get(c.timestampHeader)
			if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
				ts = strconv.FormatInt(time.Now().Unix(), 10)
				header.Set(c.timestampHeader, ts)
			}
		}
		if c.signsID {
			if id = header.Get(c.idHeader); id == "" {
				id = newDeliveryID()
				header.Set(c.idHeader, id)
			}
		}
		msg = c.signed.message(ts, id, body)
	}
	header.Set(c.header, c.scheme.Sum(msg, secret))
}

// newDeliveryID returns a random delivery id of 32 hex digits.
func newDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// userAgent is what a simulated delivery says it comes from.
const userAgent = "Reflex-Send/1.0 (hmac)"

// Delivery returns the headers of a JSON delivery and its body: the id in
// the delivery id header, and the type in the event type header or
// written where settings.event_type points. Sign adds the timestamp and
// the signature.
func (c *Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	if c.idHeader != "" {
		h.Set(c.idHeader, id)
	}
	if c.typeHeader != "" {
		h.Set(c.typeHeader, typ)
		return h, payload
	}
	return h, c.spec.WithType(payload, typ)
}

// EventType returns the type of a recorded delivery, from the event type
// header or the payload.
func (c *Connector) EventType(h http.Header, payload []byte) string {
	if c.typeHeader != "" {
		return h.Get(c.typeHeader)
	}
	return c.spec.Type(payload)
}

var _ connectors.Simulator = (*Connector)(nil)
