package jobs

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
)

// EventSummary is what a TypeProcessEvent job may show of its event to
// whoever inspects the queue: which event it is, never its payload or
// fields, which may hold the provider's data.
type EventSummary struct {
	Source string `json:"source"`
	ID     string `json:"id"`
	Kind   string `json:"kind,omitempty"`
	// Replay is the replay's number, 0 for the event's own job.
	Replay int `json:"replay,omitempty"`
}

// SummarizeEvent returns the summary of a job of type typ with payload,
// or nil when it is not a TypeProcessEvent job or its payload cannot be
// decoded.
func SummarizeEvent(typ string, payload []byte) *EventSummary {
	if typ != TypeProcessEvent {
		return nil
	}
	job, err := decodeProcessEvent(payload)
	if err != nil {
		return nil
	}
	ev := job.event
	return &EventSummary{Source: ev.Source, ID: ev.ID, Kind: string(ev.Kind), Replay: ev.Replays}
}

// unspill moves a task id from the spill list (KEYS[1]) to the newest end
// of the pending list (KEYS[2]). Returns 1 when it moved it.
var unspill = redis.NewScript(`
if redis.call("LREM", KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call("LPUSH", KEYS[2], ARGV[1])
return 1
`)

// Unspill moves a pending job of queue from its spill list (see Refill)
// to its pending list, where asynq's inspector finds it: deleting or
// archiving a spilled job would otherwise leave its id in the spill list,
// for Refill to hand the worker a job that no longer exists. A job that
// is not spilled is left where it is.
func Unspill(ctx context.Context, rdb redis.UniversalClient, queue, id string) error {
	if err := unspill.Run(ctx, rdb, []string{keyspace.AsynqSpill(queue), keyspace.AsynqPending(queue)}, id).Err(); err != nil {
		return fmt.Errorf("move job %s out of the spill list: %w", id, err)
	}
	return nil
}
