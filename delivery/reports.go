package delivery

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// HandleReport applies an agent's report: the deployment record moves on,
// the service is marked deploying while a delivery runs, its release moves
// on success, the provider hears of it, and a finished delivery hands its
// service to the next one waiting.
//
// Reports are consumed concurrently, so the reports of one delivery are
// applied one at a time under a lock, and an attempt's start and end are
// matched by the agent's run id: an end applied first records the start
// too, and the late start is then ignored.
func (d *Dispatcher) HandleReport(ctx context.Context, t *asynq.Task) error {
	var r wire.Report
	if err := json.Unmarshal(t.Payload(), &r); err != nil {
		return fmt.Errorf("%w: undecodable report: %v", asynq.SkipRetry, err)
	}
	if r.At.IsZero() {
		r.At = d.now()
	}
	if r.Kind == wire.ReportRefused {
		return d.refused(ctx, r)
	}
	if r.Kind != wire.ReportStarted && r.Kind != wire.ReportFinished {
		return fmt.Errorf("%w: unknown report kind %q", asynq.SkipRetry, r.Kind)
	}
	unlock, err := d.lock(ctx, r.ID)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := d.Store.Object(ctx, state.TypeDeploy, r.ID, 0)
	if err != nil {
		return fmt.Errorf("report on %s: %w", r.ID, err)
	}
	rec, err := recordOf(cur)
	if err != nil {
		return err
	}
	if rec.Zone != r.Zone {
		d.Log.Warn("report ignored: it comes from another zone's agent", "delivery", r.ID, "zone", rec.Zone, "report_zone", r.Zone, "agent", r.Agent)
		return fmt.Errorf("%w: a report on %s from zone %q, which is not the delivery's", asynq.SkipRetry, r.ID, r.Zone)
	}
	known := slices.ContainsFunc(rec.Attempts, func(a Attempt) bool { return a.Run == r.Run })
	switch {
	case r.Kind == wire.ReportStarted && known:
		return nil // its end came first and recorded it
	case r.Kind == wire.ReportStarted:
		return d.started(ctx, cur, rec, r)
	}
	return d.finished(ctx, cur, rec, r, known)
}

// started records an attempt's start: the provider hears of it, the
// service is marked deploying and the release's next version set, then
// the record.
func (d *Dispatcher) started(ctx context.Context, cur *state.Object, rec *Record, r wire.Report) error {
	d.report(ctx, cur, PhaseRunning, "running on agent "+r.Agent)
	if err := d.mark(ctx, rec.Service, true, ""); err != nil {
		return err
	}
	if rec.Release != "" {
		if err := d.moveRelease(ctx, rec.Service, "next", releaseOf(rec.Release, rec.Event.eventRef()), r.At); err != nil {
			return err
		}
	}
	_, _, err := d.Store.Update(ctx, state.TypeDeploy, r.ID, 0, writer, editRecord(func(next *Record) error {
		next.Attempts = addAttempt(next.Attempts, r, r.At)
		next.Status, next.Agent = StatusRunning, r.Agent
		if next.StartedAt == "" {
			next.StartedAt = stamp(r.At)
		}
		return nil
	}))
	if err != nil {
		return fmt.Errorf("record start of %s: %w", r.ID, err)
	}
	return nil
}

// addAttempt appends a running attempt; an attempt still running is one
// whose agent stopped before finishing it.
func addAttempt(attempts []Attempt, r wire.Report, at time.Time) []Attempt {
	for i := range attempts {
		if a := &attempts[i]; a.Status == attemptRunning {
			a.Status, a.FinishedAt = attemptInterrupted, stamp(at)
			a.Error = "the agent stopped before finishing; the job was run again"
		}
	}
	return append(attempts, Attempt{
		Attempt: len(attempts) + 1, Run: r.Run, Agent: r.Agent, Status: attemptRunning, StartedAt: stamp(at),
	})
}

// finished records an attempt's end (and its start, when its start report
// has not been applied), and on the last attempt releases the service. The
// service, its release and the provider are updated before the record, so
// a reader that sees the record finished sees them too.
func (d *Dispatcher) finished(ctx context.Context, cur *state.Object, rec *Record, r wire.Report, known bool) error {
	status := StatusRetrying
	switch {
	case r.Succeeded:
		status = StatusSucceeded
	case r.Final:
		status = StatusFailed
	}
	if !known {
		d.report(ctx, cur, PhaseRunning, "running on agent "+r.Agent)
	}
	switch status {
	case StatusSucceeded:
		if err := d.mark(ctx, rec.Service, false, rec.Release); err != nil {
			return err
		}
		if rec.Release != "" {
			if err := d.moveRelease(ctx, rec.Service, "current", releaseOf(rec.Release, rec.Event.eventRef()), r.At); err != nil {
				return err
			}
		}
		d.report(ctx, cur, PhaseSucceeded, "delivered by "+r.Agent)
	case StatusFailed:
		if err := d.ended(ctx, rec.Service, rec.Release); err != nil {
			return err
		}
		d.report(ctx, cur, PhaseFailed, firstLine(r.Error, "the action failed"))
	}
	_, _, err := d.Store.Update(ctx, state.TypeDeploy, r.ID, 0, writer, editRecord(func(next *Record) error {
		if !known {
			next.Attempts = addAttempt(next.Attempts, r, cmp.Or(r.StartedAt, r.At))
		}
		for i := range next.Attempts {
			a := &next.Attempts[i]
			if a.Run != r.Run {
				continue
			}
			code := r.ExitCode
			a.Status, a.FinishedAt, a.ExitCode = pick(r.Succeeded, attemptSucceeded, attemptFailed), stamp(r.At), &code
			a.Output = r.Output
			if r.Error != "" {
				a.Error = r.Error
			}
		}
		next.Status, next.Output, next.Agent = status, r.Output, r.Agent
		if r.Error != "" {
			next.Reason = r.Error
		}
		if next.StartedAt == "" {
			next.StartedAt = stamp(cmp.Or(r.StartedAt, r.At))
		}
		if status != StatusRetrying {
			next.FinishedAt = stamp(r.At)
		}
		return nil
	}))
	if err != nil {
		return fmt.Errorf("record end of %s: %w", r.ID, err)
	}
	if status == StatusRetrying {
		return nil // the service stays held: the next attempt follows
	}
	return d.next(ctx, rec.Service, r.ID)
}

// unlockIfHeld deletes a lock only if it still holds this holder's token.
var unlockIfHeld = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
`)

// lock serializes the reports of one delivery across every replica's
// workers. It waits up to 10 s for another report of the delivery: a
// timeout, measured on the real clock, not a time that is recorded.
func (d *Dispatcher) lock(ctx context.Context, id string) (func(), error) {
	key, token := keyspace.DeliveryReportLock(id), fmt.Sprint(time.Now().UnixNano())
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := d.Redis.SetNX(ctx, key, token, 30*time.Second).Result()
		if err != nil {
			return nil, fmt.Errorf("lock reports of %s: %w", id, err)
		}
		if ok {
			return func() { unlockIfHeld.Run(context.WithoutCancel(ctx), d.Redis, []string{key}, token) }, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("reports of %s: another report is being applied", id)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// unsafeName keeps what may name an object.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._:@-]`)

// refused records a job an agent would not run. A job whose signature
// checked is recorded on its delivery, which then gives up its service,
// unless the delivery already ended (the job was replayed); an
// unverifiable one gets a record of its own, so a forged or replayed job
// can never pose as, or end, a real delivery.
func (d *Dispatcher) refused(ctx context.Context, r wire.Report) error {
	if r.ID != "" && r.Verified {
		cur, _, err := d.Store.Update(ctx, state.TypeDeploy, r.ID, 0, writer, editRecord(func(next *Record) error {
			if next.Zone != r.Zone || next.Status.Ended() {
				// Not this zone's delivery, or one that ended (a replay of
				// its job): recorded apart below, never on it.
				return state.ErrNotFound
			}
			next.Status, next.Reason, next.Agent, next.FinishedAt = StatusRefused, r.Error, r.Agent, stamp(r.At)
			return nil
		}))
		if err == nil {
			rec, err := recordOf(cur)
			if err != nil {
				return err
			}
			if err := d.ended(ctx, rec.Service, rec.Release); err != nil {
				return err
			}
			d.report(ctx, cur, PhaseError, firstLine(r.Error, "refused by the agent"))
			return d.next(ctx, rec.Service, r.ID)
		}
		if !errors.Is(err, state.ErrNotFound) {
			return err
		}
	}
	rec := &Record{
		Name: "refused-" + unsafeName.ReplaceAllString(r.TaskID, "_"), Service: "unknown", Zone: r.Zone, Action: "unknown",
		Status: StatusRefused, Reason: r.Error, Agent: r.Agent, FinishedAt: stamp(r.At),
	}
	content, err := rec.content(nil)
	if err != nil {
		return err
	}
	_, err = d.Store.Create(ctx, state.NewObject(state.TypeDeploy, content), writer)
	if errors.Is(err, state.ErrExists) {
		return nil
	}
	return err
}

// mark sets or clears a service's "deploying" flag, and its release.
func (d *Dispatcher) mark(ctx context.Context, service string, deploying bool, release string) error {
	patch := map[string]any{"status": map[string]any{"deploying": deploying}}
	if release != "" {
		patch["release"] = release
	}
	_, _, err := d.Store.Merge(ctx, state.TypeService, service, patch, 0, writer)
	if errors.Is(err, state.ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("mark service %s: %w", service, err)
	}
	return nil
}

// releaseOf is the version a delivery installs, as a release object
// records it: the version, the image and digest the event published, and
// the build of its commit.
func releaseOf(version string, e wire.EventRef) map[string]any {
	v := map[string]any{"version": version}
	if e.Image != "" {
		v["image"] = e.Image
	}
	if e.Digest != "" {
		v["digest"] = e.Digest
	}
	if e.Commit != "" && e.Repository != "" {
		v["build"] = state.BuildName(e.Source, e.Repository, e.Commit)
	}
	return v
}

// moveRelease updates the service's release object: the version about to
// run becomes next; once it runs, current moves to previous. Slot "" drops
// next, when it is still this version: the delivery ended without
// installing it.
func (d *Dispatcher) moveRelease(ctx context.Context, service, slot string, version map[string]any, at time.Time) error {
	_, _, err := d.Store.Upsert(ctx, state.TypeRelease, service, writer, func(cur *state.Object) (*state.Object, error) {
		next := cur.Copy()
		next.Content["service"] = service
		v := make(map[string]any, len(version)+1)
		for k, x := range version {
			v[k] = x
		}
		v["at"] = stamp(at)
		switch slot {
		case "next":
			next.Content["next"] = v
			return next, nil
		case "":
			n, _ := cur.Content["next"].(map[string]any)
			if n == nil || n["version"] != version["version"] {
				return nil, state.ErrNoChange
			}
			delete(next.Content, "next")
			return next, nil
		}
		if c, ok := cur.Content["current"].(map[string]any); ok && c["version"] != version["version"] {
			next.Content["previous"] = c
		}
		next.Content["current"] = v
		delete(next.Content, "next")
		return next, nil
	})
	if err != nil {
		return fmt.Errorf("move the release of %s: %w", service, err)
	}
	return nil
}

// ended records on the service that a delivery of release ended without
// installing it: no longer deploying, and the release's next version
// dropped.
func (d *Dispatcher) ended(ctx context.Context, service, release string) error {
	if err := d.mark(ctx, service, false, ""); err != nil {
		return err
	}
	if release == "" {
		return nil
	}
	if _, err := d.Store.Object(ctx, state.TypeRelease, service, 0); errors.Is(err, state.ErrNotFound) {
		return nil
	}
	return d.moveRelease(ctx, service, "", map[string]any{"version": release}, d.now())
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func pick[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

func firstLine(s, fallback string) string {
	if s == "" {
		return fallback
	}
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
