package handlers

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
)

// DefaultMaxBody is the default request body limit: GitHub's own cap on a
// webhook payload.
const DefaultMaxBody = 25 << 20

// DefaultBodyBudget is the default bound on webhook body bytes held at
// once across all requests: five bodies of the largest size GitHub
// sends, or thousands of ordinary ones.
const DefaultBodyBudget = 128 << 20

// bodyChunk is the first buffer of a body of unknown length; it doubles
// from there.
const bodyChunk = 64 << 10

// BodyBudget bounds the webhook body bytes held in memory at once, across
// all requests: bodies are read before their signature can be checked,
// so without it anyone could drive memory up with large unsigned posts.
// A request that finds the budget spent is answered 503 with Retry-After.
// A nil *BodyBudget bounds nothing.
type BodyBudget struct {
	limit int64
	used  atomic.Int64
}

// NewBodyBudget returns a budget of limit bytes; 0 or less is no bound.
func NewBodyBudget(limit int64) *BodyBudget {
	if limit <= 0 {
		return nil
	}
	return &BodyBudget{limit: limit}
}

// take reserves n bytes, or reports that they are not there.
func (b *BodyBudget) take(n int64) bool {
	if b == nil {
		return true
	}
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// give returns n bytes to the budget.
func (b *BodyBudget) give(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// readBody reads at most limit bytes of a request body. A body declared
// larger is refused before a byte is read; one that turns out larger is
// refused as soon as the limit is passed, without reading the rest.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	body, release, err := readBodyWithin(r, limit, nil)
	release() // no budget: nothing to give back
	return body, err
}

// readBodyWithin reads a body as readBody does, holding in the budget
// the memory its buffer takes (its capacity, not only what was read), as
// the bytes arrive: a declared length is never taken on trust, so idle
// connections that announce large bodies hold nothing. release gives it
// back once the body is no longer needed, and must be called whatever the
// error.
func readBodyWithin(r *http.Request, limit int64, budget *BodyBudget) (body []byte, release func(), err error) {
	var held int64
	release = func() { budget.give(held) }
	if r.ContentLength > limit {
		return nil, release, tooLarge(limit)
	}
	capacity := limit + 1 // the most a buffer needs
	if r.ContentLength >= 0 {
		capacity = r.ContentLength + 1 // room to see the end of the body
	}
	src := io.LimitReader(r.Body, limit+1)
	for {
		if len(body) == cap(body) {
			// Grow by doubling, within what the body can need, taking the
			// new capacity from the budget before allocating it; by one
			// chunk when the budget has no room to double.
			grown := min(max(2*int64(cap(body)), bodyChunk), capacity)
			if grown <= int64(cap(body)) {
				grown = int64(cap(body)) + 1 // a body longer than declared: the read below ends it
			}
			if !budget.take(grown - held) {
				grown = min(int64(cap(body))+bodyChunk, max(capacity, int64(cap(body))+1))
				if !budget.take(grown - held) {
					return nil, release, busy()
				}
			}
			held = grown
			body = append(make([]byte, 0, grown), body...)
		}
		n, rerr := src.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if int64(len(body)) > limit {
			return nil, release, tooLarge(limit)
		}
		if rerr == io.EOF {
			return body, release, nil
		}
		if rerr != nil {
			var maxErr *http.MaxBytesError
			if errors.As(rerr, &maxErr) {
				return nil, release, tooLarge(limit)
			}
			return nil, release, Errorf(http.StatusBadRequest, "the request body could not be read: %v", rerr)
		}
	}
}

func tooLarge(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, "the request body is larger than the limit of %d bytes", limit)
}

// retryAfterBusy is the Retry-After sent while the body budget is spent.
const retryAfterBusy = 2

func busy() *Error {
	return &Error{Status: http.StatusServiceUnavailable, RetryAfter: retryAfterBusy,
		Message: "too many large deliveries are being received at once; nothing was accepted, retry later"}
}
