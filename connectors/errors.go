package connectors

import (
	"errors"
	"fmt"
)

// Errors a connector returns, wrapped with a message a person can act on.
// The intake maps each to an HTTP status.
var (
	// ErrUnauthorized: the signature is missing or does not match (401).
	ErrUnauthorized = errors.New("signature verification failed")
	// ErrMalformed: the request or its body cannot be understood (400).
	ErrMalformed = errors.New("malformed delivery")
	// ErrUnsupportedMediaType: the body's content type is not one the
	// provider sends (415).
	ErrUnsupportedMediaType = errors.New("unsupported content type")
	// ErrStale: a signed timestamp lies outside the source's tolerance, as
	// a replayed or long-delayed delivery's does (401). It wraps
	// ErrUnauthorized.
	ErrStale = fmt.Errorf("%w: the signed timestamp is outside the tolerance", ErrUnauthorized)
	// ErrUnavailable: what verification needs from the network (a
	// provider's published keys or signing certificate) cannot be had
	// now (503 with Retry-After, so the provider delivers again later).
	// It never means the delivery is forged.
	ErrUnavailable = errors.New("verification is unavailable")
)
