package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/state"
)

// reply is a Redis error reply, as go-redis returns one.
type reply string

func (r reply) Error() string { return string(r) }
func (reply) RedisError()     {}

func TestTransient(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", fmt.Errorf("read service x: %w", refused), true},
		{"connection reset", syscall.ECONNRESET, true},
		{"closed mid-reply", io.ErrUnexpectedEOF, true},
		{"pool exhausted", redis.ErrPoolTimeout, true},
		{"loading", reply("LOADING Redis is loading the dataset in memory"), true},
		{"failing over", reply("READONLY You can't write against a read only replica."), true},
		{"a script error", reply("ERR Error running script"), false},
		{"out of memory", reply("OOM command not allowed when used memory > 'maxmemory'."), false},
		{"wrong type", reply("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{"invalid object", fmt.Errorf("update build x: %w", state.ErrInvalid), false},
		{"no zone", fmt.Errorf("trigger t: %w", delivery.ErrNoZone), false},
		{"a plain error", errors.New("service hello has no zone"), false},
		{"the job's deadline", context.DeadlineExceeded, false},
		{"shutdown", redis.ErrClosed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transient(tt.err); got != tt.want {
				t.Errorf("transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	invalid := fmt.Errorf("update build x: %w", state.ErrInvalid)
	err := permanent(invalid)
	if !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, state.ErrInvalid) || err.Error() != invalid.Error() {
		t.Errorf("permanent(invalid) = %v: want SkipRetry, ErrInvalid and the same message", err)
	}
	if other := errors.New("x"); permanent(other) != other || errors.Is(permanent(other), asynq.SkipRetry) {
		t.Error("permanent changed an error that another attempt may cure")
	}
}
