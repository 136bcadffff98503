package circleci

import (
	"strconv"
	"strings"

	"github.com/reflexops/reflex/connectors/convert"
	"github.com/reflexops/reflex/event"
)

// normalize fills ev from a payload of event type typ. Both event types
// CircleCI sends report something that reached a terminal state, so the
// status gives the outcome and the kind; a status it does not know makes
// the event "other", so that nothing acts on a finish it cannot judge.
// Any other type is accepted as event.KindUnnormalized, with the commit
// and repository it names.
func normalize(typ string, p *payload, ev *event.Event) {
	setSource(&p.Pipeline, ev)
	switch typ {
	case TypeWorkflowCompleted:
		normalizeWorkflow(p, ev)
	case TypeJobCompleted:
		normalizeJob(p, ev)
	default:
		ev.Kind = event.KindUnnormalized
	}
}

// normalizeWorkflow reads a workflow-completed event: a finished build,
// named by its workflow, in the project's series (Pipeline, the project
// slug), numbered by its pipeline.
func normalizeWorkflow(p *payload, ev *event.Event) {
	w := &p.Workflow
	ev.Action = checkedWord(w.Status)
	ev.URL = w.URL
	outcome, ok := outcomes[w.Status]
	ev.Kind = convert.Pick(ok, event.KindBuildFinished, event.KindOther)
	ev.Build = &event.Build{
		ID:        w.ID,
		Name:      w.Name,
		Pipeline:  p.Project.Slug,
		Number:    p.Pipeline.Number,
		Status:    event.BuildFinished,
		Outcome:   outcome,
		Trigger:   checkedWord(p.Pipeline.Trigger.Type),
		URL:       w.URL,
		StartedAt: w.CreatedAt.ptr(),
		UpdatedAt: first(w.StoppedAt, p.HappenedAt),
	}
}

// normalizeJob reads a job-completed event: a finished task of its
// workflow (Pipeline is the workflow's name, RunID its id, as a workflow
// run's job is on GitHub). The payload has no job URL; it is the
// workflow's URL + "/jobs/<number>", as CircleCI's web app has it.
func normalizeJob(p *payload, ev *event.Event) {
	if p.Job == nil {
		ev.Kind = event.KindOther
		return
	}
	j := p.Job
	ev.Action = checkedWord(j.Status)
	if p.Workflow.URL != "" && j.Number > 0 {
		ev.URL = strings.TrimSuffix(p.Workflow.URL, "/") + "/jobs/" + strconv.Itoa(j.Number)
	}
	outcome, ok := outcomes[j.Status]
	ev.Kind = convert.Pick(ok, event.KindTaskFinished, event.KindOther)
	ev.Build = &event.Build{
		ID:        j.ID,
		Name:      j.Name,
		Pipeline:  p.Workflow.Name,
		RunID:     p.Workflow.ID,
		Number:    j.Number,
		Status:    event.BuildFinished,
		Outcome:   outcome,
		URL:       ev.URL,
		StartedAt: j.StartedAt.ptr(),
		UpdatedAt: first(j.StoppedAt, p.HappenedAt),
	}
}

// outcomes maps the terminal statuses of workflows and jobs. The webhook
// documentation lists success, failed, error, canceled and unauthorized
// (a job the project's contexts or restrictions did not let run); the
// others are statuses of API v2's workflow and job enums, read in case a
// webhook carries them: failing, infrastructure_fail and
// terminated-unknown end in failure, not_run is skipped, timedout timed
// out.
var outcomes = map[string]event.Outcome{
	"success":             event.OutcomeSuccess,
	"failed":              event.OutcomeFailure,
	"error":               event.OutcomeFailure,
	"failing":             event.OutcomeFailure,
	"unauthorized":        event.OutcomeFailure,
	"infrastructure_fail": event.OutcomeFailure,
	"terminated-unknown":  event.OutcomeFailure,
	"canceled":            event.OutcomeCancelled,
	"timedout":            event.OutcomeTimedOut,
	"not_run":             event.OutcomeSkipped,
}

// setSource sets the repository, commit and ref the pipeline built. A
// project on GitHub (OAuth app) or Bitbucket Cloud names them in vcs: the
// repository that builds the commit (target_repository_url), else the one
// it was made in (origin_repository_url, which differs for a pull request
// from a fork). One on GitLab, a GitHub App or Bitbucket Data Center names
// them in trigger_parameters. Only a full commit SHA is kept.
func setSource(pl *pipeline, ev *event.Event) {
	var commit, branch, tag, ref string
	switch {
	case pl.VCS != nil:
		v := pl.VCS
		ev.Repository = convert.RepositoryOf(convert.First(v.TargetRepositoryURL, v.OriginRepositoryURL))
		commit, branch, tag = v.Revision, v.Branch, v.Tag
	case pl.TriggerParameters != nil:
		tp := pl.TriggerParameters
		ev.Repository = convert.RepositoryOf(convert.First(tp.GitLab.WebURL, tp.Git.CheckoutURL))
		commit = convert.First(tp.Git.CheckoutSHA, tp.GitLab.CheckoutSHA)
		branch, tag, ref = tp.Git.Branch, tp.Git.Tag, tp.Git.Ref
		ev.Actor = tp.GitLab.UserUsername
	}
	if convert.IsSHA(commit) {
		ev.Commit = commit
	}
	switch {
	case tag != "":
		ev.Tag, ev.Ref = tag, tagPrefix+tag
	case branch != "":
		ev.Branch, ev.Ref = branch, branchPrefix+branch
	}
	if strings.HasPrefix(ref, "refs/") && ev.Ref == "" {
		ev.Ref = ref
	}
}

const (
	branchPrefix = "refs/heads/"
	tagPrefix    = "refs/tags/"
)

// maxWord bounds a status or trigger kept as it is.
const maxWord = 32

// checkedWord returns a status or trigger type when it has the shape of
// one (lower-case letters, digits, '_' and '-'), else "": it is kept in
// the event, and no string the sender chose freely is.
func checkedWord(s string) string {
	if s == "" || len(s) > maxWord {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return ""
		}
	}
	return s
}
