package bitbucket

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/convert"

	"github.com/reflexops/reflex/event"
)

// normalizer fills ev from one event type's payload.
type normalizer func(typ string, payload []byte, ev *event.Event) error

// normalizers maps each event key the connector normalizes to its
// normalizer, but repo:push, which normalizePush reads. Other
// pullrequest:* keys are read as pull requests of kind other; any other
// key is accepted as event.KindUnnormalized.
var normalizers = map[string]normalizer{
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
func decode(data []byte, v any) error { return connectors.Decode(data, v) }

// normalize decodes payload as an event of type typ into ev. It returns
// nil events when the delivery is ev alone, and one event per ref change
// for a push of several (see normalizePush).
func normalize(typ string, payload []byte, ev *event.Event) ([]*event.Event, error) {
	if typ == "repo:push" {
		return normalizePush(typ, payload, ev)
	}
	if fn, ok := normalizers[typ]; ok {
		return nil, fn(typ, payload, ev)
	}
	if strings.HasPrefix(typ, "pullrequest:") {
		return nil, normalizePullRequest(typ, payload, ev)
	}
	return nil, normalizeOther(typ, payload, ev)
}

// normalizePush reads the push's ref changes: old is null for a created
// ref, new is null for a deleted one. A push of one change (or none) is
// ev; a push of several is one event per change, each a copy of ev, in
// the order of push.changes. More than connectors.MaxBatch changes are
// refused.
func normalizePush(typ string, payload []byte, ev *event.Event) ([]*event.Event, error) {
	var p pushPayload
	if err := decode(payload, &p); err != nil {
		return nil, malformed(typ, err)
	}
	setCommon(ev, &p.common)
	ev.Kind = event.KindOther
	switch n := len(p.Push.Changes); {
	case n == 0:
		return nil, nil
	case n == 1:
		setChange(ev, &p.Push.Changes[0])
		return nil, nil
	case n > connectors.MaxBatch:
		return nil, fmt.Errorf("%w: a push of %d ref changes; at most %d are taken in one delivery", connectors.ErrMalformed, n, connectors.MaxBatch)
	}
	events := make([]*event.Event, len(p.Push.Changes))
	for i := range p.Push.Changes {
		events[i] = copyEvent(ev)
		setChange(events[i], &p.Push.Changes[i])
	}
	return events, nil
}

// setChange fills ev from one ref change of a push.
func setChange(ev *event.Event, c *refChange) {
	ref := c.New
	if ref == nil {
		ref = c.Old
	}
	if ref == nil {
		return
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
}

// normalizePullRequest reads any pullrequest:* event. Branch and Commit
// name what the event changed: the merge commit on the destination once
// merged, the head of the source branch before. Bitbucket sends both
// abbreviated (12 hex digits), and Commit holds only a full id, as every
// connector's does: it stays empty for an abbreviated one, which the
// payload keeps.
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
	ev.Branch, ev.Commit = ev.Change.SourceBranch, fullSHA(pr.Source.Commit.Hash)
	if ev.Kind == event.KindChangeMerged {
		ev.Branch, ev.Commit = ev.Change.TargetBranch, ""
		if pr.MergeCommit != nil {
			ev.Commit = fullSHA(pr.MergeCommit.Hash)
		}
	}
	if ev.Branch != "" {
		ev.Ref = "refs/heads/" + ev.Branch
	}
	return nil
}

// normalizeCommitStatus reads a build status, which Bitbucket Pipelines
// and other build systems post on a commit. Build.Name is the status's
// name without the run part Bitbucket Pipelines adds (see runName).
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
	name, number := runName(cs.Name)
	ev.Build = &event.Build{
		ID:        cs.Key,
		Name:      name,
		Number:    number,
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

// runName splits a commit status's name into the name of what runs and
// the run's number: Bitbucket Pipelines names each run's status
// "Pipeline #128 for main", which would make every run a workflow of its
// own, so the first " #<number>" that ends the name or is followed by
// " for " is cut off with what follows it, and the number returned. A
// name without such a part, or with nothing before it, is kept whole,
// with no number.
func runName(name string) (string, int) {
	for i := 0; ; {
		j := strings.Index(name[i:], " #")
		if j < 0 {
			return name, 0
		}
		at := i + j
		i = at + 2
		digits, rest, more := strings.Cut(name[i:], " ")
		if more && (len(rest) <= len("for ") || !strings.HasPrefix(rest, "for ")) || digits == "" || digits[0] < '0' || digits[0] > '9' {
			continue
		}
		n, err := strconv.Atoi(digits)
		base := strings.TrimSpace(name[:at])
		if err != nil || n <= 0 || base == "" {
			continue
		}
		return base, n
	}
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

// setCommon copies the repository and the actor: the account's
// nickname, or its display name when it has none. The display name is
// free text its owner changes at will, so it is only a fallback.
func setCommon(ev *event.Event, c *common) {
	ev.Actor = convert.First(c.Actor.Nickname, c.Actor.DisplayName)
	if r := c.Repository; r != nil && r.FullName != "" {
		ev.Repository = &event.Repository{Name: r.FullName, URL: r.Links.HTML.Href}
	}
}

// fullSHA returns sha when it is a full commit id, else "".
func fullSHA(sha string) string { return convert.Pick(convert.IsSHA(sha), sha, "") }

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
