package delivery

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// ErrState is wrapped when a delivery is not in a state that allows the
// operation.
var ErrState = errors.New("not possible in this state")

// Cancel cancels a delivery that has not started: one waiting behind
// another of its service, or queued and not yet taken by an agent.
func (d *Dispatcher) Cancel(ctx context.Context, id, by string) error {
	rec, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
	if err != nil {
		return err
	}
	r, err := recordOf(rec)
	if err != nil {
		return err
	}
	service, zone := r.Service, r.Zone
	switch r.Status {
	case StatusWaiting:
		if err := d.Redis.LRem(ctx, keyspace.DeliveryPending(service), 0, id).Err(); err != nil {
			return fmt.Errorf("cancel %s: %w", id, err)
		}
	case StatusQueued:
		err := d.Inspector.DeleteTask(wire.Queue(zone), id)
		if errors.Is(err, asynq.ErrTaskNotFound) || (err != nil && !errors.Is(err, asynq.ErrQueueNotFound)) {
			return fmt.Errorf("%w: delivery %s was taken by an agent meanwhile", ErrState, id)
		}
		if err := d.ended(ctx, service, r.Release); err != nil {
			return err
		}
		if err := d.next(ctx, service, id); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: delivery %s is %v; only a waiting or queued one can be cancelled", ErrState, id, r.Status)
	}
	d.setStatus(ctx, id, moveCancel, "cancelled by "+by)
	return nil
}

// Retry runs a finished delivery that failed, was refused or cancelled
// again: its job is signed afresh and dispatched like a new one, behind
// any delivery of its service that runs.
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
	if err := d.Inspector.DeleteTask(wire.Queue(r.Zone), id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
		return fmt.Errorf("clear the archived job of %s: %w", id, err)
	}
	d.setStatus(ctx, id, moveRunAgain, "run again by "+by)
	return d.dispatch(ctx, q, false)
}
