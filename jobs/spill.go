package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/periodic"
)

// EmbeddedSpillAt bounds the events queue's pending list on the embedded
// Redis. Its lists are Go slices: pushing at the head of one copies the
// whole list, so a backlog of n jobs would make every webhook cost O(n).
// Beyond the bound the intake appends to the spill list instead, which
// costs the same at any length, and Refill moves jobs back as the worker
// takes them. A real Redis needs no bound.
const EmbeddedSpillAt = 1024

// refillBatch bounds the jobs one refill moves, which the embedded Redis
// holds on its script stack at once: at one refill per tick, it moves
// thousands a second.
const refillBatch = 256

// refillEvery is how often the worker moves spilled jobs back: at the
// bound above, the worker would need tens of thousands of jobs a second
// to empty the pending list between two refills.
const refillEvery = 50 * time.Millisecond

// refill moves spilled task ids back to the pending list, oldest first,
// until the pending list holds the bound (ARGV[1]), at most ARGV[2] of
// them.
//
// KEYS: spill list, pending list. ARGV: bound, most to move. Returns how
// many ids it moved.
var refill = redis.NewScript(`
local room = math.min(tonumber(ARGV[1]) - redis.call("LLEN", KEYS[2]), tonumber(ARGV[2]))
if room <= 0 then return 0 end
local ids = redis.call("LPOP", KEYS[1], room)
if not ids then return 0 end
redis.call("LPUSH", KEYS[2], unpack(ids))
return #ids
`)

// Refill moves the events queue's spilled jobs back to its pending list,
// oldest first, up to the bound at, and returns how many it moved. The
// intake spills only while the pending list is full or the spill list is
// not empty, so every spilled job is newer than every pending one and the
// queue keeps its order.
func Refill(ctx context.Context, rdb redis.UniversalClient, at int) (int, error) {
	// A plain read first: the embedded Redis, where refills run, starts an
	// interpreter for every script, and the spill list is mostly empty.
	spill := keyspace.AsynqSpill(QueueEvents)
	n, err := rdb.LLen(ctx, spill).Result()
	if err != nil {
		return 0, fmt.Errorf("refill the events queue: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	moved, err := refill.Run(ctx, rdb, []string{spill, keyspace.AsynqPending(QueueEvents)}, at, refillBatch).Int()
	if err != nil {
		return 0, fmt.Errorf("refill the events queue: %w", err)
	}
	return moved, nil
}

// RunRefill refills the events queue from its spill list until ctx ends.
// A failed refill is logged and tried again on the next tick: the jobs
// wait in the spill list meanwhile.
func RunRefill(ctx context.Context, rdb redis.UniversalClient, at int, log *slog.Logger) {
	periodic.Run(ctx, refillEvery, func(ctx context.Context) {
		if _, err := Refill(ctx, rdb, at); err != nil && ctx.Err() == nil {
			log.Warn("spilled jobs wait; trying again", "error", err)
		}
	})
}

// Spilled returns how many jobs of a queue wait in its spill list: jobs
// that are pending though asynq does not list them yet.
func Spilled(ctx context.Context, rdb redis.UniversalClient, queue string) (int, error) {
	n, err := rdb.LLen(ctx, keyspace.AsynqSpill(queue)).Result()
	if err != nil {
		return 0, fmt.Errorf("count the spilled jobs of %s: %w", queue, err)
	}
	return int(n), nil
}
