package jobs

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/state"
)

// untilReachable runs fn, retrying while it fails for a reason known to
// pass (Redis unreachable, loading, failing over), until ctx ends. A job
// that rides out a short outage this way completes normally; returning the
// error instead would leave the task stuck as active until its lease
// expires and asynq's recoverer (which runs once a minute) returns it to
// the queue, because asynq cannot record a failure in an unreachable Redis
// either. Any other error is returned at once.
func untilReachable(ctx context.Context, fn func(context.Context) error) error {
	wait := 50 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(wait*2, 2*time.Second)
	}
}

// transientReplies are the Redis error replies that say the server will
// answer again shortly: it is loading its data, a replica is being
// promoted, a cluster slot is moving, or a script runs too long.
var transientReplies = []string{"LOADING", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "BUSY"}

// transient reports whether err is positively known to pass by itself: the
// connection to Redis failed, broke or timed out, or Redis answered with
// one of transientReplies. Anything else (an invalid object, a bug) is not
// retried inside the job.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, redis.ErrClosed) {
		return false // the job's own end, or the worker's shutdown
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		code, _, _ := strings.Cut(reply.Error(), " ")
		for _, r := range transientReplies {
			if code == r {
				return true
			}
		}
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// permanent marks errors that another attempt cannot change, so the task
// fails at once instead of being retried for an hour: what the event
// would write is invalid, or its task cannot be decoded.
func permanent(err error) error {
	if errors.Is(err, state.ErrInvalid) || errors.Is(err, errBadTask) {
		return permanentError{err}
	}
	return err
}

// permanentError is an error that matches asynq.SkipRetry, so asynq does
// not retry its task, with the message of the error it wraps.
type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() []error { return []error{e.err, asynq.SkipRetry} }
