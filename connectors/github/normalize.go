package github

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

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

// normalize decodes payload as an event of type typ into ev.
func normalize(typ string, payload []byte, ev *event.Event) error {
	if fn, ok := normalizers[typ]; ok {
		return fn(payload, ev)
	}
	return normalizeOther(typ, payload, ev)
}

const zeroSHA = "0000000000000000000000000000000000000000"

func normalizePush(payload []byte, ev *event.Event) error {
	var p gh.PushEvent
	if err := json.Unmarshal(payload, &p); err != nil {
		return malformed("push", err)
	}
	if p.Repo != nil {
		ev.Repository = &event.Repository{Name: p.Repo.GetFullName(), URL: p.Repo.GetHTMLURL(), DefaultBranch: p.Repo.GetDefaultBranch()}
	}
	ev.Ref = p.GetRef()
	ev.Before = nonZero(p.GetBefore())
	ev.URL = p.GetCompare()
	ev.Actor = p.GetSender().GetLogin()
	if ev.Actor == "" {
		ev.Actor = p.GetPusher().GetName()
	}
	if !p.GetDeleted() {
		// For an annotated tag, after is the tag object; head_commit is the
		// commit it points at.
		ev.Commit = p.GetHeadCommit().GetID()
		if ev.Commit == "" {
			ev.Commit = nonZero(p.GetAfter())
		}
	}
	switch {
	case strings.HasPrefix(ev.Ref, "refs/heads/"):
		ev.Branch = strings.TrimPrefix(ev.Ref, "refs/heads/")
		ev.Kind = pick(p.GetDeleted(), event.KindBranchDeleted, pick(p.GetCreated(), event.KindBranchCreated, event.KindCodePushed))
	case strings.HasPrefix(ev.Ref, "refs/tags/"):
		ev.Tag = strings.TrimPrefix(ev.Ref, "refs/tags/")
		ev.Kind = pick(p.GetDeleted(), event.KindTagDeleted, event.KindTagCreated)
	default:
		ev.Kind = event.KindOther
	}
	return nil
}

func normalizeCreate(payload []byte, ev *event.Event) error {
	var p gh.CreateEvent
	if err := json.Unmarshal(payload, &p); err != nil {
		return malformed("create", err)
	}
	setRepo(ev, p.Repo)
	ev.Actor = p.GetSender().GetLogin()
	setRefByType(ev, p.GetRefType(), p.GetRef(), event.KindBranchCreated, event.KindTagCreated)
	return nil
}

func normalizeDelete(payload []byte, ev *event.Event) error {
	var p gh.DeleteEvent
	if err := json.Unmarshal(payload, &p); err != nil {
		return malformed("delete", err)
	}
	setRepo(ev, p.Repo)
	ev.Actor = p.GetSender().GetLogin()
	setRefByType(ev, p.GetRefType(), p.GetRef(), event.KindBranchDeleted, event.KindTagDeleted)
	return nil
}

// setRefByType fills the ref fields of a create or delete event, whose ref
// is a short name qualified by ref_type.
func setRefByType(ev *event.Event, refType, ref string, branchKind, tagKind event.Kind) {
	switch refType {
	case "branch":
		ev.Branch, ev.Ref, ev.Kind = ref, "refs/heads/"+ref, branchKind
	case "tag":
		ev.Tag, ev.Ref, ev.Kind = ref, "refs/tags/"+ref, tagKind
	default:
		ev.Kind = event.KindOther
	}
}

func normalizePullRequest(payload []byte, ev *event.Event) error {
	var p gh.PullRequestEvent
	if err := json.Unmarshal(payload, &p); err != nil {
		return malformed("pull_request", err)
	}
	setRepo(ev, p.Repo)
	pr := p.GetPullRequest()
	ev.Action = p.GetAction()
	ev.Actor = p.GetSender().GetLogin()
	ev.URL = pr.GetHTMLURL()
	number := p.GetNumber()
	if number == 0 {
		number = pr.GetNumber()
	}
	ev.Change = &event.Change{
		Number:       number,
		Title:        pr.GetTitle(),
		SourceBranch: pr.GetHead().GetRef(),
		TargetBranch: pr.GetBase().GetRef(),
		Merged:       pr.GetMerged(),
	}
	// Branch and Commit name what the event changed: the merge commit on the
	// target branch once merged, the head of the source branch before.
	ev.Branch, ev.Commit = ev.Change.SourceBranch, pr.GetHead().GetSHA()
	switch ev.Action {
	case "opened", "reopened":
		ev.Kind = event.KindChangeCreated
	case "synchronize":
		ev.Kind = event.KindChangeUpdated
	case "closed":
		if pr.GetMerged() {
			ev.Kind = event.KindChangeMerged
			ev.Branch, ev.Commit = ev.Change.TargetBranch, pr.GetMergeCommitSHA()
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
	var p gh.ReleaseEvent
	if err := json.Unmarshal(payload, &p); err != nil {
		return malformed("release", err)
	}
	setRepo(ev, p.Repo)
	r := p.GetRelease()
	ev.Action = p.GetAction()
	ev.Actor = p.GetSender().GetLogin()
	ev.URL = r.GetHTMLURL()
	ev.Tag = r.GetTagName()
	if ev.Tag != "" {
		ev.Ref = "refs/tags/" + ev.Tag
	}
	if target := r.GetTargetCommitish(); isSHA(target) {
		ev.Commit = target
	} else {
		ev.Branch = target
	}
	if r.GetName() != "" || r.GetPrerelease() {
		ev.Release = &event.Release{Name: r.GetName(), Prerelease: r.GetPrerelease()}
	}
	ev.Kind = pick(ev.Action == "published", event.KindReleasePublished, event.KindOther)
	return nil
}

func normalizeWorkflowRun(payload []byte, ev *event.Event) error {
	var p gh.WorkflowRunEvent
	if err := json.Unmarshal(payload, &p); err != nil {
		return malformed("workflow_run", err)
	}
	setRepo(ev, p.Repo)
	run := p.GetWorkflowRun()
	ev.Action = p.GetAction()
	ev.Branch = run.GetHeadBranch()
	ev.Commit = run.GetHeadSHA()
	ev.URL = run.GetHTMLURL()
	ev.Actor = firstNonEmpty(run.GetTriggeringActor().GetLogin(), run.GetActor().GetLogin(), p.GetSender().GetLogin())
	name := run.GetName()
	if name == "" {
		name = p.GetWorkflow().GetName()
	}
	ev.Build = &event.Build{
		ID:        id64(run.GetID()),
		Name:      name,
		Number:    run.GetRunNumber(),
		Attempt:   run.GetRunAttempt(),
		Status:    buildStatus(run.GetStatus()),
		Outcome:   outcome(run.GetConclusion()),
		Trigger:   run.GetEvent(),
		URL:       run.GetHTMLURL(),
		StartedAt: timeOf(run.RunStartedAt),
		UpdatedAt: timeOf(run.UpdatedAt),
	}
	ev.Kind = progressKind(ev.Action, event.KindBuildQueued, event.KindBuildStarted, event.KindBuildFinished)
	return nil
}

func normalizeWorkflowJob(payload []byte, ev *event.Event) error {
	var p gh.WorkflowJobEvent
	if err := json.Unmarshal(payload, &p); err != nil {
		return malformed("workflow_job", err)
	}
	setRepo(ev, p.Repo)
	job := p.GetWorkflowJob()
	ev.Action = p.GetAction()
	ev.Branch = job.GetHeadBranch()
	ev.Commit = job.GetHeadSHA()
	ev.URL = job.GetHTMLURL()
	ev.Actor = p.GetSender().GetLogin()
	ev.Build = &event.Build{
		ID:        id64(job.GetID()),
		Name:      job.GetName(),
		Pipeline:  job.GetWorkflowName(),
		RunID:     id64(job.GetRunID()),
		Attempt:   int(job.GetRunAttempt()),
		Status:    buildStatus(job.GetStatus()),
		Outcome:   outcome(job.GetConclusion()),
		URL:       job.GetHTMLURL(),
		StartedAt: timeOf(job.StartedAt),
	}
	ev.Kind = progressKind(ev.Action, event.KindTaskQueued, event.KindTaskStarted, event.KindTaskFinished)
	return nil
}

func normalizeCheckSuite(payload []byte, ev *event.Event) error {
	var p gh.CheckSuiteEvent
	if err := json.Unmarshal(payload, &p); err != nil {
		return malformed("check_suite", err)
	}
	setRepo(ev, p.Repo)
	cs := p.GetCheckSuite()
	ev.Action = p.GetAction()
	ev.Branch = cs.GetHeadBranch()
	ev.Commit = cs.GetHeadSHA()
	ev.Before = nonZero(cs.GetBeforeSHA())
	ev.Actor = p.GetSender().GetLogin()
	ev.Build = &event.Build{
		ID:        id64(cs.GetID()),
		Name:      firstNonEmpty(cs.GetApp().GetSlug(), cs.GetApp().GetName()),
		Status:    buildStatus(cs.GetStatus()),
		Outcome:   outcome(cs.GetConclusion()),
		UpdatedAt: timeOf(cs.UpdatedAt),
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
	var p struct {
		gh.DeploymentStatusEvent
		Action string `json:"action"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return malformed("deployment_status", err)
	}
	setRepo(ev, p.Repo)
	d, st := p.GetDeployment(), p.GetDeploymentStatus()
	ev.Action = p.Action
	ev.Commit = d.GetSHA()
	ev.Actor = p.GetSender().GetLogin()
	ev.URL = firstNonEmpty(st.GetLogURL(), st.GetTargetURL())
	env := st.GetEnvironment()
	if env == "" {
		env = d.GetEnvironment()
	}
	ev.Deployment = &event.Deployment{
		ID:          id64(d.GetID()),
		Environment: env,
		Ref:         d.GetRef(),
		State:       st.GetState(),
		URL:         st.GetEnvironmentURL(),
	}
	switch st.GetState() {
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
	if err := json.Unmarshal(payload, &p); err != nil {
		return malformed(typ, err)
	}
	ev.Kind = event.KindUnnormalized
	_ = json.Unmarshal(p["action"], &ev.Action)
	var repo struct {
		FullName      string `json:"full_name"`
		HTMLURL       string `json:"html_url"`
		DefaultBranch string `json:"default_branch"`
	}
	if json.Unmarshal(p["repository"], &repo) == nil && repo.FullName != "" {
		ev.Repository = &event.Repository{Name: repo.FullName, URL: repo.HTMLURL, DefaultBranch: repo.DefaultBranch}
	}
	var sender struct {
		Login string `json:"login"`
	}
	if json.Unmarshal(p["sender"], &sender) == nil {
		ev.Actor = sender.Login
	}
	return nil
}

// setRepo copies the repository block most events share.
func setRepo(ev *event.Event, r *gh.Repository) {
	if r == nil {
		return
	}
	ev.Repository = &event.Repository{Name: r.GetFullName(), URL: r.GetHTMLURL(), DefaultBranch: r.GetDefaultBranch()}
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
	case "failure", "timed_out", "startup_failure", "action_required":
		return event.OutcomeFailure
	case "cancelled", "stale":
		return event.OutcomeCancelled
	case "skipped":
		return event.OutcomeSkipped
	case "neutral":
		return event.OutcomeNeutral
	}
	return ""
}

func pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}

func nonZero(sha string) string {
	if sha == zeroSHA {
		return ""
	}
	return sha
}

func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

func id64(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// timeOf returns a GitHub timestamp as UTC, or nil when it is absent.
func timeOf(ts *gh.Timestamp) *time.Time {
	if ts == nil || ts.IsZero() {
		return nil
	}
	t := ts.UTC()
	return &t
}
