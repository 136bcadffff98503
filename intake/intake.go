// Package intake decides what becomes of a verified webhook delivery: a
// duplicate of one already accepted, refused by policy and recorded as
// such, or accepted and durably queued exactly once. Every way a delivery
// can enter Reflex (the HTTP intake today, a replay or a batch later)
// goes through Accept, so each makes the same decisions.
package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	json "github.com/goccy/go-json"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
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
	// RequestID is the id of the request that brought the delivery in;
	// the intake sets it on the event, which carries it to every log
	// line of its journey.
	RequestID string
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
	// Redis is the Redis the store and the job queue share.
	Redis    redis.UniversalClient
	Store    *state.Store
	Authz    policies.Authorizer
	Log      *slog.Logger
	MaxRetry int
	// SpillAt bounds the events queue's pending list (jobs.Refill); 0
	// leaves it unbounded.
	SpillAt int

	// published is set once the events queue is known to asynq.
	published atomic.Bool
}

// Accept decides a delivery and returns only once its outcome is durable,
// in one round trip to Redis: the receive decision is taken, then one
// script answers a delivery accepted within the dedupe window as a
// duplicate whatever the policies say now (a replay must never turn into a
// denial), or records a refusal on the event, or queues the accepted
// delivery's job and records the event, together. Errors wrap
// ErrUnavailable when Redis could not be reached: nothing was decided for
// good, and the sender should retry.
//
// Exactly-once rests on two records the script checks and writes
// atomically: while a job exists, its key (source and delivery id) makes a
// second copy a duplicate, even one arriving at the same moment; once it
// has run, the dedupe record written with it (kept for the dedupe window)
// does. The event is encoded once, for its record and its job.
func (in *Intake) Accept(ctx context.Context, d Delivery) (Result, error) {
	ev := d.Event
	dec := in.Authz.Authorize(ctx, policies.Request{
		Caller: &auth.Caller{Kind: policies.KindSource, Name: ev.Source, Source: ev.Source, Connector: d.Connector},
		Action: policies.ActionReceive, Type: policies.TypeEvent, Name: ev.ID, Event: ev,
		IP: d.IP, Headers: d.Headers, Verified: true,
	})
	trail, err := json.Marshal(dec)
	if err != nil {
		return Result{}, fmt.Errorf("encode the decision on %s: %w", ev.ID, err)
	}
	ev.Status = event.StatusQueued
	if d.RequestID != "" {
		ev.RequestID = d.RequestID
	}
	if !dec.Allowed {
		ev.Status = event.StatusDenied
	}
	meta, err := json.Marshal(ev)
	if err != nil {
		return Result{}, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	var job *state.Job
	if dec.Allowed {
		if err := in.publish(ctx); err != nil {
			return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		job = jobs.ProcessEventJob(ev.Source, ev.ID, meta, in.maxRetry(), in.SpillAt)
	}
	dup, err := in.Store.AcceptEvent(ctx, ev, meta, d.Payload, job, trail)
	switch {
	case err != nil:
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	case dup:
		return Result{Outcome: Duplicate}, nil
	case !dec.Allowed:
		return Result{Outcome: Refused, Decision: dec}, nil
	}
	return Result{Outcome: Accepted, Decision: dec}, nil
}

// publish names the events queue in asynq's set of queues, as asynq's
// client does before its first job: its inspector and servers find queues
// there. Once per Intake.
func (in *Intake) publish(ctx context.Context) error {
	if in.published.Load() {
		return nil
	}
	if err := in.Redis.SAdd(ctx, keyspace.AsynqQueues(), jobs.QueueEvents).Err(); err != nil {
		return fmt.Errorf("publish the events queue: %w", err)
	}
	in.published.Store(true)
	return nil
}

func (in *Intake) maxRetry() int {
	if in.MaxRetry > 0 {
		return in.MaxRetry
	}
	return DefaultMaxRetry
}
