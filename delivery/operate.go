package delivery

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/leases"
	"github.com/reflexops/reflex/state"
)

// ErrState is wrapped when a delivery is not in a state that allows the
// operation.
var ErrState = errors.New("not possible in this state")

// Cancel cancels a delivery: one waiting behind another of its service,
// offered and not yet taken by an agent, or between attempts, ends at once
// (done); one an agent runs, or has just taken, is stopped by its agent,
// which hears of it when it next renews its lease, and ends when the agent
// reports it stopped (not done yet).
func (d *Dispatcher) Cancel(ctx context.Context, id, by string) (done bool, err error) {
	unlock, err := d.lock(ctx, id)
	if err != nil {
		return false, err
	}
	defer unlock()
	rec, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
	if err != nil {
		return false, err
	}
	r, err := recordOf(rec)
	if err != nil {
		return false, err
	}
	service := r.Service
	switch r.Status {
	case StatusWaiting:
		if err := d.Redis.LRem(ctx, keyspace.DeliveryPending(service), 0, id).Err(); err != nil {
			return false, fmt.Errorf("cancel %s: %w", id, err)
		}
	case StatusQueued, StatusRunning, StatusRetrying:
		q, err := d.job(ctx, id)
		if err != nil {
			return false, err
		}
		if r.Status != StatusRetrying {
			leased, err := d.Leases.Cancel(ctx, r.Zone, q.offered())
			switch {
			case errors.Is(err, leases.ErrFinished):
				return false, fmt.Errorf("%w: delivery %s has just finished its attempt", ErrState, id)
			case err != nil && !errors.Is(err, leases.ErrUnknownJob):
				return false, fmt.Errorf("cancel %s: %w", id, err)
			case leased:
				d.setReason(ctx, id, "cancel requested by "+by+"; the agent stops it")
				return false, nil
			}
		}
		if err := d.ended(ctx, service, r.Release); err != nil {
			return false, err
		}
		if err := d.next(ctx, service, id); err != nil {
			return false, err
		}
	default:
		return false, fmt.Errorf("%w: delivery %s is %v; only a waiting, queued, running or retrying one can be cancelled", ErrState, id, r.Status)
	}
	d.setStatus(ctx, id, moveCancel, "cancelled by "+by)
	return true, nil
}

// setReason records why a delivery is about to move, without moving it.
func (d *Dispatcher) setReason(ctx context.Context, id, reason string) {
	_, _, err := d.Store.Update(ctx, state.TypeDeploy, id, 0, writer, editRecord(func(r *Record) error {
		r.Reason = reason
		return nil
	}))
	if err != nil {
		d.Log.Warn("cannot update the deployment record", "delivery", id, "error", err)
	}
}

// Retry runs a finished delivery that failed, was refused or cancelled
// again: its job is signed afresh, with the service's next sequence, and
// dispatched like a new one, behind any delivery of its service that runs.
func (d *Dispatcher) Retry(ctx context.Context, id, by string) error {
	if d.Signer == nil {
		return ErrNoSigner
	}
	rec, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
	if err != nil {
		return err
	}
	r, err := recordOf(rec)
	if err != nil {
		return err
	}
	if !moveRunAgain.allows(r.Status) {
		return fmt.Errorf("%w: delivery %s is %v; only a failed, refused, cancelled or superseded one can run again", ErrState, id, r.Status)
	}
	// A delivery records its end a moment before it hands its service on;
	// run again in between, it would hold the service and then lose it.
	service := r.Service
	holder, err := d.Redis.Get(ctx, keyspace.DeliveryLock(service)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read the lock of %s: %w", service, err)
	}
	if holder == id {
		return fmt.Errorf("%w: delivery %s is still handing service %s on; try again in a moment", ErrState, id, service)
	}
	q, err := d.job(ctx, id)
	if err != nil {
		return err
	}
	d.setStatus(ctx, id, moveRunAgain, "run again by "+by)
	return d.dispatch(ctx, q, false)
}
