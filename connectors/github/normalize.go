package github

import (
	"encoding/json"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/convert"

	"strings"

	"github.com/reflexops/reflex/event"
)

// normalizer fills ev from one event type's payload.
type normalizer func(payload []byte, ev *event.Event) error

// normalizers maps each event type the connector normalizes to its
// normalizer. Any other type is accepted as event.KindUnnormalized.
var normalizers = map[string]normalizer{
	"push":              normalizePush,
	"create":            normalizeCreate,
	"delete":            normalizeDelete,
	"pull_request":      normalizePullRequest,
	"release":           normalizeRelease,
	"workflow_run":      normalizeWorkflowRun,
	"workflow_job":      normalizeWorkflowJob,
	"check_suite":       normalizeCheckSuite,
	"deployment_status": normalizeDeploymentStatus,
	"package":           normalizePackage("package"),
	"registry_package":  normalizePackage("registry_package"),
}

// decode decodes a payload, or a part of one, into v.
func decode(data []byte, v any) error { return connectors.Decode(data, v) }

// normalize decodes payload as an event of type typ into ev.
func normalize(typ string, payload []byte, ev *event.Event) error {
	if fn, ok := normalizers[typ]; ok {
		return fn(payload, ev)
	}
	return normalizeOther(typ, payload, ev)
}

func normalizePush(payload []byte, ev *event.Event) error {
	var p pushPayload
	if err := decode(payload, &p); err != nil {
		return malformed("push", err)
	}
	setRepo(ev, p.Repository)
	ev.Ref = p.Ref
	ev.Before = convert.NonZeroSHA(p.Before)
	ev.URL = p.Compare
	ev.Actor = convert.First(p.Sender.Login, p.Pusher.Name)
	if !p.Deleted {
		// For an annotated tag, after is the tag object; head_commit is the
		// commit it points at.
		if p.HeadCommit != nil {
			ev.Commit = p.HeadCommit.ID
		}
		if ev.Commit == "" {
			ev.Commit = convert.NonZeroSHA(p.After)
		}
	}
	switch {
	case strings.HasPrefix(ev.Ref, "refs/heads/"):
		ev.Branch = strings.TrimPrefix(ev.Ref, "refs/heads/")
		ev.Kind = convert.Pick(p.Deleted, event.KindBranchDeleted, convert.Pick(p.Created, event.KindBranchCreated, event.KindCodePushed))
	case strings.HasPrefix(ev.Ref, "refs/tags/"):
		ev.Tag = strings.TrimPrefix(ev.Ref, "refs/tags/")
		ev.Kind = convert.Pick(p.Deleted, event.KindTagDeleted, event.KindTagCreated)
	default:
		ev.Kind = event.KindOther
	}
	return nil
}

func normalizeCreate(payload []byte, ev *event.Event) error {
	return normalizeRef("create", payload, ev, event.KindBranchCreated, event.KindTagCreated)
}

func normalizeDelete(payload []byte, ev *event.Event) error {
	return normalizeRef("delete", payload, ev, event.KindBranchDeleted, event.KindTagDeleted)
}

// normalizeRef reads a create or delete event, whose ref is a short name
// qualified by ref_type.
func normalizeRef(typ string, payload []byte, ev *event.Event, branchKind, tagKind event.Kind) error {
	var p refPayload
	if err := decode(payload, &p); err != nil {
		return malformed(typ, err)
	}
	setRepo(ev, p.Repository)
	ev.Actor = p.Sender.Login
	switch p.RefType {
	case "branch":
		ev.Branch, ev.Ref, ev.Kind = p.Ref, "refs/heads/"+p.Ref, branchKind
	case "tag":
		ev.Tag, ev.Ref, ev.Kind = p.Ref, "refs/tags/"+p.Ref, tagKind
	default:
		ev.Kind = event.KindOther
	}
	return nil
}

func normalizePullRequest(payload []byte, ev *event.Event) error {
	var p pullRequestPayload
	if err := decode(payload, &p); err != nil {
		return malformed("pull_request", err)
	}
	setRepo(ev, p.Repository)
	pr := &p.PullRequest
	ev.Action = p.Action
	ev.Actor = p.Sender.Login
	ev.URL = pr.HTMLURL
	number := p.Number
	if number == 0 {
		number = pr.Number
	}
	ev.Change = &event.Change{
		Number:       number,
		Title:        pr.Title,
		SourceBranch: pr.Head.Ref,
		TargetBranch: pr.Base.Ref,
		Merged:       pr.Merged,
	}
	// Branch and Commit name what the event changed: the merge commit on the
	// target branch once merged, the head of the source branch before.
	ev.Branch, ev.Commit = ev.Change.SourceBranch, pr.Head.SHA
	switch ev.Action {
	case "opened", "reopened":
		ev.Kind = event.KindChangeCreated
	case "synchronize":
		ev.Kind = event.KindChangeUpdated
	case "closed":
		if pr.Merged {
			ev.Kind = event.KindChangeMerged
			ev.Branch, ev.Commit = ev.Change.TargetBranch, pr.MergeCommitSHA
		} else {
			ev.Kind = event.KindChangeAbandoned
		}
	default:
		ev.Kind = event.KindOther
	}
	if ev.Branch != "" {
		ev.Ref = "refs/heads/" + ev.Branch
	}
	return nil
}

func normalizeRelease(payload []byte, ev *event.Event) error {
	var p releasePayload
	if err := decode(payload, &p); err != nil {
		return malformed("release", err)
	}
	setRepo(ev, p.Repository)
	r := &p.Release
	ev.Action = p.Action
	ev.Actor = p.Sender.Login
	ev.URL = r.HTMLURL
	ev.Tag = r.TagName
	if ev.Tag != "" {
		ev.Ref = "refs/tags/" + ev.Tag
	}
	if convert.IsSHA(r.TargetCommitish) {
		ev.Commit = r.TargetCommitish
	} else {
		ev.Branch = r.TargetCommitish
	}
	if r.Name != "" || r.Prerelease {
		ev.Release = &event.Release{Name: r.Name, Prerelease: r.Prerelease}
	}
	ev.Kind = convert.Pick(ev.Action == "published", event.KindReleasePublished, event.KindOther)
	return nil
}

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
	ev.Actor = convert.First(run.TriggeringActor.Login, run.Actor.Login, p.Sender.Login)
	ev.Build = &event.Build{
		ID:        convert.ID(run.ID),
		Name:      convert.First(run.Name, p.Workflow.Name),
		Number:    run.RunNumber,
		Attempt:   run.RunAttempt,
		Status:    buildStatus(run.Status),
		Outcome:   outcome(run.Conclusion),
		Trigger:   run.Event,
		URL:       run.HTMLURL,
		StartedAt: convert.UTC(run.RunStartedAt),
		UpdatedAt: convert.UTC(run.UpdatedAt),
	}
	ev.Kind = progressKind(ev.Action, event.KindBuildQueued, event.KindBuildStarted, event.KindBuildFinished)
	return nil
}

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
	ev.Actor = p.Sender.Login
	ev.Build = &event.Build{
		ID:        convert.ID(job.ID),
		Name:      job.Name,
		Pipeline:  job.WorkflowName,
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

func normalizeCheckSuite(payload []byte, ev *event.Event) error {
	var p checkSuitePayload
	if err := decode(payload, &p); err != nil {
		return malformed("check_suite", err)
	}
	setRepo(ev, p.Repository)
	cs := &p.CheckSuite
	ev.Action = p.Action
	ev.Branch = cs.HeadBranch
	ev.Commit = cs.HeadSHA
	ev.Before = convert.NonZeroSHA(cs.Before)
	ev.Actor = p.Sender.Login
	ev.Build = &event.Build{
		ID:        convert.ID(cs.ID),
		Name:      convert.First(cs.App.Slug, cs.App.Name),
		Status:    buildStatus(cs.Status),
		Outcome:   outcome(cs.Conclusion),
		UpdatedAt: convert.UTC(cs.UpdatedAt),
	}
	switch ev.Action {
	case "requested", "rerequested":
		ev.Kind = event.KindBuildQueued
	case "completed":
		ev.Kind = event.KindBuildFinished
	default:
		ev.Kind = event.KindOther
	}
	return nil
}

func normalizeDeploymentStatus(payload []byte, ev *event.Event) error {
	var p deploymentStatusPayload
	if err := decode(payload, &p); err != nil {
		return malformed("deployment_status", err)
	}
	setRepo(ev, p.Repository)
	d, st := &p.Deployment, &p.DeploymentStatus
	ev.Action = p.Action
	ev.Commit = d.SHA
	ev.Actor = p.Sender.Login
	ev.URL = convert.First(st.LogURL, st.TargetURL)
	ev.Deployment = &event.Deployment{
		ID:          convert.ID(d.ID),
		Environment: convert.First(st.Environment, d.Environment),
		Ref:         d.Ref,
		State:       st.State,
		URL:         st.EnvironmentURL,
	}
	switch st.State {
	case "success", "failure", "error", "inactive":
		ev.Kind = event.KindDeploymentFinished
	case "pending", "queued", "in_progress":
		ev.Kind = event.KindDeploymentStarted
	default:
		ev.Kind = event.KindOther
	}
	return nil
}

// normalizeOther reads the fields every GitHub event shares from a payload
// of a type the connector does not normalize. It is lenient by design: any
// JSON object is accepted, whatever shape its fields have.
func normalizeOther(typ string, payload []byte, ev *event.Event) error {
	var p map[string]json.RawMessage
	if err := decode(payload, &p); err != nil {
		return malformed(typ, err)
	}
	ev.Kind = event.KindUnnormalized
	_ = decode(p["action"], &ev.Action)
	var repo repository
	if decode(p["repository"], &repo) == nil && repo.FullName != "" {
		ev.Repository = &event.Repository{Name: repo.FullName, URL: repo.HTMLURL, DefaultBranch: repo.DefaultBranch}
	}
	var sender account
	if decode(p["sender"], &sender) == nil {
		ev.Actor = sender.Login
	}
	return nil
}

// setRepo copies the repository block most events share.
func setRepo(ev *event.Event, r *repository) {
	if r == nil {
		return
	}
	ev.Repository = &event.Repository{Name: r.FullName, URL: r.HTMLURL, DefaultBranch: r.DefaultBranch}
}

// progressKind maps the queued / in_progress / completed actions that GitHub
// Actions events share.
func progressKind(action string, queued, started, finished event.Kind) event.Kind {
	switch action {
	case "requested", "queued":
		return queued
	case "in_progress":
		return started
	case "completed":
		return finished
	}
	return event.KindOther
}

// buildStatus maps GitHub's run, job and suite statuses.
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

// outcome maps GitHub's conclusions; null (still running) maps to "".
func outcome(conclusion string) event.Outcome {
	switch conclusion {
	case "success":
		return event.OutcomeSuccess
	case "failure", "startup_failure", "action_required":
		return event.OutcomeFailure
	case "timed_out":
		return event.OutcomeTimedOut
	case "cancelled", "stale":
		return event.OutcomeCancelled
	case "skipped":
		return event.OutcomeSkipped
	case "neutral":
		return event.OutcomeNeutral
	}
	return ""
}
