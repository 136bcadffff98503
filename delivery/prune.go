package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/state"
)

// DefaultKeep is how many ended delivery records are kept by default.
const DefaultKeep = 10000

// pruneBatch bounds how many records one pass removes.
const pruneBatch = 500

// Retention bounds how many delivery records are kept. A delivery that
// has not ended (waiting, queued, running or retrying) is never removed,
// nor one younger than MinAge: its record is what keeps an event processed
// again from delivering twice.
type Retention struct {
	// Keep is how many records are kept, newest first. Default
	// DefaultKeep.
	Keep int
	// MaxAge, when set, also removes ended records created longer ago.
	MaxAge time.Duration
	// MinAge is how long a record is kept whatever Keep says: at least as
	// long as a redelivered webhook is recognised (the dedupe window) and
	// a delivery's job id stays reserved. Default DefaultMinAge.
	MinAge time.Duration
}

// DefaultMinAge outlasts the default dedupe window and the day a
// finished job keeps its id reserved.
const DefaultMinAge = 25 * time.Hour

// Prune removes the oldest ended delivery records beyond the retention,
// with their kept jobs, looking at the pruneBatch oldest per call; it
// returns how many it removed. Records it may not remove (not ended, too
// young) are passed over, so they never hold back the ones behind them.
func (d *Dispatcher) Prune(ctx context.Context) (int, error) {
	r := d.Retention
	if r.Keep <= 0 {
		r.Keep = DefaultKeep
	}
	if r.MinAge <= 0 {
		r.MinAge = DefaultMinAge
	}
	now := d.now()
	names, total, err := d.Store.Oldest(ctx, state.TypeDeploy, pruneBatch, time.Time{})
	if err != nil {
		return 0, err
	}
	excess := int(total) - r.Keep
	removed := 0
	for _, id := range names {
		rec, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
		if errors.Is(err, state.ErrNotFound) {
			if err := d.Store.Unindex(ctx, state.TypeDeploy, id); err != nil {
				return removed, err
			}
			excess--
			continue
		}
		if err != nil {
			return removed, err
		}
		age := now.Sub(rec.CreatedAt)
		if age < r.MinAge {
			break // the rest are younger still
		}
		if excess <= 0 && (r.MaxAge <= 0 || age < r.MaxAge) {
			break // within both bounds, and so are the younger ones
		}
		if !statusOf(rec).Ended() {
			continue
		}
		err = d.Store.Delete(ctx, state.TypeDeploy, id, rec.Version)
		if errors.Is(err, state.ErrNotFound) || errors.Is(err, state.ErrStale) {
			continue // changed meanwhile (run again, say): left for the next pass
		}
		if err != nil {
			return removed, fmt.Errorf("prune delivery %s: %w", id, err)
		}
		if err := d.Redis.Del(ctx, keyspace.DeliveryJob(id)).Err(); err != nil {
			return removed, fmt.Errorf("prune the job of %s: %w", id, err)
		}
		removed++
		excess--
	}
	return removed, nil
}
