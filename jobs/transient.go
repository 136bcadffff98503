package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// untilReachable runs fn, retrying while it fails because Redis cannot be
// reached, until ctx ends. A job that rides out a short outage this way
// completes normally; returning the error instead would leave the task
// stuck as active until its lease expires and asynq's recoverer (which
// runs once a minute) returns it to the queue, because asynq cannot record
// a failure in an unreachable Redis either.
func untilReachable(ctx context.Context, fn func(context.Context) error) error {
	wait := 50 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil || !unreachable(err) {
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

// unreachable reports whether err is a failure to talk to Redis rather
// than an answer from it.
func unreachable(err error) bool {
	var reply redis.Error
	if errors.As(err, &reply) {
		return false // Redis answered, with an error
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
