// Package connectors defines what a connector is: the code that proves a
// provider's webhook delivery genuine and turns it into Reflex's event model.
// Connectors work on plain data (headers, a bounded raw body, a receive time)
// and know nothing of HTTP servers or Redis, so the intake, the fixtures, the
// fuzzers and `reflex send` all run the same code.
package connectors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/jsonvalid"
)

// Request is one webhook delivery as it arrived, before anything is decoded.
type Request struct {
	// Source is the Reflex source the delivery was posted to.
	Source string
	// Method is the HTTP method: POST for a delivery, OPTIONS (or a POST
	// a Handshaker recognises) for an endpoint confirmation. Empty means
	// POST.
	Method string
	// Query holds the URL's query parameters, for providers that can only
	// put a token there. Nil when there were none.
	Query url.Values
	// PathToken is the token of a POST /hooks/{source}/{token} URL, for
	// providers that sign nothing and can only be given a URL; empty on
	// /hooks/{source}. It is a secret: compare it in constant time and
	// never log it.
	PathToken string
	// Header holds the request headers.
	Header http.Header
	// Body is the raw request body, already bounded by the intake.
	Body []byte
	// ReceivedAt is when the delivery arrived.
	ReceivedAt time.Time
}

// Result is what a connector makes of a verified delivery.
type Result struct {
	// Event is the normalized event; nil when Ping is true.
	Event *event.Event
	// Payload is the provider's JSON document (for a form-encoded GitHub
	// delivery, the decoded payload field). A connector need not check all
	// of it (a fast decoder skips what it does not decode): the intake
	// checks it with CheckPayload, once, before storing it.
	Payload []byte
	// Ping is true for a provider's liveness check, which is answered
	// without queueing anything.
	Ping bool
	// Checked is true when Payload was decoded whole with Decode (or
	// checked with CheckPayload), so it is known to be JSON in UTF-8 and
	// the intake need not read it again. The connector tests hold every
	// connector to it.
	Checked bool
	// Batch holds the events of a delivery that carries several (a
	// CloudEvents batch), each a Result with its own Event and Payload;
	// Event and Payload are then nil. The intake de-duplicates and
	// decides each on its own. At most MaxBatch.
	Batch []*Result
}

// MaxBatch is the most events one delivery may carry.
const MaxBatch = 100

// Connector verifies and normalizes one provider's webhook deliveries.
type Connector interface {
	// Name is the connector's name as used in the configuration.
	Name() string
	// Verify returns nil when the request was signed with one of secrets
	// (or, for a connector whose settings hold public keys, by one of
	// them), and an error wrapping ErrUnauthorized otherwise (or
	// ErrUnavailable when keys it must fetch cannot be had). It must
	// compare in constant time, must not decode the body, must refuse a
	// credential header sent twice with different values
	// (CredentialHeader), and judges a signed timestamp against
	// req.ReceivedAt. ctx bounds any lookup a
	// scheme needs (a provider's published keys).
	Verify(ctx context.Context, req *Request, secrets [][]byte) error
	// Parse decodes a verified request. Errors wrap ErrMalformed or
	// ErrUnsupportedMediaType.
	Parse(req *Request) (*Result, error)
}

// Signer is implemented by connectors that can sign a body the way their
// provider does, so `reflex send` and tests can produce genuine deliveries.
type Signer interface {
	// Sign sets the signature headers for body, signed with secret.
	Sign(header http.Header, body, secret []byte)
}

// Simulator is implemented by connectors that can stand in for their
// provider entirely: the headers and body of a delivery, and its
// signature.
type Simulator interface {
	Signer
	// Delivery returns the headers and body the provider sends for a
	// JSON delivery of payload as event type typ with delivery id id. A
	// provider that carries the type or the id in the body gets them
	// written there; the others return payload as it is.
	Delivery(typ, id string, payload []byte) (http.Header, []byte)
	// EventType returns the event type of a recorded delivery, from its
	// headers or its payload ("" when neither names one), so it can be
	// sent again.
	EventType(header http.Header, payload []byte) string
}

// CheckPayload returns an error wrapping ErrMalformed unless payload is a
// JSON document in valid UTF-8: payloads are stored and served as JSON.
// It reads the payload once, at a third of what encoding/json.Valid
// costs.
func CheckPayload(payload []byte) error {
	if jsonvalid.Valid(payload) {
		return nil
	}
	if !utf8.Valid(payload) {
		return fmt.Errorf("%w: the payload is not valid UTF-8", ErrMalformed)
	}
	return fmt.Errorf("%w: the payload is not valid JSON", ErrMalformed)
}

// Decode decodes a JSON document, or a part of one, into v with the fast
// decoder the connectors use (goccy/go-json), after checking in one pass
// that it is valid JSON: that decoder can read past the end of some
// malformed documents, and a verified sender is still a sender. Errors
// are the checker's or the decoder's; callers wrap them with ErrMalformed.
func Decode(data []byte, v any) error {
	if !jsonvalid.Valid(data) {
		if !utf8.Valid(data) {
			return errors.New("it is not valid UTF-8")
		}
		return errors.New("it is not valid JSON")
	}
	return gojson.Unmarshal(data, v)
}

// PathTokenTaker is implemented by connectors whose provider can only be
// given a URL, so that the URL carries the secret: their deliveries come
// to /hooks/{source}/{token} and Verify compares Request.PathToken. The
// intake refuses a URL token for every other connector, so a token
// pasted into the wrong source's URL is never silently ignored.
type PathTokenTaker interface {
	// TakesPathToken reports whether the connector, as configured,
	// reads Request.PathToken.
	TakesPathToken() bool
}

// Confirmer is implemented by connectors whose provider signs nothing but
// can be asked whether an event is true: a registry whether the tag
// exists (with the digest the event names), Jenkins whether the build
// finished so. When a source's settings ask for it (settings.confirm),
// the worker asks before the event changes live state or triggers
// anything, and records the answer on the event; an event the provider
// does not confirm does nothing.
type Confirmer interface {
	// Confirm asks the provider about ev with cred (the source's
	// confirmation credential; zero for anonymous access). It returns
	// nil, nil when the source's settings ask for no confirmation, or
	// when ev is not an event the provider can be asked about; a
	// Confirmation with Confirmed false when the provider refutes it;
	// and an error wrapping ErrUnavailable when the provider cannot be
	// asked now (the worker asks again later). It must bound its own
	// requests in time and ask only the hosts the settings name, never
	// one the payload names.
	Confirm(ctx context.Context, ev *event.Event, cred Credential) (*event.Confirmation, error)
}

// Credential is what a Confirmer authenticates to its provider with.
type Credential struct {
	// Username is the user or robot account; empty for anonymous access.
	Username string
	// Password is its password or token.
	Password string
}
