package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/state"
)

// ErrUnavailable wraps failures to reach Redis: the delivery was not
// queued and the sender should retry later.
var ErrUnavailable = errors.New("the job queue is unavailable")

// DefaultMaxRetry is how often a failed event is retried before it is
// marked failed.
const DefaultMaxRetry = 12

// Outcome is what the intake did with a delivery.
type Outcome int

// The intake outcomes.
const (
	// Accepted: a job was durably queued.
	Accepted Outcome = iota + 1
	// Duplicate: the delivery id was already accepted; nothing was queued.
	Duplicate
)

// Intake queues accepted events exactly once per source and delivery id.
type Intake struct {
	Client   *asynq.Client
	Store    *state.Store
	Log      *slog.Logger
	MaxRetry int
}

// Seen reports whether ev's delivery was already accepted within the
// dedupe window. The intake asks before anything else is decided, so a
// redelivery is answered as a duplicate whatever the policies say now.
func (in *Intake) Seen(ctx context.Context, ev *event.Event) (bool, error) {
	seen, err := in.Store.Accepted(ctx, ev.Source, ev.ID)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return seen, nil
}

// Enqueue queues ev, whose delivery Seen did not find, and returns only
// once the job is in Redis. decisions (JSON) are recorded on the event.
//
// Exactly-once rests on two records: while a job exists, its task id
// (source/delivery id) makes a second enqueue conflict, atomically, even for
// copies arriving at the same moment; once it has run, the small dedupe
// record written with the event (kept for the dedupe window) answers Seen.
// Writing that record after the enqueue, never before, means a failure
// half-way can only let a redelivery through, never lose an event; the
// worker's writes are idempotent, so that is harmless.
func (in *Intake) Enqueue(ctx context.Context, ev *event.Event, payload []byte, decisions ...[]byte) (Outcome, error) {
	ev.Status = event.StatusQueued
	task, err := NewProcessEventTask(ev, payload, in.maxRetry())
	if err != nil {
		return 0, err
	}
	if _, err := in.Client.EnqueueContext(ctx, task); err != nil {
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return Duplicate, nil
		}
		return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	// The job is durable from here on: a failure to write the first record
	// is logged, not returned; the worker writes the record again.
	if err := in.Store.SaveEvent(ctx, ev, nil, state.IfAbsent, decisions...); err != nil {
		in.Log.Warn("job queued, but its event record could not be written yet", "source", ev.Source, "delivery_id", ev.ID, "error", err)
	}
	return Accepted, nil
}

func (in *Intake) maxRetry() int {
	if in.MaxRetry > 0 {
		return in.MaxRetry
	}
	return DefaultMaxRetry
}
