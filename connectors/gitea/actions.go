package gitea

import (
	"strings"

	"github.com/reflexops/reflex/connectors/convert"

	"github.com/reflexops/reflex/event"
)

// normalizeWorkflowRun reads a Gitea Actions run. Its workflow's name is in
// the workflow block; the run's path ("ci.yml@refs/heads/main") stands in
// when that is empty.
func normalizeWorkflowRun(payload []byte, ev *event.Event) error {
	var p workflowRunPayload
	if err := decode(payload, &p); err != nil {
		return malformed("workflow_run", err)
	}
	setRepo(ev, p.Repository)
	run := &p.WorkflowRun
	ev.Action = p.Action
	ev.Branch = run.HeadBranch
	ev.Commit = run.HeadSHA
	ev.URL = run.HTMLURL
	ev.Actor = convert.First(run.TriggerActor.name(), run.Actor.name(), p.Sender.name())
	workflow, _, _ := strings.Cut(run.Path, "@")
	ev.Build = &event.Build{
		ID:        convert.ID(run.ID),
		Name:      convert.First(p.Workflow.Name, workflow),
		Number:    run.RunNumber,
		Attempt:   run.RunAttempt,
		Status:    buildStatus(run.Status),
		Outcome:   outcome(run.Conclusion),
		Trigger:   run.Event,
		URL:       run.HTMLURL,
		StartedAt: convert.UTC(run.StartedAt),
		UpdatedAt: convert.UTC(run.UpdatedAt),
	}
	ev.Kind = progressKind(ev.Action, event.KindBuildQueued, event.KindBuildStarted, event.KindBuildFinished)
	return nil
}

// normalizeWorkflowJob reads one job of a Gitea Actions run.
func normalizeWorkflowJob(payload []byte, ev *event.Event) error {
	var p workflowJobPayload
	if err := decode(payload, &p); err != nil {
		return malformed("workflow_job", err)
	}
	setRepo(ev, p.Repository)
	job := &p.WorkflowJob
	ev.Action = p.Action
	ev.Branch = job.HeadBranch
	ev.Commit = job.HeadSHA
	ev.URL = job.HTMLURL
	ev.Actor = p.Sender.name()
	ev.Build = &event.Build{
		ID:        convert.ID(job.ID),
		Name:      job.Name,
		RunID:     convert.ID(job.RunID),
		Attempt:   job.RunAttempt,
		Status:    buildStatus(job.Status),
		Outcome:   outcome(job.Conclusion),
		URL:       job.HTMLURL,
		StartedAt: convert.UTC(job.StartedAt),
	}
	ev.Kind = progressKind(ev.Action, event.KindTaskQueued, event.KindTaskStarted, event.KindTaskFinished)
	return nil
}

// normalizeStatus reads a commit status, a build as an external CI (or
// Gitea Actions) reports it on a commit. Its state has no queued stage:
// pending is reported as a build started.
func normalizeStatus(payload []byte, ev *event.Event) error {
	var p statusPayload
	if err := decode(payload, &p); err != nil {
		return malformed("status", err)
	}
	setRepo(ev, p.Repository)
	ev.Commit = p.SHA
	ev.Actor = p.Sender.name()
	ev.URL = p.TargetURL
	updated := convert.UTC(p.UpdatedAt)
	if updated == nil {
		updated = convert.UTC(p.CreatedAt)
	}
	ev.Build = &event.Build{
		ID:        convert.ID(p.ID),
		Name:      p.Context,
		URL:       p.TargetURL,
		UpdatedAt: updated,
	}
	switch p.State {
	case "pending":
		ev.Kind, ev.Build.Status = event.KindBuildStarted, event.BuildRunning
	case "success", "failure", "error", "warning", "skipped":
		ev.Kind, ev.Build.Status = event.KindBuildFinished, event.BuildFinished
		ev.Build.Outcome = statusOutcome(p.State)
	default:
		ev.Kind = event.KindOther
	}
	return nil
}

// statusOutcome maps a finished commit status state.
func statusOutcome(state string) event.Outcome {
	switch state {
	case "success":
		return event.OutcomeSuccess
	case "failure", "error":
		return event.OutcomeFailure
	case "warning":
		return event.OutcomeNeutral
	case "skipped":
		return event.OutcomeSkipped
	}
	return ""
}

// progressKind maps the actions of workflow_run and workflow_job: Gitea
// sends requested or queued, waiting (blocked, or awaiting approval),
// in_progress and completed.
func progressKind(action string, queued, started, finished event.Kind) event.Kind {
	switch action {
	case "requested", "queued", "waiting":
		return queued
	case "in_progress":
		return started
	case "completed":
		return finished
	}
	return event.KindOther
}

// buildStatus maps Gitea's run and job statuses.
func buildStatus(s string) event.BuildStatus {
	switch s {
	case "requested", "queued", "pending", "waiting":
		return event.BuildQueued
	case "in_progress":
		return event.BuildRunning
	case "completed":
		return event.BuildFinished
	}
	return ""
}

// outcome maps Gitea's conclusions; an empty one (still running) maps to
// "".
func outcome(conclusion string) event.Outcome {
	switch conclusion {
	case "success":
		return event.OutcomeSuccess
	case "failure":
		return event.OutcomeFailure
	case "cancelled":
		return event.OutcomeCancelled
	case "skipped":
		return event.OutcomeSkipped
	case "neutral":
		return event.OutcomeNeutral
	}
	return ""
}
