package bitbucket

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors/convert"

	gojson "github.com/goccy/go-json"

	"github.com/reflexops/reflex/event"
)

// normalizer fills ev from one event type's payload.
type normalizer func(typ string, payload []byte, ev *event.Event) error

// normalizers maps each event key the connector normalizes to its
// normalizer. Other pullrequest:* keys are read as pull requests of kind
// other; any other key is accepted as event.KindUnnormalized.
var normalizers = map[string]normalizer{
	"repo:push":                  normalizePush,
	"repo:commit_status_created": normalizeCommitStatus,
	"repo:commit_status_updated": normalizeCommitStatus,
}

// changeKinds maps the pull request event keys that have a normalized
// meaning.
var changeKinds = map[string]event.Kind{
	"pullrequest:created":   event.KindChangeCreated,
	"pullrequest:updated":   event.KindChangeUpdated,
	"pullrequest:fulfilled": event.KindChangeMerged,
	"pullrequest:rejected":  event.KindChangeAbandoned,
}

// decode decodes a payload into v.
func decode(data []byte, v any) error { return gojson.Unmarshal(data, v) }

// normalize decodes payload as an event of type typ into ev.
func normalize(typ string, payload []byte, ev *event.Event) error {
	if fn, ok := normalizers[typ]; ok {
		return fn(typ, payload, ev)
	}
	if strings.HasPrefix(typ, "pullrequest:") {
		return normalizePullRequest(typ, payload, ev)
	}
	return normalizeOther(typ, payload, ev)
}

// normalizePush reads the first of the push's ref changes: old is null
// for a created ref, new is null for a deleted one.
func normalizePush(typ string, payload []byte, ev *event.Event) error {
	var p pushPayload
	if err := decode(payload, &p); err != nil {
		return malformed(typ, err)
	}
	setCommon(ev, &p.common)
	ev.Kind = event.KindOther
	if len(p.Push.Changes) == 0 {
		return nil
	}
	c := &p.Push.Changes[0]
	ref := c.New
	if ref == nil {
		ref = c.Old
	}
	if ref == nil {
		return nil
	}
	ev.URL = c.Links.HTML.Href
	if c.Old != nil {
		ev.Before = c.Old.Target.Hash
	}
	if c.New != nil {
		ev.Commit = c.New.Target.Hash
	}
	switch ref.Type {
	case "branch":
		ev.Ref, ev.Branch = "refs/heads/"+ref.Name, ref.Name
		ev.Kind = convert.Pick(c.New == nil, event.KindBranchDeleted, convert.Pick(c.Old == nil, event.KindBranchCreated, event.KindCodePushed))
	case "tag":
		ev.Ref, ev.Tag = "refs/tags/"+ref.Name, ref.Name
		ev.Kind = convert.Pick(c.New == nil, event.KindTagDeleted, event.KindTagCreated)
	}
	return nil
}

// normalizePullRequest reads any pullrequest:* event. Branch and Commit
// name what the event changed: the merge commit on the destination once
// merged (Bitbucket sends it abbreviated, and it is kept as sent), the
// head of the source branch before.
func normalizePullRequest(typ string, payload []byte, ev *event.Event) error {
	var p pullRequestPayload
	if err := decode(payload, &p); err != nil {
		return malformed(typ, err)
	}
	setCommon(ev, &p.common)
	pr := &p.PullRequest
	ev.URL = pr.Links.HTML.Href
	ev.Change = &event.Change{
		Number:       pr.ID,
		Title:        pr.Title,
		SourceBranch: pr.Source.Branch.Name,
		TargetBranch: pr.Destination.Branch.Name,
		Merged:       pr.State == "MERGED" || typ == "pullrequest:fulfilled",
	}
	ev.Kind = event.KindOther
	if kind, ok := changeKinds[typ]; ok {
		ev.Kind = kind
	}
	ev.Branch, ev.Commit = ev.Change.SourceBranch, pr.Source.Commit.Hash
	if ev.Kind == event.KindChangeMerged {
		ev.Branch, ev.Commit = ev.Change.TargetBranch, ""
		if pr.MergeCommit != nil {
			ev.Commit = pr.MergeCommit.Hash
		}
	}
	if ev.Branch != "" {
		ev.Ref = "refs/heads/" + ev.Branch
	}
	return nil
}

// normalizeCommitStatus reads a build status, which Bitbucket Pipelines
// and other build systems post on a commit.
func normalizeCommitStatus(typ string, payload []byte, ev *event.Event) error {
	var p commitStatusPayload
	if err := decode(payload, &p); err != nil {
		return malformed(typ, err)
	}
	setCommon(ev, &p.common)
	cs := &p.CommitStatus
	if cs.Commit != nil {
		ev.Commit = cs.Commit.Hash
	}
	if ev.Commit == "" {
		ev.Commit = lastSegment(cs.Links.Commit.Href, "/commit/")
	}
	if tag, ok := strings.CutPrefix(cs.Refname, "refs/tags/"); ok {
		ev.Tag = tag
	} else {
		ev.Branch = strings.TrimPrefix(cs.Refname, "refs/heads/")
	}
	ev.URL = cs.URL
	status, outcome := buildState(cs.State)
	ev.Build = &event.Build{
		ID:        cs.Key,
		Name:      cs.Name,
		Status:    status,
		Outcome:   outcome,
		URL:       cs.URL,
		StartedAt: timeOf(cs.CreatedOn),
		UpdatedAt: timeOf(cs.UpdatedOn),
	}
	switch status {
	case event.BuildRunning:
		ev.Kind = event.KindBuildStarted
	case event.BuildFinished:
		ev.Kind = event.KindBuildFinished
	default:
		ev.Kind = event.KindOther
	}
	return nil
}

// buildState maps a commit status state.
func buildState(state string) (event.BuildStatus, event.Outcome) {
	switch state {
	case "INPROGRESS":
		return event.BuildRunning, ""
	case "SUCCESSFUL":
		return event.BuildFinished, event.OutcomeSuccess
	case "FAILED":
		return event.BuildFinished, event.OutcomeFailure
	case "STOPPED":
		return event.BuildFinished, event.OutcomeCancelled
	}
	return "", ""
}

// normalizeOther reads the fields every Bitbucket event shares from a
// payload of a type the connector does not normalize. It is lenient by
// design: any JSON object is accepted, whatever shape its fields have.
func normalizeOther(typ string, payload []byte, ev *event.Event) error {
	var p map[string]json.RawMessage
	if err := decode(payload, &p); err != nil {
		return malformed(typ, err)
	}
	ev.Kind = event.KindUnnormalized
	var c common
	var repo repository
	if decode(p["repository"], &repo) == nil {
		c.Repository = &repo
	}
	var actor account
	if decode(p["actor"], &actor) == nil {
		c.Actor = actor
	}
	setCommon(ev, &c)
	return nil
}

// setCommon copies the repository and the actor.
func setCommon(ev *event.Event, c *common) {
	ev.Actor = convert.First(c.Actor.DisplayName, c.Actor.Nickname)
	if r := c.Repository; r != nil && r.FullName != "" {
		ev.Repository = &event.Repository{Name: r.FullName, URL: r.Links.HTML.Href}
	}
}

// lastSegment returns what follows the last sep in s, or "".
func lastSegment(s, sep string) string {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(s[i+len(sep):], "/")
}

// timeOf reads a Bitbucket timestamp as UTC, nil when absent or unreadable.
func timeOf(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}
