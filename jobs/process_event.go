package jobs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	json "github.com/goccy/go-json"
	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/projection"
	"github.com/reflexops/reflex/state"
)

// TypeProcessEvent is the task that stores an accepted event and applies it
// to live state.
const TypeProcessEvent = "event:process"

// QueueEvents is the queue of TypeProcessEvent tasks.
const QueueEvents = keyspace.EventsQueue

// The first byte of a task payload says how it was made; it changes when
// the encoding or its meaning does.
const (
	// framedPayload frames the event and its payload; the worker stores
	// the payload when it has processed the event.
	framedPayload = 1
	// payloadStored frames the event alone, for a job the intake queued
	// with the event's record and its payload (ProcessEventJob): the
	// worker reads the payload only when a delivery forwards it, and
	// overwrites the record in place (state.Store.SaveProcessed).
	payloadStored = 2
)

// taskID is the asynq task id of an event: a second copy of a delivery that
// arrives while the first is still queued conflicts on it.
func taskID(source, id string) string { return keyspace.EventMember(source, id) }

// NewProcessEventTask returns the task for an accepted event and its raw
// provider payload. The payload is framed, not re-encoded as JSON, so a
// large body is copied once and never re-validated.
func NewProcessEventTask(ev *event.Event, payload []byte, maxRetry int) (*asynq.Task, error) {
	meta, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	return processEventTask(ev.Source, ev.ID, frame(framedPayload, meta, payload), maxRetry), nil
}

// processEventTask is the asynq task of a framed event.
func processEventTask(source, id string, framed []byte, maxRetry int) *asynq.Task {
	return asynq.NewTask(TypeProcessEvent, framed,
		asynq.Queue(QueueEvents), asynq.TaskID(taskID(source, id)), asynq.MaxRetry(maxRetry), asynq.Timeout(processEventTimeout))
}

// frame puts an event's JSON and its payload in one task payload.
func frame(version byte, meta, payload []byte) []byte {
	return slices.Concat(frameHeader(version, len(meta)), meta, payload)
}

// frameHeader is what precedes an event's JSON of metaLen bytes in a frame.
func frameHeader(version byte, metaLen int) []byte {
	return binary.AppendUvarint([]byte{version}, uint64(metaLen))
}

// errBadTask marks a task payload that can never be processed.
var errBadTask = errors.New("undecodable task payload")

// processEvent is a decoded TypeProcessEvent task.
type processEvent struct {
	event   *event.Event
	payload []byte
	// stored is set when the intake stored the payload with the event.
	stored bool
}

// decodeProcessEvent reverses frame.
func decodeProcessEvent(b []byte) (processEvent, error) {
	if len(b) == 0 || (b[0] != framedPayload && b[0] != payloadStored) {
		return processEvent{}, fmt.Errorf("%w: unknown version", errBadTask)
	}
	n, size := binary.Uvarint(b[1:])
	if size <= 0 || uint64(len(b)-1-size) < n {
		return processEvent{}, fmt.Errorf("%w: truncated", errBadTask)
	}
	meta := b[1+size : 1+size+int(n)]
	var ev event.Event
	if err := json.Unmarshal(meta, &ev); err != nil {
		return processEvent{}, fmt.Errorf("%w: %v", errBadTask, err)
	}
	return processEvent{event: &ev, payload: b[1+size+int(n):], stored: b[0] == payloadStored}, nil
}

// EventProcessor handles TypeProcessEvent tasks.
type EventProcessor struct {
	Store *state.Store
	Log   *slog.Logger
	// Deliveries, when set, delivers what processed events trigger.
	Deliveries *delivery.Decider
	// Confirm, when set, asks an event's provider whether it is true,
	// for sources that ask (connectors.Confirmer): nil, nil when the
	// source asks nothing. An event it does not confirm is recorded as
	// unconfirmed and has no effect; an error is retried.
	Confirm func(ctx context.Context, ev *event.Event) (*event.Confirmation, error)
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// ProcessTask confirms the event with its provider when its source asks,
// applies it to live state, delivers what it triggers, and only then
// stores it as processed (with its payload, when the job
// carries it): an event that
// reads "processed" has had every effect it will have. Each step is
// idempotent, so a retry after a failure half-way is safe. An undecodable
// payload fails for good.
func (p *EventProcessor) ProcessTask(ctx context.Context, t *asynq.Task) error {
	job, err := decodeProcessEvent(t.Payload())
	if err != nil {
		return permanent(err)
	}
	ev := job.event
	payload := delivery.PayloadOf(job.payload)
	if job.stored {
		payload = func(ctx context.Context) ([]byte, error) { return p.Store.Payload(ctx, ev.ID, ev.Source) }
	}
	status := event.StatusProcessed
	if p.Confirm != nil {
		conf, err := p.Confirm(ctx, ev)
		if err != nil {
			return fmt.Errorf("confirm the event with its provider: %w", err)
		}
		if ev.Confirmation = conf; conf != nil && !conf.Confirmed {
			status = event.StatusUnconfirmed
			p.Log.Warn("event not confirmed by its provider; it has no effect", "source", ev.Source, "delivery_id", ev.ID, "request_id", ev.RequestID, "by", conf.By, "detail", conf.Detail)
		}
	}
	if status == event.StatusProcessed {
		err = untilReachable(ctx, func(ctx context.Context) error { return projection.Projector{Store: p.Store}.Apply(ctx, ev) })
		if err != nil {
			return permanent(err)
		}
		if err := untilReachable(ctx, func(ctx context.Context) error { return p.Deliveries.Process(ctx, ev, payload) }); err != nil {
			return permanent(err)
		}
	}
	now := p.now()
	ev.Status, ev.Error, ev.ProcessedAt = status, "", &now
	ev.Attempts, _ = asynq.GetRetryCount(ctx)
	err = untilReachable(ctx, func(ctx context.Context) error {
		if job.stored {
			return p.Store.SaveProcessed(ctx, ev)
		}
		return p.Store.SaveEvent(ctx, ev, job.payload, state.Overwrite)
	})
	if err != nil {
		return err
	}
	p.Log.Debug("event processed", "source", ev.Source, "delivery_id", ev.ID, "request_id", ev.RequestID, "event", ev.Type, "kind", ev.Kind, "status", ev.Status)
	return nil
}

// RecordFailure stores a failed attempt on the event: retrying while
// attempts remain, failed after the last one or a permanent error. It is
// the worker's asynq ErrorHandler.
func (p *EventProcessor) RecordFailure(ctx context.Context, t *asynq.Task, procErr error) {
	job, err := decodeProcessEvent(t.Payload())
	if err != nil {
		p.Log.Error("task failed for good: its payload cannot be decoded", "task_type", t.Type(), "error", procErr)
		return
	}
	ev := job.event
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	ev.Attempts, ev.Error = retried+1, procErr.Error()
	ev.Status = event.StatusRetrying
	log := p.Log.With("source", ev.Source, "delivery_id", ev.ID, "request_id", ev.RequestID, "event", ev.Type, "attempt", ev.Attempts, "error", procErr)
	if retried >= maxRetry || errors.Is(procErr, asynq.SkipRetry) {
		now := p.now()
		ev.Status, ev.ProcessedAt = event.StatusFailed, &now
		log.Error("event processing failed for good")
	} else {
		log.Warn("event processing failed; will retry")
	}
	if err := p.Store.SaveEvent(ctx, ev, nil, state.Overwrite); err != nil {
		log.Error("could not record the failure", "record_error", err)
	}
}

func (p *EventProcessor) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}
