package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/periodic"
	"github.com/reflexops/reflex/leases"
	"github.com/reflexops/reflex/state"
)

// Reap finds services held by deliveries that can no longer end by
// themselves, through the index of held locks, and frees them:
//
//   - a delivery whose record has ended (a lock left behind by a failure
//     half-way) hands the service on;
//   - a waiting delivery that was handed the service but never queued is
//     queued;
//   - a delivery offered whose job expired before an agent took it, or
//     whose job is gone while its record says it is queued or runs (its
//     agent died, and the job expired before another took it), is
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
	// Under the delivery's lock: no report is applied meanwhile.
	unlock, err := d.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
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
	q, err := d.job(ctx, id)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	if status == StatusRetrying {
		switch {
		case d.now().Sub(rec.UpdatedAt) < grace:
			return nil
		case q == nil:
			return d.lose(ctx, rec, r, "the job was lost: it is no longer kept, so it cannot be offered again")
		}
		// Its next attempt is a task of Reflex's own queue; one that went
		// missing (a release before Reflex offered retries itself left
		// none) is scheduled again. The task is once per offer, and runs
		// only while the delivery still waits for it.
		return d.scheduleRetry(ctx, q, len(r.Attempts))
	}
	if q == nil {
		if d.now().Sub(rec.UpdatedAt) < grace {
			return nil
		}
		return d.lose(ctx, rec, r, "the job was lost: it is no longer kept")
	}
	j, err := d.Leases.Lookup(ctx, r.Zone, q.offered())
	if err != nil && !errors.Is(err, leases.ErrUnknownJob) {
		return err
	}
	unknown := err != nil
	switch {
	case !unknown && j.State == leases.StateLeased:
		return nil // an agent runs it
	case !unknown && (j.State == leases.StateFinished || j.State == leases.StateWithdrawn):
		// Its end is reported through Reflex's own queue: lost only when
		// no report came long after the job ended.
		if d.now().Sub(j.EndedAt) < grace {
			return nil
		}
		if j.State == leases.StateWithdrawn {
			return d.lose(ctx, rec, r, "the job was lost: it was withdrawn from the zone's agents")
		}
		return d.lose(ctx, rec, r, "the job was lost: it ended on its agent, and no report of its end came")
	case !q.ExpiresAt.IsZero() && d.now().After(q.ExpiresAt):
		return d.reapExpired(ctx, rec, r, q)
	case unknown && d.now().Sub(rec.UpdatedAt) >= grace:
		return d.lose(ctx, rec, r, "the job was lost: it is no longer offered to the zone's agents")
	}
	return nil // offered, waiting for an agent
}

// reapExpired ends a delivery whose job expired while no agent held it:
// offered and never taken, or taken by an agent that stopped and not taken
// again. No agent will ever run it now.
func (d *Dispatcher) reapExpired(ctx context.Context, rec *state.Object, r *Record, q *queued) error {
	leased, err := d.Leases.Cancel(ctx, r.Zone, q.offered())
	switch {
	case leased || errors.Is(err, leases.ErrFinished):
		return nil // taken meanwhile: its reports follow
	case err != nil && !errors.Is(err, leases.ErrUnknownJob):
		return err
	}
	reason := fmt.Sprintf("no agent of zone %s took the job before it expired at %s", r.Zone, stamp(q.ExpiresAt))
	if r.Status != StatusQueued {
		reason = fmt.Sprintf("its agent stopped, and no agent of zone %s took the job again before it expired at %s", r.Zone, stamp(q.ExpiresAt))
	}
	return d.lose(ctx, rec, r, reason)
}

// lose ends a delivery that can no longer end by itself as failed, with
// the reason, and hands its service on. The caller holds the delivery's
// lock and read rec under it, so no report moved it meanwhile.
func (d *Dispatcher) lose(ctx context.Context, rec *state.Object, r *Record, reason string) error {
	if !moveLose.allows(r.Status) {
		return nil
	}
	d.Log.Error("delivery lost; recording it as failed", "service", r.Service, "delivery", r.Name, "request_id", r.requestID(), "reason", reason)
	if err := d.ended(ctx, r.Service, r.Release); err != nil {
		return err
	}
	d.report(ctx, rec, PhaseError, reason)
	d.setStatus(ctx, r.Name, moveLose.only(r.Status), reason)
	return d.next(ctx, r.Service, r.Name)
}

// RunReaper reaps, and prunes old records, every interval until ctx ends.
func (d *Dispatcher) RunReaper(ctx context.Context, interval time.Duration) {
	periodic.Run(ctx, interval, func(ctx context.Context) {
		if err := d.Reap(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("cannot reap deliveries", "error", err)
		}
		if n, err := d.Prune(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("cannot prune delivery records", "error", err)
		} else if n > 0 {
			d.Log.Info("old delivery records removed", "count", n)
		}
	})
}
