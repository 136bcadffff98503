package connectors

import (
	"context"
	"net/http"
)

// Handshaker is implemented by connectors whose provider confirms an
// endpoint before delivering to it: the CloudEvents webhook validation
// request (OPTIONS), a subscription confirmation. The intake offers every
// request to Handshake first; one it claims is answered with its Reply
// and never queued.
type Handshaker interface {
	// Handshake answers req if it is the provider's confirmation, with
	// ok true; for anything else (a delivery) it returns ok false and
	// the request goes on to Verify and Parse. Errors wrap
	// ErrUnauthorized or ErrMalformed as Verify's and Parse's do.
	Handshake(ctx context.Context, req *Request, secrets [][]byte) (reply *Reply, ok bool, err error)
}

// Reply is the answer to a handshake.
type Reply struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Header holds headers to set on the answer.
	Header http.Header
	// Message is a line for the JSON answer's message.
	Message string
}
