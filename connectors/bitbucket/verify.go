package bitbucket

import (
	"context"
	"net/http"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// signature is Bitbucket's scheme: "sha256=" and the hex HMAC-SHA256 of
// the raw body.
var signature = schemes.HMAC{Prefix: "sha256="}

// Verify checks X-Hub-Signature against each of the source's secrets in
// constant time. A delivery without a signature (a webhook without a
// secret) is refused, and so is an empty secret.
func (*Connector) Verify(_ context.Context, req *connectors.Request, secrets [][]byte) error {
	sig, err := connectors.CredentialHeader(req.Header, HeaderSignature)
	if err != nil {
		return err
	}
	return signature.Check(HeaderSignature, sig, req.Body, secrets, "give the webhook a secret in Bitbucket")
}

// Sign sets X-Hub-Signature as Bitbucket computes it.
func (*Connector) Sign(header http.Header, body, secret []byte) {
	header.Set(HeaderSignature, signature.Sum(body, secret))
}

// Delivery returns the headers Bitbucket Cloud sends with a delivery, and
// the payload as it is: the event key and the request id travel in
// headers only.
func (*Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Bitbucket-Webhooks/2.0")
	h.Set(HeaderEvent, typ)
	h.Set(HeaderDelivery, id)
	h.Set(HeaderAttempt, "1")
	return h, payload
}

// EventType returns the event key of recorded Bitbucket headers.
func (*Connector) EventType(h http.Header, _ []byte) string { return h.Get(HeaderEvent) }

var _ connectors.Simulator = (*Connector)(nil)
