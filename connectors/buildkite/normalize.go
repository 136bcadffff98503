package buildkite

import (
	"strings"

	"github.com/reflexops/reflex/connectors/convert"
	"github.com/reflexops/reflex/event"
)

// buildKinds maps the build events the connector normalizes to the kind
// each gives when the state allows (see normalizeBuild).
var buildKinds = map[string]event.Kind{
	"build.scheduled": event.KindBuildQueued,
	"build.running":   event.KindBuildStarted,
	"build.failing":   event.KindOther,
	"build.finished":  event.KindBuildFinished,
	"build.skipped":   event.KindBuildFinished,
}

// jobKinds maps the job events the connector normalizes to the kind each
// gives when the state allows (see normalizeJob).
var jobKinds = map[string]event.Kind{
	"job.scheduled": event.KindTaskQueued,
	"job.started":   event.KindTaskStarted,
	"job.activated": event.KindOther,
	"job.finished":  event.KindTaskFinished,
}

// normalize fills ev from a payload of event type typ. Build and job
// events are normalized; any other (agent and token events, integrations)
// is accepted as event.KindUnnormalized, with the pipeline's repository
// when the payload names one.
func normalize(typ string, p *payload, ev *event.Event) {
	slug := setPipeline(p, ev)
	if kind, ok := buildKinds[typ]; ok && p.Build != nil {
		normalizeBuild(typ, kind, slug, p.Build, ev)
		return
	}
	if kind, ok := jobKinds[typ]; ok && p.Job != nil {
		normalizeJob(kind, slug, p, ev)
		return
	}
	_, isBuild := buildKinds[typ]
	_, isJob := jobKinds[typ]
	ev.Kind = convert.Pick(isBuild || isJob, event.KindOther, event.KindUnnormalized)
}

// normalizeBuild reads a build event: a build of its pipeline, named by
// the pipeline's slug (Name and Pipeline both: a build has no name of its
// own). Its state is the event's Action. A finished build's state gives
// its outcome; a build.finished for a build that waits on a block step
// (blocked: true, its state the last it had) is "other", with the Action
// "blocked", since the build has not truly finished, and so is one in a
// state the connector does not know.
func normalizeBuild(typ string, kind event.Kind, slug string, b *build, ev *event.Event) {
	ev.Action = checkedWord(b.State)
	ev.URL = b.WebURL
	ev.Build = &event.Build{
		ID:        b.ID,
		Name:      slug,
		Pipeline:  slug,
		Number:    b.Number,
		Trigger:   checkedWord(b.Source),
		URL:       b.WebURL,
		StartedAt: b.StartedAt.ptr(),
		UpdatedAt: first(b.FinishedAt, b.StartedAt, b.CreatedAt),
	}
	ev.Kind = kind
	switch kind {
	case event.KindBuildQueued:
		ev.Build.Status = event.BuildQueued
	case event.KindBuildStarted, event.KindOther:
		ev.Build.Status = event.BuildRunning
	case event.KindBuildFinished:
		outcome, ok := buildOutcomes[b.State]
		if !ok && typ == "build.skipped" {
			outcome, ok = event.OutcomeSkipped, true
		}
		switch {
		case b.Blocked:
			ev.Kind, ev.Action = event.KindOther, "blocked"
		case ok:
			ev.Build.Status, ev.Build.Outcome = event.BuildFinished, outcome
		default:
			ev.Kind = event.KindOther
		}
	}
}

// buildOutcomes maps the states of a finished build. A build has no timed
// out state: its jobs time out, and the build fails.
var buildOutcomes = map[string]event.Outcome{
	"passed":   event.OutcomeSuccess,
	"failed":   event.OutcomeFailure,
	"canceled": event.OutcomeCancelled,
	"skipped":  event.OutcomeSkipped,
	"not_run":  event.OutcomeSkipped,
}

// normalizeJob reads a job event: a task of its build (Pipeline is the
// pipeline's slug, as the build's Name is, RunID the build's id), named
// by its step's name, label or key. Its state is the event's Action. A
// finished job's state gives its outcome; a state the connector does not
// know makes the event "other".
func normalizeJob(kind event.Kind, slug string, p *payload, ev *event.Event) {
	j := p.Job
	var runID string
	if p.Build != nil {
		runID = p.Build.ID
	}
	ev.Action = checkedWord(j.State)
	ev.URL = j.WebURL
	ev.Build = &event.Build{
		ID:        j.ID,
		Name:      convert.First(j.Name, j.Label, j.StepKey),
		Pipeline:  slug,
		RunID:     runID,
		URL:       j.WebURL,
		StartedAt: j.StartedAt.ptr(),
		UpdatedAt: first(j.FinishedAt, j.StartedAt, j.ScheduledAt),
	}
	// retries_count is null, or 0, for a job's first run.
	if j.RetriesCount != nil && *j.RetriesCount >= 0 {
		ev.Build.Attempt = *j.RetriesCount + 1
	}
	ev.Kind = kind
	switch kind {
	case event.KindTaskQueued:
		ev.Build.Status = event.BuildQueued
	case event.KindTaskStarted:
		ev.Build.Status = event.BuildRunning
	case event.KindTaskFinished:
		if outcome := jobOutcome(j); outcome != "" {
			ev.Build.Status, ev.Build.Outcome = event.BuildFinished, outcome
		} else {
			ev.Kind = event.KindOther
		}
	}
}

// jobOutcome maps the state of a finished job. A job that timed out, or
// expired waiting for an agent, timed out; one that never ran (skipped,
// broken by its configuration, or waiting or blocked when its build
// failed) is skipped; a soft failure, which does not fail the build, is
// neutral. "finished", the state the REST API's passed and failed are
// made from, is judged by the exit status.
func jobOutcome(j *job) event.Outcome {
	switch j.State {
	case "passed":
		return event.OutcomeSuccess
	case "failed":
		return convert.Pick(j.SoftFailed, event.OutcomeNeutral, event.OutcomeFailure)
	case "finished":
		switch {
		case j.ExitStatus == nil:
			return ""
		case *j.ExitStatus == 0:
			return event.OutcomeSuccess
		}
		return convert.Pick(j.SoftFailed, event.OutcomeNeutral, event.OutcomeFailure)
	case "timed_out", "expired":
		return event.OutcomeTimedOut
	case "canceled":
		return event.OutcomeCancelled
	case "skipped", "broken", "waiting_failed", "blocked_failed", "unblocked_failed":
		return event.OutcomeSkipped
	}
	return ""
}

// setPipeline sets what the pipeline and its build name: the repository
// (pipeline.repository, a clone URL, as "owner/name"), the commit (only a
// full SHA: a build started without one has "HEAD"), the branch or tag,
// the actor (the commit author's username for a build from a webhook,
// else its creator's name). It returns the pipeline's slug (else its
// name), which names its builds.
func setPipeline(p *payload, ev *event.Event) (slug string) {
	if pl := p.Pipeline; pl != nil {
		ev.Repository = convert.RepositoryOf(pl.Repository)
		slug = convert.First(pl.Slug, pl.Name)
	}
	b := p.Build
	if b == nil {
		return slug
	}
	if convert.IsSHA(b.Commit) {
		ev.Commit = b.Commit
	}
	switch {
	case b.Tag != "":
		ev.Tag, ev.Ref = b.Tag, tagPrefix+b.Tag
	case b.Branch != "":
		ev.Branch, ev.Ref = b.Branch, branchPrefix+b.Branch
	}
	if b.Author != nil && b.Author.Username != "" {
		ev.Actor = b.Author.Username
	} else if b.Creator != nil {
		ev.Actor = b.Creator.Name
	}
	return slug
}

const (
	branchPrefix = "refs/heads/"
	tagPrefix    = "refs/tags/"
)

// maxWord bounds a state or source kept as it is.
const maxWord = 32

// checkedWord returns a state or source when it has the shape of one
// (lower-case letters, digits, '_' and '-'), else "": it is kept in the
// event, and no string the sender chose freely is.
func checkedWord(s string) string {
	if s == "" || len(s) > maxWord || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		return ""
	}
	return s
}
