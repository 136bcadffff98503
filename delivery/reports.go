package delivery

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// Task types and the queue of Reflex's own delivery tasks, which its
// workers run.
const (
	// TypeReport applies an agent's report (an AgentReport).
	TypeReport = "delivery:report"
	// TypeRetry offers a delivery's next job after a failed attempt.
	TypeRetry = "delivery:retry"
	// QueueDeliveries is the queue of both.
	QueueDeliveries = "deliveries"
)

// AgentReport is an agent's report as the agent API accepted it: the agent
// and its zone come from its credential, the job and attempt from the
// lease it holds, never from what the report says.
type AgentReport struct {
	wire.Report
	// Job is the leased job's key (JobKey), Attempt its lease's number.
	Job     string `json:"job"`
	Attempt int    `json:"attempt"`
	// Agent and Zone are the agent's, from its API key.
	Agent string `json:"agent"`
	Zone  string `json:"zone"`
}

// run names the attempt a report is about: its job and lease attempt.
func (r *AgentReport) run() string { return r.Job + "#" + strconv.Itoa(r.Attempt) }

// reportTask is the task that applies r once: its id names the attempt
// and the kind, so a report the agent sends again is not applied twice.
func reportTask(r AgentReport) (*asynq.Task, error) {
	r.Lease = "" // the lease id stays between the agent and the API
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return asynq.NewTask(TypeReport, raw, asynq.Queue(QueueDeliveries), asynq.TaskID("report:"+r.run()+":"+r.Kind),
		asynq.MaxRetry(20), asynq.Retention(24*time.Hour)), nil
}

// HandleReport applies an agent's report: the deployment record moves on,
// the service is marked deploying while a delivery runs, its release moves
// on success, the provider hears of it, and a delivery that ended hands
// its service to the next one waiting; after a failed attempt, the next is
// offered later.
//
// Reports are consumed concurrently, so the reports of one delivery are
// applied one at a time under a lock, and an attempt's start and end are
// matched by its run: an end applied first records the start too, the late
// start is then ignored, and an end applied already is not applied again.
func (d *Dispatcher) HandleReport(ctx context.Context, t *asynq.Task) error {
	var r AgentReport
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
	id, n, ok := ParseJobKey(r.Job)
	if !ok {
		d.Log.Warn("report ignored: its job is no delivery's", "job", r.Job, "agent", r.Agent)
		return nil
	}
	unlock, err := d.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
	if err != nil {
		return fmt.Errorf("report on %s: %w", id, err)
	}
	rec, err := recordOf(cur)
	if err != nil {
		return err
	}
	q, err := d.job(ctx, id)
	if err != nil {
		return err
	}
	if rec.Zone != r.Zone || q.Offers != n {
		// Not the job this delivery last offered (one offered by hand), or
		// not its zone: it is not this delivery's to move.
		d.Log.Warn("report ignored: not the delivery's current job", "delivery", id, "request_id", rec.requestID(), "job", r.Job, "agent", r.Agent, "zone", r.Zone)
		return nil
	}
	i := slices.IndexFunc(rec.Attempts, func(a Attempt) bool { return a.Run == r.run() })
	switch {
	case i >= 0 && (r.Kind == wire.ReportStarted || rec.Attempts[i].Status != attemptRunning):
		return nil // applied already, or its end came first
	case rec.Status.Ended():
		return d.lateEnd(ctx, rec, r, i >= 0)
	case r.Kind == wire.ReportStarted:
		return d.started(ctx, cur, rec, r)
	}
	return d.finished(ctx, cur, rec, q, r, i >= 0)
}

// lateEnd records the end of an attempt whose delivery ended without it
// (lost, or cancelled): on the attempt only. Nothing else moves: the
// service has been handed on, and may run another delivery by now.
func (d *Dispatcher) lateEnd(ctx context.Context, rec *Record, r AgentReport, known bool) error {
	if r.Kind != wire.ReportFinished {
		return nil
	}
	d.Log.Warn("report on a delivery that ended without it; recorded on its attempt only", "delivery", rec.Name, "request_id", rec.requestID(), "status", rec.Status, "agent", r.Agent)
	_, _, err := d.Store.Update(ctx, state.TypeDeploy, rec.Name, 0, writer, editRecord(func(next *Record) error {
		if !known {
			next.Attempts = append(next.Attempts, Attempt{Attempt: len(next.Attempts) + 1, Run: r.run(), Agent: r.Agent,
				StartedAt: stamp(cmp.Or(r.StartedAt, r.At))})
		}
		for i := range next.Attempts {
			if a := &next.Attempts[i]; a.Run == r.run() {
				code := r.ExitCode
				a.Status, a.FinishedAt, a.ExitCode, a.Output = pick(r.Succeeded, attemptSucceeded, attemptFailed), stamp(r.At), &code, r.Output
				a.Error = cmp.Or(r.Error, "reported after the delivery ended")
			}
		}
		return nil
	}))
	if err != nil {
		return fmt.Errorf("record a late end on %s: %w", rec.Name, err)
	}
	return nil
}

// started records an attempt's start: the provider hears of it, the
// service is marked deploying and the release's next version set, then
// the record.
func (d *Dispatcher) started(ctx context.Context, cur *state.Object, rec *Record, r AgentReport) error {
	d.report(ctx, cur, PhaseRunning, "running on agent "+r.Agent)
	if err := d.mark(ctx, rec.Service, true, ""); err != nil {
		return err
	}
	if rec.Release != "" {
		if err := d.moveRelease(ctx, rec.Service, "next", releaseOf(rec.Release, rec.Event.eventRef()), r.At); err != nil {
			return err
		}
	}
	_, _, err := d.Store.Update(ctx, state.TypeDeploy, rec.Name, 0, writer, editRecord(func(next *Record) error {
		next.Attempts = addAttempt(next.Attempts, r, r.At)
		next.Status, next.Agent = StatusRunning, r.Agent
		if next.StartedAt == "" {
			next.StartedAt = stamp(r.At)
		}
		return nil
	}))
	if err != nil {
		return fmt.Errorf("record start of %s: %w", rec.Name, err)
	}
	d.Log.Info("delivery running", "delivery", rec.Name, "request_id", rec.requestID(), "agent", r.Agent, "attempt", r.Attempt)
	return nil
}

// addAttempt appends a running attempt; an attempt still running is one
// whose agent stopped before finishing it.
func addAttempt(attempts []Attempt, r AgentReport, at time.Time) []Attempt {
	for i := range attempts {
		if a := &attempts[i]; a.Status == attemptRunning {
			a.Status, a.FinishedAt = attemptInterrupted, stamp(at)
			a.Error = "the agent stopped before finishing; the job was run again"
		}
	}
	return append(attempts, Attempt{
		Attempt: len(attempts) + 1, Run: r.run(), Agent: r.Agent, Status: attemptRunning, StartedAt: stamp(at),
	})
}

// outcome is how a finished attempt leaves its delivery: succeeded,
// cancelled, failed for good (a permanent failure, or the last attempt
// the trigger allows), or retrying.
func outcome(r AgentReport, attempts, maxAttempts int) Status {
	switch {
	case r.Succeeded:
		return StatusSucceeded
	case r.Cancelled:
		return StatusCancelled
	case r.Permanent || attempts >= max(maxAttempts, 1):
		return StatusFailed
	}
	return StatusRetrying
}

// finished records an attempt's end (and its start, when its start report
// has not been applied). The last attempt releases the service; after
// another, the next attempt is offered later. The service, its release and
// the provider are updated before the record, so a reader that sees the
// record finished sees them too.
func (d *Dispatcher) finished(ctx context.Context, cur *state.Object, rec *Record, q *queued, r AgentReport, known bool) error {
	attempts := len(rec.Attempts)
	if !known {
		attempts++
		d.report(ctx, cur, PhaseRunning, "running on agent "+r.Agent)
	}
	status := outcome(r, attempts, q.MaxAttempts)
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
	case StatusFailed, StatusCancelled:
		if err := d.ended(ctx, rec.Service, rec.Release); err != nil {
			return err
		}
		d.report(ctx, cur, pick(status == StatusFailed, PhaseFailed, PhaseError), firstLine(r.Error, "the action failed"))
	case StatusRetrying:
		if err := d.scheduleRetry(ctx, q, attempts); err != nil {
			return err
		}
	}
	_, err := d.update(ctx, rec.Name, func(next *Record) error {
		if !known {
			next.Attempts = addAttempt(next.Attempts, r, cmp.Or(r.StartedAt, r.At))
		}
		for i := range next.Attempts {
			a := &next.Attempts[i]
			if a.Run != r.run() {
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
	})
	if err != nil {
		return fmt.Errorf("record end of %s: %w", rec.Name, err)
	}
	d.Log.Info("delivery attempt finished", "delivery", rec.Name, "request_id", rec.requestID(), "agent", r.Agent, "attempt", r.Attempt,
		"status", status, "exit_code", r.ExitCode)
	if status == StatusRetrying {
		return nil // the service stays held: the next attempt follows
	}
	return d.next(ctx, rec.Service, rec.Name)
}

// retryDelay is the wait before the attempt after attempt n failed: 5 s,
// 10 s, 20 s … up to 5 minutes.
func retryDelay(n int) time.Duration { return min(5*time.Second<<min(max(n-1, 0), 6), 5*time.Minute) }

// retryTask is the payload of a TypeRetry task: offer the delivery's job
// again, unless it moved on from the offer it failed.
type retryTask struct {
	ID     string `json:"id"`
	Offers int    `json:"offers"`
}

// scheduleRetry queues the offer of a delivery's next job after the delay
// its failed attempts call for; once per failed offer.
func (d *Dispatcher) scheduleRetry(ctx context.Context, q *queued, attempts int) error {
	raw, err := json.Marshal(retryTask{ID: q.Job.ID, Offers: q.Offers})
	if err != nil {
		return fmt.Errorf("encode retry: %w", err)
	}
	task := asynq.NewTask(TypeRetry, raw, asynq.Queue(QueueDeliveries), asynq.TaskID("retry:"+q.offered()),
		asynq.ProcessIn(retryDelay(attempts)), asynq.MaxRetry(20), asynq.Retention(time.Hour))
	if _, err := d.Client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("schedule the next attempt of %s: %w", q.Job.ID, err)
	}
	return nil
}

// HandleRetry offers the next job of a delivery that is retrying, signed
// afresh; a delivery that moved on meanwhile (cancelled, run again) is left
// alone.
func (d *Dispatcher) HandleRetry(ctx context.Context, t *asynq.Task) error {
	var rt retryTask
	if err := json.Unmarshal(t.Payload(), &rt); err != nil {
		return fmt.Errorf("%w: undecodable retry: %v", asynq.SkipRetry, err)
	}
	unlock, err := d.lock(ctx, rt.ID)
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := d.Store.Object(ctx, state.TypeDeploy, rt.ID, 0)
	if errors.Is(err, state.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	q, err := d.job(ctx, rt.ID)
	if err != nil {
		return err
	}
	if statusOf(rec) != StatusRetrying || q.Offers != rt.Offers {
		return nil
	}
	return d.enqueue(ctx, q)
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

// refused records a job an agent would not run. A refusal of the job its
// delivery last offered is recorded on the delivery, which then gives up
// its service, unless it already ended; a refusal of any other job (one
// offered by hand, or a replay of an ended delivery's) gets a record of
// its own, so it can never pose as, or end, a real delivery.
func (d *Dispatcher) refused(ctx context.Context, r AgentReport) error {
	if id, n, ok := ParseJobKey(r.Job); ok {
		done, err := d.refusedDelivery(ctx, id, n, r)
		if done || err != nil {
			return err
		}
	}
	rec := &Record{
		Name: "refused-" + unsafeName.ReplaceAllString(r.Job, "_"), Service: "unknown", Zone: r.Zone, Action: "unknown",
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
	if err == nil {
		d.created(rec)
	}
	return err
}

// refusedDelivery records a refusal on delivery id when the refused job is
// the n-th it offered and the last, and it has not ended; done tells
// whether it did.
func (d *Dispatcher) refusedDelivery(ctx context.Context, id string, n int, r AgentReport) (done bool, err error) {
	unlock, err := d.lock(ctx, id)
	if err != nil {
		return false, err
	}
	defer unlock()
	q, err := d.job(ctx, id)
	if errors.Is(err, state.ErrNotFound) || (err == nil && q.Offers != n) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	cur, err := d.update(ctx, id, func(next *Record) error {
		if next.Zone != r.Zone || next.Status.Ended() {
			return state.ErrNotFound // recorded apart, never on it
		}
		next.Status, next.Reason, next.Agent, next.FinishedAt = StatusRefused, r.Error, r.Agent, stamp(r.At)
		return nil
	})
	if errors.Is(err, state.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	rec, err := recordOf(cur)
	if err != nil {
		return false, err
	}
	d.Log.Warn("delivery refused by its agent", "delivery", id, "request_id", rec.requestID(), "agent", r.Agent, "reason", r.Error)
	if err := d.ended(ctx, rec.Service, rec.Release); err != nil {
		return false, err
	}
	d.report(ctx, cur, PhaseError, firstLine(r.Error, "refused by the agent"))
	return true, d.next(ctx, rec.Service, id)
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
	_, err := d.Store.Upsert(ctx, state.TypeRelease, service, writer, func(cur *state.Object) (*state.Object, error) {
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
