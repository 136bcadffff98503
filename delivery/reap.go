package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// Reap finds services held by deliveries that can no longer end by
// themselves, through the index of held locks, and frees them:
//
//   - a delivery whose record has ended (a lock left behind by a failure
//     half-way) hands the service on;
//   - a waiting delivery that was handed the service but never queued is
//     queued;
//   - a delivery whose job is gone or archived while its record says it
//     is queued or runs (its agent died on the last attempt, say) is
//     recorded as failed, and the service handed on.
func (d *Dispatcher) Reap(ctx context.Context) error {
	grace := d.ReapAfter
	if grace <= 0 {
		grace = 2 * time.Minute
	}
	services, err := d.Redis.SMembers(ctx, keyspace.DeliveryLocks()).Result()
	if err != nil {
		return fmt.Errorf("list the held services: %w", err)
	}
	var errs []error
	for _, service := range services {
		id, err := d.Redis.Get(ctx, keyspace.DeliveryLock(service)).Result()
		if errors.Is(err, redis.Nil) {
			err = unlistFree.Run(ctx, d.Redis, []string{keyspace.DeliveryLock(service), keyspace.DeliveryLocks()}, service).Err()
		} else if err == nil {
			err = d.reapOne(ctx, service, id, grace)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("service %s: %w", service, err))
		}
	}
	return errors.Join(errs...)
}

// unlistFree drops a service from the index of held locks when its lock
// is not held (released meanwhile, or deleted by hand).
//
// KEYS: lock, held locks index. ARGV: service.
var unlistFree = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 1 then return 0 end
return redis.call("SREM", KEYS[2], ARGV[1])
`)

func (d *Dispatcher) reapOne(ctx context.Context, service, id string, grace time.Duration) error {
	rec, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
	if errors.Is(err, state.ErrNotFound) {
		return d.next(ctx, service, id)
	}
	if err != nil {
		return err
	}
	r, err := recordOf(rec)
	if err != nil {
		return err
	}
	status := r.Status
	switch {
	case status.Ended():
		d.Log.Warn("service held by an ended delivery; handing it on", "service", service, "delivery", id)
		return d.next(ctx, service, id)
	case status == StatusWaiting:
		q, err := d.job(ctx, id)
		if err != nil {
			return err
		}
		d.Log.Warn("delivery handed its service but never queued; queuing it", "service", service, "delivery", id)
		return d.enqueue(ctx, q)
	}
	if d.now().Sub(rec.UpdatedAt) < grace {
		return nil // reports may still be on their way
	}
	info, err := d.Inspector.GetTaskInfo(wire.Queue(r.Zone), id)
	lost := errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) ||
		(err == nil && info.State == asynq.TaskStateArchived)
	if err != nil && !lost {
		return err
	}
	if !lost {
		return nil
	}
	d.Log.Error("delivery lost: its job is gone while it should run; recording it as failed", "service", service, "delivery", id)
	if err := d.ended(ctx, service, r.Release); err != nil {
		return err
	}
	d.report(ctx, rec, PhaseError, "the delivery was lost: its agent stopped on the last attempt")
	d.setStatus(ctx, id, moveLose.only(status), "the job was lost: its agent stopped on the last attempt, or its job was removed")
	return d.next(ctx, service, id)
}

// RunReaper reaps, and prunes old records, every interval until ctx ends.
func (d *Dispatcher) RunReaper(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := d.Reap(ctx); err != nil && ctx.Err() == nil {
				d.Log.Warn("cannot reap deliveries", "error", err)
			}
			if n, err := d.Prune(ctx); err != nil && ctx.Err() == nil {
				d.Log.Warn("cannot prune delivery records", "error", err)
			} else if n > 0 {
				d.Log.Info("old delivery records removed", "count", n)
			}
		}
	}
}
