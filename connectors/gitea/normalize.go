package gitea

import (
	"encoding/json"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/convert"

	"github.com/reflexops/reflex/event"
)

// normalizer fills ev from one event type's payload.
type normalizer func(payload []byte, ev *event.Event) error

// normalizers maps each event type the connector normalizes to its
// normalizer. Any other type is accepted as event.KindUnnormalized.
var normalizers = map[string]normalizer{
	"push":         normalizePush,
	"create":       normalizeCreate,
	"delete":       normalizeDelete,
	"pull_request": normalizePullRequest,
	"release":      normalizeRelease,
	"status":       normalizeStatus,
	"workflow_run": normalizeWorkflowRun,
	"workflow_job": normalizeWorkflowJob,
	"package":      normalizePackage,
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

const (
	branchPrefix = "refs/heads/"
	tagPrefix    = "refs/tags/"
)

// normalizePush reads a push. Gitea's payload has no created or deleted
// flag: an all-zero before or after says so, for SHA-1 and SHA-256
// repositories alike.
func normalizePush(payload []byte, ev *event.Event) error {
	var p pushPayload
	if err := decode(payload, &p); err != nil {
		return malformed("push", err)
	}
	setRepo(ev, p.Repository)
	created, deleted := convert.IsZeroSHA(p.Before), convert.IsZeroSHA(p.After)
	ev.Ref = p.Ref
	ev.Actor = convert.First(p.Pusher.name(), p.Sender.name())
	if !created {
		ev.Before = p.Before
	}
	// A new or deleted ref's compare_url is the bare instance URL, not a
	// compare view.
	if strings.Contains(p.CompareURL, "/compare/") {
		ev.URL = p.CompareURL
	}
	if !deleted {
		if p.HeadCommit != nil {
			ev.Commit = p.HeadCommit.ID
		}
		if ev.Commit == "" {
			ev.Commit = p.After
		}
	}
	switch {
	case strings.HasPrefix(ev.Ref, branchPrefix):
		ev.Branch = strings.TrimPrefix(ev.Ref, branchPrefix)
		ev.Kind = convert.Pick(deleted, event.KindBranchDeleted, convert.Pick(created, event.KindBranchCreated, event.KindCodePushed))
	case strings.HasPrefix(ev.Ref, tagPrefix):
		ev.Tag = strings.TrimPrefix(ev.Ref, tagPrefix)
		ev.Kind = convert.Pick(deleted, event.KindTagDeleted, event.KindTagCreated)
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

// normalizeRef reads a create or delete event, qualified by ref_type. Its
// ref is the short name from Gitea and from Forgejo's "Gitea" hooks, the
// full one from Forgejo's "Forgejo" hooks; both are read.
func normalizeRef(typ string, payload []byte, ev *event.Event, branchKind, tagKind event.Kind) error {
	var p refPayload
	if err := decode(payload, &p); err != nil {
		return malformed(typ, err)
	}
	setRepo(ev, p.Repository)
	ev.Actor = p.Sender.name()
	ev.Commit = p.SHA
	switch p.RefType {
	case "branch":
		ev.Branch = strings.TrimPrefix(p.Ref, branchPrefix)
		ev.Ref, ev.Kind = branchPrefix+ev.Branch, branchKind
	case "tag":
		ev.Tag = strings.TrimPrefix(p.Ref, tagPrefix)
		ev.Ref, ev.Kind = tagPrefix+ev.Tag, tagKind
	default:
		ev.Kind = event.KindOther
	}
	return nil
}

// normalizePullRequest reads a pull request event. New commits arrive as
// the action "synchronized" (GitHub's "synchronize" is read too).
func normalizePullRequest(payload []byte, ev *event.Event) error {
	var p pullRequestPayload
	if err := decode(payload, &p); err != nil {
		return malformed("pull_request", err)
	}
	setRepo(ev, p.Repository)
	pr := &p.PullRequest
	ev.Action = p.Action
	ev.Actor = p.Sender.name()
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
	case "synchronized", "synchronize":
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
		ev.Ref = branchPrefix + ev.Branch
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
	ev.Actor = p.Sender.name()
	ev.URL = r.HTMLURL
	ev.Tag = r.TagName
	if ev.Tag != "" {
		ev.Ref = tagPrefix + ev.Tag
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

// normalizeOther reads the fields every Gitea event shares from a payload
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
		setRepo(ev, &repo)
	}
	var sender account
	if decode(p["sender"], &sender) == nil {
		ev.Actor = sender.name()
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
