package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// Reap finds services held by deliveries that can no longer end by
// themselves and frees them:
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
	var errs []error
	iter := d.Redis.Scan(ctx, 0, keyPrefix+"lock:*", 100).Iterator()
	for iter.Next(ctx) {
		service := strings.TrimPrefix(iter.Val(), keyPrefix+"lock:")
		id, err := d.Redis.Get(ctx, iter.Val()).Result()
		if err != nil {
			continue // released meanwhile
		}
		if err := d.reapOne(ctx, service, id, grace); err != nil {
			errs = append(errs, fmt.Errorf("service %s: %w", service, err))
		}
	}
	if err := iter.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (d *Dispatcher) reapOne(ctx context.Context, service, id string, grace time.Duration) error {
	rec, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
	if errors.Is(err, state.ErrNotFound) {
		return d.next(ctx, service, id)
	}
	if err != nil {
		return err
	}
	status := statusOf(rec)
	zone, _ := rec.Content["zone"].(string)
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
	info, err := d.Inspector.GetTaskInfo(wire.Queue(zone), id)
	lost := errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) ||
		(err == nil && info.State == asynq.TaskStateArchived)
	if err != nil && !lost {
		return err
	}
	if !lost {
		return nil
	}
	d.Log.Error("delivery lost: its job is gone while it should run; recording it as failed", "service", service, "delivery", id)
	release, _ := rec.Content["release"].(string)
	if err := d.ended(ctx, service, release); err != nil {
		return err
	}
	d.report(ctx, rec, PhaseError, "the delivery was lost: its agent stopped on the last attempt")
	d.setStatus(ctx, id, moveLose.only(status), map[string]any{
		"reason": "the job was lost: its agent stopped on the last attempt, or its job was removed", "finished_at": d.nowStamp(),
	})
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
