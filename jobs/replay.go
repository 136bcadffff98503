package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	json "github.com/goccy/go-json"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/state"
)

// ErrNotAccepted is returned by Replay for an event that was never
// accepted (denied by policy): it has no payload and no effects to run
// again. Once a policy allows it, the provider can deliver it again.
var ErrNotAccepted = errors.New("the event was not accepted")

// replayTaskID is the task id of an event's n-th replay. An event id holds
// no "/", so it never names another event's job, nor the original's.
func replayTaskID(source, id string, n int) string {
	return taskID(source, id) + "/replay-" + strconv.Itoa(n)
}

// lastTaskID is the task id of the last job that processed (or processes)
// an event: its original job, or its last replay's.
func lastTaskID(ev *event.Event) string {
	if ev.Replays == 0 {
		return taskID(ev.Source, ev.ID)
	}
	return replayTaskID(ev.Source, ev.ID, ev.Replays)
}

// Replay has a stored event processed again: it queues a fresh
// TypeProcessEvent job for it, which reads the stored payload as the
// intake's jobs do, so its projection, triggers and deliveries run again
// (a delivery made before is not made twice: see docs/operations.md). The
// event's record is marked queued, with its replays counted and the time
// of this one, in the same step as the job is queued (state.RequeueEvent).
//
// A replay is deliberate, so it runs whatever the de-duplication record
// says, under a task id of its own (the original's never collides with
// it). It is refused with ErrNotAccepted for an event denied by policy,
// with state.ErrUnderWay while the event's last job is queued, running or
// waiting for a retry, and with state.ErrExists when another replay
// queued the same job meanwhile. source may be empty, as for
// state.Store.Event.
func Replay(ctx context.Context, rdb redis.UniversalClient, store *state.Store, id, source string, maxRetry int) (*event.Event, string, error) {
	ev, err := store.Event(ctx, id, source)
	if err != nil {
		return nil, "", err
	}
	if ev.Status == event.StatusDenied {
		return nil, "", fmt.Errorf("replay event %q: %w: a policy denied it", ev.ID, ErrNotAccepted)
	}
	previous := keyspace.AsynqTask(QueueEvents, lastTaskID(ev))
	now := store.Now()
	ev.Replays++
	ev.ReplayedAt, ev.ProcessedAt = &now, nil
	ev.Status, ev.Attempts, ev.Error = event.StatusQueued, 0, ""
	meta, err := json.Marshal(ev)
	if err != nil {
		return nil, "", fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	task := replayTaskID(ev.Source, ev.ID, ev.Replays)
	job := storedEventJob(task, meta, maxRetry)
	job.Spill = keyspace.AsynqSpill(QueueEvents)
	// asynq's inspector and servers find queues in its set of queues.
	if err := rdb.SAdd(ctx, keyspace.AsynqQueues(), QueueEvents).Err(); err != nil {
		return nil, "", fmt.Errorf("publish the events queue: %w", err)
	}
	if err := store.RequeueEvent(ctx, ev, meta, previous, job); err != nil {
		return nil, "", fmt.Errorf("replay event %q: %w", ev.ID, err)
	}
	return ev, task, nil
}
