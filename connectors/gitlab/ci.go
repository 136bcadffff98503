package gitlab

import (
	"strconv"
	"strings"

	"github.com/reflexops/reflex/connectors/convert"

	"github.com/reflexops/reflex/event"
)

// unnamedPipeline is Build.Name of a pipeline without a workflow:name, so
// a project's unnamed pipelines are one series ordered by number, as a
// GitHub workflow's runs are.
const unnamedPipeline = "pipeline"

// normalizePipeline reads a pipeline event: its status gives the kind
// (see progress) and is also the event's action.
func normalizePipeline(payload []byte, ev *event.Event) error {
	var p pipelinePayload
	if err := decode(payload, &p); err != nil {
		return malformed(ev.Type, err)
	}
	setRepo(ev, p.Project)
	pl := &p.ObjectAttributes
	ev.Action = checkedWord(pl.Status)
	ev.Actor = p.User.Username
	ev.Commit = pl.SHA
	ev.URL = pl.URL
	setRefName(ev, pl.Ref, pl.Tag)
	kind, status, outcome := progress(pl.Status, event.KindBuildQueued, event.KindBuildStarted, event.KindBuildFinished)
	ev.Kind = kind
	ev.Build = &event.Build{
		ID:        convert.ID(pl.ID),
		Name:      convert.First(pl.Name, unnamedPipeline),
		Number:    pl.IID,
		Status:    status,
		Outcome:   outcome,
		Trigger:   checkedWord(pl.Source),
		URL:       pl.URL,
		UpdatedAt: firstTime(pl.FinishedAt, pl.CreatedAt).ptr(),
	}
	return nil
}

// normalizeJob reads a job event (object_kind "build"): its status gives
// the kind, as a pipeline's does, and is also the event's action. The
// payload has no job URL; it is the project's web_url + "/-/jobs/<id>".
// Times come from build_*_at, which keeps milliseconds, else from the
// build_*_at_iso variants, which do not.
func normalizeJob(payload []byte, ev *event.Event) error {
	var p jobPayload
	if err := decode(payload, &p); err != nil {
		return malformed(ev.Type, err)
	}
	setRepo(ev, p.Project)
	ev.Action = checkedWord(p.BuildStatus)
	ev.Actor = p.User.Username
	ev.Commit = p.SHA
	setRefName(ev, p.Ref, p.Tag)
	if p.Project != nil && p.Project.WebURL != "" && p.BuildID > 0 {
		ev.URL = strings.TrimSuffix(p.Project.WebURL, "/") + "/-/jobs/" + strconv.FormatInt(p.BuildID, 10)
	}
	kind, status, outcome := progress(p.BuildStatus, event.KindTaskQueued, event.KindTaskStarted, event.KindTaskFinished)
	ev.Kind = kind
	ev.Build = &event.Build{
		ID:        convert.ID(p.BuildID),
		Name:      p.BuildName,
		Pipeline:  convert.First(p.Commit.Name, unnamedPipeline),
		RunID:     convert.ID(p.PipelineID),
		Status:    status,
		Outcome:   outcome,
		URL:       ev.URL,
		StartedAt: firstTime(p.StartedAt, p.StartedAtISO).ptr(),
		UpdatedAt: firstTime(p.FinishedAt, p.FinishedAtISO).ptr(),
	}
	// retries_count (GitLab 15.6+) is 0 for a job's first run.
	if p.RetriesCount != nil && *p.RetriesCount >= 0 {
		ev.Build.Attempt = *p.RetriesCount + 1
	}
	return nil
}

// normalizeDeployment reads a deployment event: created and running start
// a deployment; success, failed and canceled finish it. The status is the
// event's action as GitLab words it; Deployment.State is it in GitHub's
// words (see deploymentState).
func normalizeDeployment(payload []byte, ev *event.Event) error {
	var p deploymentPayload
	if err := decode(payload, &p); err != nil {
		return malformed(ev.Type, err)
	}
	setRepo(ev, p.Project)
	ev.Action = checkedWord(p.Status)
	ev.Actor = p.User.Username
	ev.URL = p.DeployableURL
	// The payload names the commit by its short SHA and its URL only.
	if i := strings.LastIndex(p.CommitURL, "/"); i >= 0 && convert.IsSHA(p.CommitURL[i+1:]) {
		ev.Commit = p.CommitURL[i+1:]
	}
	ev.Deployment = &event.Deployment{
		ID:          convert.ID(p.DeploymentID),
		Environment: p.Environment,
		Ref:         p.Ref,
		State:       deploymentState(ev.Action),
		URL:         p.EnvironmentExternalURL,
	}
	switch p.Status {
	case "created", "running":
		ev.Kind = event.KindDeploymentStarted
	case "success", "failed", "canceled":
		ev.Kind = event.KindDeploymentFinished
	default:
		ev.Kind = event.KindOther
	}
	return nil
}

// deploymentStates maps GitLab's deployment statuses onto the states of
// GitHub's deployment_status, so that Deployment.State reads the same from
// every provider. A canceled deployment never became the environment's
// live one, which is what GitHub's inactive says; it is not a failure.
var deploymentStates = map[string]string{
	"created":  "queued",
	"running":  "in_progress",
	"success":  "success",
	"failed":   "failure",
	"canceled": "inactive",
}

// deploymentState returns a GitLab deployment status in GitHub's words
// (see deploymentStates); a status without a counterpart (blocked,
// skipped) stays GitLab's.
func deploymentState(status string) string {
	if s, ok := deploymentStates[status]; ok {
		return s
	}
	return status
}

// setRefName sets Branch, or Tag when the pipeline or job runs for a tag,
// from a short ref name.
func setRefName(ev *event.Event, ref string, tag bool) {
	if tag {
		ev.Tag = ref
	} else {
		ev.Branch = ref
	}
}

// progress maps a pipeline or job status to the kind (one of queued,
// started and finished), the build status and the outcome. A manual
// (waiting to be played) or canceling pipeline has no normalized meaning.
func progress(status string, queued, started, finished event.Kind) (event.Kind, event.BuildStatus, event.Outcome) {
	switch status {
	case "created", "pending", "waiting_for_resource", "preparing", "scheduled":
		return queued, event.BuildQueued, ""
	case "running":
		return started, event.BuildRunning, ""
	case "success":
		return finished, event.BuildFinished, event.OutcomeSuccess
	case "failed":
		return finished, event.BuildFinished, event.OutcomeFailure
	case "canceled":
		return finished, event.BuildFinished, event.OutcomeCancelled
	case "skipped":
		return finished, event.BuildFinished, event.OutcomeSkipped
	}
	return event.KindOther, "", ""
}

// firstTime returns the first of times that is set.
func firstTime(times ...gitlabTime) gitlabTime {
	for _, t := range times {
		if !t.IsZero() {
			return t
		}
	}
	return gitlabTime{}
}
