package azuredevops

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/convert"

	"github.com/reflexops/reflex/event"
)

// normalizer fills ev from one event type's notification, whose resource
// is there.
type normalizer func(n *notification, ev *event.Event)

// normalizers maps each event type the connector normalizes to its
// normalizer, but git.push, which normalize reads with normalizePush. Any
// other type is accepted as event.KindUnnormalized.
var normalizers = map[string]normalizer{
	"git.push":                                   nil, // normalizePush, which may return several events
	"git.pullrequest.created":                    normalizePullRequest,
	"git.pullrequest.updated":                    normalizePullRequest,
	"git.pullrequest.merged":                     normalizePullRequest,
	"build.complete":                             normalizeBuild,
	"ms.vss-pipelines.run-state-changed-event":   normalizeRun,
	"ms.vss-pipelines.stage-state-changed-event": normalizeStage,
	"ms.vss-release.deployment-started-event":    normalizeDeployment,
	"ms.vss-release.deployment-completed-event":  normalizeDeployment,
}

// decode decodes a payload into v.
func decode(data []byte, v any) error { return connectors.Decode(data, v) }

// normalize fills ev from n. A known event type without a resource (the
// subscription sends "None" as resource details) is event.KindOther: its
// meaning cannot be told. It returns nil events when the delivery is ev
// alone, and one event per ref update for a push of several (see
// normalizePush).
func normalize(n *notification, ev *event.Event) ([]*event.Event, error) {
	fn, ok := normalizers[n.EventType]
	switch {
	case !ok:
		ev.Kind = event.KindUnnormalized
	case n.Resource == nil:
		ev.Kind = event.KindOther
	case n.EventType == "git.push":
		return normalizePush(n, ev)
	default:
		fn(n, ev)
	}
	return nil, nil
}

// normalizePush reads git.push. A push may update several refs: a push of
// one update (or none) is ev; a push of several is one event per update,
// each a copy of ev, in the order of refUpdates. More than
// connectors.MaxBatch updates are refused.
func normalizePush(n *notification, ev *event.Event) ([]*event.Event, error) {
	p := n.Resource
	ev.Repository = repositoryOf(p.Repository)
	ev.Actor = p.PushedBy.name()
	ev.Kind = event.KindOther
	switch k := len(p.RefUpdates); {
	case k == 0:
		return nil, nil
	case k == 1:
		setRefUpdate(ev, p, &p.RefUpdates[0])
		return nil, nil
	case k > connectors.MaxBatch:
		return nil, fmt.Errorf("%w: a push of %d ref updates; at most %d are taken in one delivery", connectors.ErrMalformed, k, connectors.MaxBatch)
	}
	events := make([]*event.Event, len(p.RefUpdates))
	for i := range p.RefUpdates {
		events[i] = copyEvent(ev)
		setRefUpdate(events[i], p, &p.RefUpdates[i])
	}
	return events, nil
}

// setRefUpdate fills ev from one ref update of push p. Commit is the new
// object id, which for an annotated tag is the tag object: the payload
// does not name the commit it points at. URL is the web page of the
// pushed commit, or of the tag, or the repository's for a deletion.
func setRefUpdate(ev *event.Event, p *resource, u *refUpdate) {
	created, deleted := convert.IsZeroSHA(u.OldObjectID), convert.IsZeroSHA(u.NewObjectID)
	ev.Ref = u.Name
	ev.Before = convert.NonZeroSHA(u.OldObjectID)
	ev.Commit = convert.NonZeroSHA(u.NewObjectID)
	ev.URL = webURL(p.Repository)
	switch {
	case strings.HasPrefix(u.Name, "refs/heads/"):
		ev.Branch = strings.TrimPrefix(u.Name, "refs/heads/")
		ev.Kind = convert.Pick(deleted, event.KindBranchDeleted, convert.Pick(created, event.KindBranchCreated, event.KindCodePushed))
		if ev.URL != "" && ev.Commit != "" {
			ev.URL += "/commit/" + ev.Commit
		}
	case strings.HasPrefix(u.Name, "refs/tags/"):
		ev.Tag = strings.TrimPrefix(u.Name, "refs/tags/")
		ev.Kind = convert.Pick(deleted, event.KindTagDeleted, event.KindTagCreated)
		if ev.URL != "" && !deleted {
			ev.URL += "?version=GT" + url.QueryEscape(ev.Tag)
		}
	default:
		ev.Kind = event.KindOther
	}
}

// sourceBranchUpdated is how the message of git.pullrequest.updated says
// that commits were pushed to the source branch. The payload names no
// other sign of it: the subscription's notificationType filter
// (PushNotification, StatusUpdateNotification, …) is not sent.
const sourceBranchUpdated = "updated the source branch"

// normalizePullRequest reads the three pull request events. Whatever the
// event type, a completed pull request is merged and an abandoned one
// abandoned; otherwise created is change.created, updated is
// change.updated when the message says the source branch was pushed to
// (a vote, a reviewer or a status change is KindOther), and merged, which
// Azure DevOps sends whenever it attempts the merge, is KindOther.
func normalizePullRequest(n *notification, ev *event.Event) {
	pr := n.Resource
	ev.Repository = repositoryOf(pr.Repository)
	ev.URL = pr.Links.Web.Href
	if web := webURL(pr.Repository); ev.URL == "" && web != "" && pr.PullRequestID != 0 {
		ev.URL = web + "/pullrequest/" + strconv.Itoa(pr.PullRequestID)
	}
	ev.Actor = convert.First(pr.ClosedBy.name(), pr.CreatedBy.name())
	merged := pr.Status == "completed"
	ev.Change = &event.Change{
		Number:       pr.PullRequestID,
		Title:        pr.Title,
		SourceBranch: strings.TrimPrefix(pr.SourceRefName, "refs/heads/"),
		TargetBranch: strings.TrimPrefix(pr.TargetRefName, "refs/heads/"),
		Merged:       merged,
	}
	// Branch and Commit name what the event changed: the merge commit on
	// the target branch once merged, the head of the source branch before.
	ev.Ref, ev.Commit = pr.SourceRefName, pr.LastMergeSourceCommit.id()
	if merged {
		ev.Ref, ev.Commit = pr.TargetRefName, pr.LastMergeCommit.id()
	}
	if b, ok := strings.CutPrefix(ev.Ref, "refs/heads/"); ok {
		ev.Branch = b
	}
	switch {
	case merged:
		ev.Kind = event.KindChangeMerged
	case pr.Status == "abandoned":
		ev.Kind = event.KindChangeAbandoned
	case n.EventType == "git.pullrequest.created":
		ev.Kind = event.KindChangeCreated
	case n.EventType == "git.pullrequest.updated" && strings.Contains(n.Message.Text, sourceBranchUpdated):
		ev.Kind = event.KindChangeUpdated
	default:
		ev.Kind = event.KindOther
	}
}

// normalizeBuild reads build.complete (resource version 2.0, and the
// result-in-status of 1.0).
func normalizeBuild(n *notification, ev *event.Event) {
	b := n.Resource
	result := b.Result
	if result == "" && b.Status != "completed" {
		result = b.Status
	}
	setBuildRef(ev, b.SourceBranch)
	if convert.IsSHA(b.SourceVersion) {
		ev.Commit = b.SourceVersion
	}
	ev.Actor = b.RequestedFor.name()
	ev.URL = b.Links.Web.Href
	if r := b.Repository; r != nil && r.Name != "" {
		ev.Repository = &event.Repository{Name: r.Name, URL: stripUserinfo(r.URL)}
		if r.Type == "TfsGit" && b.Project.Name != "" {
			ev.Repository.Name = b.Project.Name + "/" + r.Name
		}
	}
	ev.Build = &event.Build{
		ID:        convert.ID(b.ID),
		Name:      b.Definition.Name,
		Number:    number(b.BuildNumber),
		Status:    event.BuildFinished,
		Outcome:   outcome(result),
		Trigger:   b.Reason,
		URL:       ev.URL,
		StartedAt: timeOf(b.StartTime),
		UpdatedAt: timeOf(convert.First(b.LastChangedDate, b.FinishTime)),
	}
	ev.Kind = event.KindBuildFinished
}

// normalizeRun reads ms.vss-pipelines.run-state-changed-event: a run in
// progress started, a completed one finished; canceling is KindOther.
func normalizeRun(n *notification, ev *event.Event) {
	r := n.Resource
	run := r.Run
	if run == nil {
		ev.Kind = event.KindOther
		return
	}
	setRunSource(ev, r)
	ev.Action = run.State
	ev.Actor = r.RequestedFor.name()
	ev.URL = run.Links.Web.Href
	ev.Build = &event.Build{
		ID:        convert.ID(run.ID),
		Name:      convert.First(run.Pipeline.Name, r.Pipeline.Name),
		Number:    number(run.Name),
		Status:    runStatus(run.State),
		Outcome:   outcome(run.Result),
		URL:       ev.URL,
		StartedAt: timeOf(run.CreatedDate),
		UpdatedAt: timeOf(run.FinishedDate),
	}
	ev.Kind = progressKind(run.State, event.KindBuildQueued, event.KindBuildStarted, event.KindBuildFinished)
}

// normalizeStage reads ms.vss-pipelines.stage-state-changed-event as one
// task of its run.
func normalizeStage(n *notification, ev *event.Event) {
	r := n.Resource
	st := r.Stage
	if st == nil {
		ev.Kind = event.KindOther
		return
	}
	b := &event.Build{
		ID:        st.ID,
		Name:      convert.First(st.DisplayName, st.Name),
		Pipeline:  r.Pipeline.Name,
		Status:    runStatus(st.State),
		Outcome:   outcome(st.Result),
		URL:       st.Links.Web.Href,
		StartedAt: timeOf(st.StartTime),
		UpdatedAt: timeOf(st.FinishTime),
	}
	if run := r.Run; run != nil {
		setRunSource(ev, r)
		b.RunID = convert.ID(run.ID)
		b.Pipeline = convert.First(b.Pipeline, run.Pipeline.Name)
	}
	ev.Action = st.State
	ev.Actor = r.RequestedFor.name()
	ev.URL = b.URL
	ev.Build = b
	ev.Kind = progressKind(st.State, event.KindTaskQueued, event.KindTaskStarted, event.KindTaskFinished)
}

// normalizeDeployment reads the classic release deployment events: started
// is deployment.started, completed deployment.finished.
func normalizeDeployment(n *notification, ev *event.Event) {
	d := n.Resource
	dep := &event.Deployment{}
	if e := d.Environment; e != nil {
		dep.Environment, dep.State = e.Name, e.Status
		ev.URL = e.Release.Links.Web.Href
	}
	if x := d.Deployment; x != nil {
		dep.ID = convert.ID(x.ID)
		dep.Environment = convert.First(dep.Environment, x.ReleaseEnvironment.Name)
		dep.State = convert.First(dep.State, x.DeploymentStatus)
		ev.URL = convert.First(ev.URL, x.Release.Links.Web.Href)
		ev.Actor = x.RequestedFor.name()
	}
	dep.State = deploymentState(dep.State)
	ev.Deployment = dep
	ev.Kind = convert.Pick(n.EventType == "ms.vss-release.deployment-started-event", event.KindDeploymentStarted, event.KindDeploymentFinished)
}
