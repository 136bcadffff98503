package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
)

// ErrUnderWay is returned by RequeueEvent when the event's previous job is
// still queued, running or waiting for a retry.
var ErrUnderWay = errors.New("its processing is under way")

// requeueEvent writes an event's record over the stored one and queues a
// job for it as acceptEvent does, in one step, unless the event has left
// the history, the job exists already (another request queued it), or the
// event's previous job is still under way: pending, active, scheduled or
// waiting for a retry (an archived or completed one has ended). The job's
// id goes to the spill list while that holds any, so the queue keeps its
// order (acceptEvent).
//
// KEYS: event, the previous job's hash, the job's hash, its queue's
// pending list, and its spill list when it has one. ARGV: the event's JSON, the job's message,
// its id, the time (ns). Returns 1 when it queued the job, 0 when the
// event is gone, 2 when the job exists, 3 when the previous one is under
// way.
var requeueEvent = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
if redis.call("EXISTS", KEYS[3]) == 1 then return 2 end
local prev = redis.call("HGET", KEYS[2], "state")
if prev and prev ~= "archived" and prev ~= "completed" then return 3 end
redis.call("HSET", KEYS[3], "msg", ARGV[2], "state", "pending", "pending_since", ARGV[4])
if #KEYS >= 5 and redis.call("LLEN", KEYS[5]) > 0 then
  redis.call("RPUSH", KEYS[5], ARGV[3])
else
  redis.call("LPUSH", KEYS[4], ARGV[3])
end
redis.call("SET", KEYS[1], ARGV[1])
return 1
`)

// RequeueEvent records ev over its stored record and queues job, which
// processes it again, in one round trip: the record and the job are
// written together or not at all. previous is the task hash of the
// event's last job. It fails with ErrNotFound when the event has left the
// history, ErrExists when job exists already, and ErrUnderWay when the
// previous job has not ended. No dedupe record is written: the event was
// accepted once, and the job is not a delivery.
func (s *Store) RequeueEvent(ctx context.Context, ev *event.Event, eventJSON []byte, previous string, job *Job) error {
	if err := checkEventKey(ev); err != nil {
		return fmt.Errorf("queue event again: %w", err)
	}
	m := keyspace.EventMember(ev.Source, ev.ID)
	keys := []string{keyspace.Event(m), previous, job.Key, job.Pending}
	if job.Spill != "" {
		keys = append(keys, job.Spill)
	}
	res, err := requeueEvent.Run(ctx, s.rdb, keys, eventJSON, job.Message, job.ID, s.now().UnixNano()).Int()
	switch {
	case err != nil:
		return fmt.Errorf("queue event %s again: %w", m, err)
	case res == 0:
		return fmt.Errorf("event %q of source %q: %w", ev.ID, ev.Source, ErrNotFound)
	case res == 2:
		return fmt.Errorf("job %s: %w", job.ID, ErrExists)
	case res == 3:
		return fmt.Errorf("event %q of source %q: %w", ev.ID, ev.Source, ErrUnderWay)
	}
	return nil
}
