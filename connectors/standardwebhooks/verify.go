package standardwebhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// Verify checks webhook-signature against the source's secrets (v1) and
// the public keys of its settings (v1a), and webhook-timestamp against
// the receive time, with schemes.StandardWebhooks. Empty secrets are
// ignored, so a source with neither a secret nor a key verifies nothing.
func (c *Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	return c.scheme.Verify(req.Header, req.Body, secrets, req.ReceivedAt)
}

// Sign sets the Standard Webhooks headers of body: the message id and
// timestamp already in header (a new id and the current time otherwise),
// and a v1 signature by a "whsec_" secret or a v1a signature by a "whsk_"
// private key.
func (*Connector) Sign(header http.Header, body, secret []byte) {
	hd := schemes.ReadHeaders(header)
	id := hd.ID
	if id == "" {
		id = newMessageID()
	}
	at := time.Now()
	if ts, err := strconv.ParseInt(hd.Timestamp, 10, 64); err == nil {
		at = time.Unix(ts, 0)
	}
	schemes.Sign(header, id, at, body, secret)
}

// newMessageID returns a random message id, "msg_" and 24 hex digits.
func newMessageID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "msg_" + hex.EncodeToString(b[:])
}

// userAgent is what a simulated delivery says it comes from.
const userAgent = "Standard-Webhooks/1.0 (reflex send)"

// Delivery returns the headers of a JSON delivery with message id id, and
// payload with typ written where settings.event_type points. Sign adds
// the timestamp and the signature.
func (c *Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set(schemes.HeaderWebhookID, id)
	return h, c.spec.WithType(payload, typ)
}

// EventType returns the type a recorded payload holds where
// settings.event_type points.
func (c *Connector) EventType(_ http.Header, payload []byte) string {
	return c.spec.Type(payload)
}

var _ connectors.Simulator = (*Connector)(nil)
