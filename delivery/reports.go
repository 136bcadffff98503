package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/state"
)

// HandleReport applies an agent's report: the deployment record moves on,
// the service is marked deploying while a delivery runs, its release moves
// on success, GitHub hears of it, and a finished delivery hands its
// service to the next one waiting.
func (d *Dispatcher) HandleReport(ctx context.Context, t *asynq.Task) error {
	var r Report
	if err := json.Unmarshal(t.Payload(), &r); err != nil {
		return fmt.Errorf("%w: undecodable report: %v", asynq.SkipRetry, err)
	}
	if r.At.IsZero() {
		r.At = time.Now().UTC()
	}
	switch r.Kind {
	case ReportStarted:
		return d.started(ctx, r)
	case ReportFinished:
		return d.finished(ctx, r)
	case ReportRefused:
		return d.refused(ctx, r)
	}
	return fmt.Errorf("%w: unknown report kind %q", asynq.SkipRetry, r.Kind)
}

// started records an attempt's start. The service is marked and GitHub
// told first, and the record last, since a finished report waits for the
// record: so every effect of a start precedes those of its end.
func (d *Dispatcher) started(ctx context.Context, r Report) error {
	cur, err := d.Store.Object(ctx, state.TypeDeploy, r.ID, 0)
	if err != nil {
		return fmt.Errorf("record start of %s: %w", r.ID, err)
	}
	service, _ := cur.Content["service"].(string)
	release, _ := cur.Content["release"].(string)
	d.GitHub.status(ctx, cur, "in_progress", "running on agent "+r.Agent)
	if err := d.mark(ctx, service, true, ""); err != nil {
		return err
	}
	if release != "" {
		if err := d.moveRelease(ctx, service, "next", release, r.At); err != nil {
			return err
		}
	}
	_, _, err = d.Store.Update(ctx, state.TypeDeploy, r.ID, 0, writer, func(cur *state.Object) (*state.Object, error) {
		next := cur.Copy()
		attempts := attemptsOf(cur)
		for _, a := range attempts {
			if a["status"] == "running" {
				a["status"], a["finished_at"] = "interrupted", stamp(r.At)
				a["error"] = "the agent stopped before finishing; the job was run again"
			}
		}
		attempts = append(attempts, map[string]any{
			"attempt": len(attempts) + 1, "agent": r.Agent, "status": "running", "started_at": stamp(r.At),
		})
		next.Content["attempts"] = toAny(attempts)
		next.Content["status"], next.Content["agent"] = "running", r.Agent
		if _, ok := cur.Content["started_at"]; !ok {
			next.Content["started_at"] = stamp(r.At)
		}
		return next, nil
	})
	if err != nil {
		return fmt.Errorf("record start of %s: %w", r.ID, err)
	}
	return nil
}

func (d *Dispatcher) finished(ctx context.Context, r Report) error {
	status := "retrying"
	switch {
	case r.Succeeded:
		status = "succeeded"
	case r.Final:
		status = "failed"
	}
	rec, _, err := d.Store.Update(ctx, state.TypeDeploy, r.ID, 0, writer, func(cur *state.Object) (*state.Object, error) {
		next := cur.Copy()
		attempts := attemptsOf(cur)
		n := len(attempts)
		if n == 0 || attempts[n-1]["status"] != "running" {
			// Reports are applied concurrently: this attempt's start has
			// not been applied yet. Try again after it.
			return nil, errNotStarted
		}
		{
			a := attempts[n-1]
			a["status"], a["finished_at"], a["exit_code"] = pick(r.Succeeded, "succeeded", "failed"), stamp(r.At), r.ExitCode
			a["output"] = r.Output
			if r.Error != "" {
				a["error"] = r.Error
			}
		}
		next.Content["attempts"] = toAny(attempts)
		next.Content["status"], next.Content["output"] = status, r.Output
		if r.Error != "" {
			next.Content["reason"] = r.Error
		}
		if status != "retrying" {
			next.Content["finished_at"] = stamp(r.At)
		}
		return next, nil
	})
	if err != nil {
		return fmt.Errorf("record end of %s: %w", r.ID, err)
	}
	if status == "retrying" {
		return nil // the service stays held: the next attempt follows
	}
	service, _ := rec.Content["service"].(string)
	release, _ := rec.Content["release"].(string)
	if r.Succeeded {
		if err := d.mark(ctx, service, false, release); err != nil {
			return err
		}
		if release != "" {
			if err := d.moveRelease(ctx, service, "current", release, r.At); err != nil {
				return err
			}
		}
		d.GitHub.status(ctx, rec, "success", "delivered by "+r.Agent)
	} else {
		if err := d.mark(ctx, service, false, ""); err != nil {
			return err
		}
		d.GitHub.status(ctx, rec, "failure", firstLine(r.Error, "the action failed"))
	}
	return d.next(ctx, service, r.ID)
}

// errNotStarted delays a finished report until its started report is in.
var errNotStarted = errors.New("the attempt's start is not recorded yet")

// unsafeName keeps what may name an object.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._:@-]`)

// refused records a job an agent would not run. A job whose signature
// checked is recorded on its delivery, which then gives up its service;
// an unverifiable one gets a record of its own, so a forged job can never
// pose as, or end, a real delivery.
func (d *Dispatcher) refused(ctx context.Context, r Report) error {
	if r.ID != "" && r.Verified {
		rec, _, err := d.Store.Update(ctx, state.TypeDeploy, r.ID, 0, writer, func(cur *state.Object) (*state.Object, error) {
			next := cur.Copy()
			next.Content["status"], next.Content["reason"], next.Content["agent"] = "refused", r.Error, r.Agent
			next.Content["finished_at"] = stamp(r.At)
			return next, nil
		})
		if err == nil {
			service, _ := rec.Content["service"].(string)
			d.GitHub.status(ctx, rec, "error", firstLine(r.Error, "refused by the agent"))
			return d.next(ctx, service, r.ID)
		}
		if !errors.Is(err, state.ErrNotFound) {
			return err
		}
	}
	name := "refused-" + unsafeName.ReplaceAllString(r.TaskID, "_")
	content := map[string]any{
		"name": name, "service": "unknown", "zone": r.Zone, "action": "unknown", "status": "refused",
		"reason": r.Error, "agent": r.Agent, "finished_at": stamp(r.At),
	}
	_, err := d.Store.Create(ctx, state.NewObject(state.TypeDeploy, content), writer)
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

// moveRelease updates the service's release object: the version about to
// run becomes next; once it runs, current moves to previous.
func (d *Dispatcher) moveRelease(ctx context.Context, service, slot, version string, at time.Time) error {
	_, _, err := d.Store.Upsert(ctx, state.TypeRelease, service, writer, func(cur *state.Object) (*state.Object, error) {
		next := cur.Copy()
		next.Content["service"] = service
		v := map[string]any{"version": version, "at": stamp(at)}
		if slot == "next" {
			next.Content["next"] = v
			return next, nil
		}
		if c, ok := cur.Content["current"].(map[string]any); ok && c["version"] != version {
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

func attemptsOf(o *state.Object) []map[string]any {
	list, _ := o.Content["attempts"].([]any)
	out := make([]map[string]any, 0, len(list)+1)
	for _, a := range list {
		if m, ok := a.(map[string]any); ok {
			c := make(map[string]any, len(m))
			for k, v := range m {
				c[k] = v
			}
			out = append(out, c)
		}
	}
	return out
}

func toAny(list []map[string]any) []any {
	out := make([]any, len(list))
	for i, m := range list {
		out[i] = m
	}
	return out
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
