// Package intake decides what becomes of a verified webhook delivery: a
// duplicate of one already accepted, refused by policy and recorded as
// such, or accepted and durably queued exactly once. Every way a delivery
// can enter Reflex (the HTTP intake today, a replay or a batch later)
// goes through Accept, so each makes the same decisions.
package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/policies"
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
	// Refused: policy refused the delivery; it was recorded, not queued.
	Refused
)

// Delivery is a verified delivery, normalized, with what policies may know
// of how it arrived.
type Delivery struct {
	// Event is the normalized event; the intake sets its status.
	Event *event.Event
	// Payload is the provider's document, stored with the event.
	Payload []byte
	// Connector is the name of the connector that verified it.
	Connector string
	// IP is the sender's address as the server determined it.
	IP string
	// Headers are the request headers policies may see, by lower-case
	// name.
	Headers map[string]string
}

// Result is the intake's answer about one delivery.
type Result struct {
	Outcome Outcome
	// Decision is the receive decision; zero for a duplicate, which is
	// not decided again.
	Decision policies.Decision
}

// Intake queues accepted events exactly once per source and delivery id.
type Intake struct {
	Client   *asynq.Client
	Store    *state.Store
	Authz    policies.Authorizer
	Log      *slog.Logger
	MaxRetry int
}

// Accept decides a delivery and returns only once its outcome is durable:
// a duplicate of a delivery accepted within the dedupe window is answered
// as such whatever the policies say now (a replay must never turn into a
// denial); otherwise the receive decision is taken, a refusal is recorded
// on the event, and an accepted delivery is queued. Errors wrap
// ErrUnavailable when Redis could not be reached: nothing was decided for
// good, and the sender should retry.
func (in *Intake) Accept(ctx context.Context, d Delivery) (Result, error) {
	ev := d.Event
	seen, err := in.Store.Accepted(ctx, ev.Source, ev.ID)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if seen {
		return Result{Outcome: Duplicate}, nil
	}
	dec := in.Authz.Authorize(ctx, policies.Request{
		Caller: &auth.Caller{Kind: policies.KindSource, Name: ev.Source, Source: ev.Source, Connector: d.Connector},
		Action: policies.ActionReceive, Type: policies.TypeEvent, Name: ev.ID, Event: ev,
		IP: d.IP, Headers: d.Headers, Verified: true,
	})
	trail, err := json.Marshal(dec)
	if err != nil {
		return Result{}, fmt.Errorf("encode the decision on %s: %w", ev.ID, err)
	}
	if !dec.Allowed {
		ev.Status = event.StatusDenied
		if err := in.Store.SaveEvent(ctx, ev, nil, state.Refused, trail); err != nil {
			return Result{}, fmt.Errorf("%w: record the refusal of %s: %v", ErrUnavailable, ev.ID, err)
		}
		return Result{Outcome: Refused, Decision: dec}, nil
	}
	outcome, err := in.enqueue(ctx, ev, d.Payload, trail)
	return Result{Outcome: outcome, Decision: dec}, err
}

// enqueue queues ev, whose delivery was not seen, and returns only once
// the job is in Redis. decisions (JSON) are recorded on the event.
//
// Exactly-once rests on two records: while a job exists, its task id
// (source/delivery id) makes a second enqueue conflict, atomically, even for
// copies arriving at the same moment; once it has run, the small dedupe
// record written with the event (kept for the dedupe window) answers the
// next Accept. Writing that record after the enqueue, never before, means a
// failure half-way can only let a redelivery through, never lose an event;
// the worker's writes are idempotent, so that is harmless.
func (in *Intake) enqueue(ctx context.Context, ev *event.Event, payload []byte, decisions ...[]byte) (Outcome, error) {
	ev.Status = event.StatusQueued
	task, err := jobs.NewProcessEventTask(ev, payload, in.maxRetry())
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
