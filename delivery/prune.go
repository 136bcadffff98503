package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/reflexops/reflex/state"
)

// DefaultKeep is how many ended delivery records are kept by default.
const DefaultKeep = 10000

// pruneBatch bounds how many records one pass removes.
const pruneBatch = 500

// Retention bounds how many delivery records are kept. A delivery that
// has not ended (waiting, queued, running or retrying) is never removed.
type Retention struct {
	// Keep is how many records are kept, newest first. Default
	// DefaultKeep.
	Keep int
	// MaxAge, when set, also removes ended records created longer ago.
	MaxAge time.Duration
}

// isEnded reports whether a delivery status is final.
func isEnded(status string) bool {
	return slices.Contains([]string{"succeeded", "failed", "refused", "cancelled", "superseded"}, status)
}

// Prune removes the oldest ended delivery records beyond the retention,
// with their kept jobs, at most pruneBatch per call; it returns how many
// it removed.
func (d *Dispatcher) Prune(ctx context.Context) (int, error) {
	keep := d.Retention.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	var before time.Time
	if d.Retention.MaxAge > 0 {
		before = d.now().Add(-d.Retention.MaxAge)
	}
	names, total, err := d.Store.Oldest(ctx, state.TypeDeploy, pruneBatch, before)
	if err != nil {
		return 0, err
	}
	excess := int(total) - keep
	if excess > 0 && before.IsZero() {
		names = names[:min(len(names), excess)]
	} else if excess > 0 {
		// By age, plus as many of the oldest as the count is over.
		byCount, _, err := d.Store.Oldest(ctx, state.TypeDeploy, min(excess, pruneBatch), time.Time{})
		if err != nil {
			return 0, err
		}
		for _, n := range byCount {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	} else if before.IsZero() {
		return 0, nil
	}
	removed := 0
	for _, id := range names {
		rec, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return removed, err
		}
		if status, _ := rec.Content["status"].(string); !isEnded(status) {
			continue
		}
		if err := d.Store.Delete(ctx, state.TypeDeploy, id, rec.Version); err != nil && !errors.Is(err, state.ErrNotFound) && !errors.Is(err, state.ErrStale) {
			return removed, fmt.Errorf("prune delivery %s: %w", id, err)
		}
		if err := d.Redis.Del(ctx, jobKey(id)).Err(); err != nil {
			return removed, fmt.Errorf("prune the job of %s: %w", id, err)
		}
		removed++
	}
	return removed, nil
}
