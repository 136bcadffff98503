package gitlab

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
	"push":          normalizePush,
	"tag_push":      normalizePush,
	"merge_request": normalizeMergeRequest,
	"release":       normalizeRelease,
	"pipeline":      normalizePipeline,
	"build":         normalizeJob,
	"deployment":    normalizeDeployment,
	"system":        normalizeSystem,
}

// systemNormalizers are the System Hook events that carry a project
// event's payload, by object_kind (or event_name).
var systemNormalizers = map[string]normalizer{
	"push":          normalizePush,
	"tag_push":      normalizePush,
	"merge_request": normalizeMergeRequest,
}

// decode decodes a payload, or a part of one, into v.
func decode(data []byte, v any) error { return connectors.Decode(data, v) }

// normalize decodes payload as an event of type ev.Type into ev.
func normalize(payload []byte, ev *event.Event) error {
	if fn, ok := normalizers[ev.Type]; ok {
		return fn(payload, ev)
	}
	return normalizeOther(payload, ev)
}

// normalizePush reads a push or tag push: a branch pushed, created
// (before is all zeros) or deleted (after is all zeros), a tag created or
// deleted.
func normalizePush(payload []byte, ev *event.Event) error {
	var p pushPayload
	if err := decode(payload, &p); err != nil {
		return malformed(ev.Type, err)
	}
	setRepo(ev, p.Project)
	ev.Ref = p.Ref
	ev.Actor = p.UserUsername
	ev.Before = convert.NonZeroSHA(p.Before)
	created, deleted := convert.IsZeroSHA(p.Before), convert.IsZeroSHA(p.After)
	if !deleted {
		// For an annotated tag, after is the tag object; checkout_sha is
		// the commit it points at.
		ev.Commit = convert.First(convert.NonZeroSHA(p.CheckoutSHA), convert.NonZeroSHA(p.After))
	}
	switch {
	case strings.HasPrefix(ev.Ref, "refs/heads/"):
		ev.Branch = strings.TrimPrefix(ev.Ref, "refs/heads/")
		ev.Kind = convert.Pick(deleted, event.KindBranchDeleted, convert.Pick(created, event.KindBranchCreated, event.KindCodePushed))
	case strings.HasPrefix(ev.Ref, "refs/tags/"):
		ev.Tag = strings.TrimPrefix(ev.Ref, "refs/tags/")
		ev.Kind = convert.Pick(deleted, event.KindTagDeleted, event.KindTagCreated)
	default:
		ev.Kind = event.KindOther
	}
	ev.URL = pushURL(p.Project, ev)
	return nil
}

// pushURL is the page of a push: the comparison of a branch's old and new
// heads, or the commit a new branch or tag points at. URLs are built from
// SHAs only, never from a ref's name.
func pushURL(p *project, ev *event.Event) string {
	if p == nil || p.WebURL == "" || !convert.IsSHA(ev.Commit) {
		return ""
	}
	base := strings.TrimSuffix(p.WebURL, "/")
	if ev.Kind == event.KindCodePushed && convert.IsSHA(ev.Before) {
		return base + "/-/compare/" + ev.Before + "..." + ev.Commit
	}
	return base + "/-/commit/" + ev.Commit
}

// normalizeMergeRequest reads a merge request event by its action: open
// and reopen create a change, update with new commits (oldrev) updates
// it, merge merges it and close abandons it; approvals and other updates
// have no normalized meaning.
func normalizeMergeRequest(payload []byte, ev *event.Event) error {
	var p mergeRequestPayload
	if err := decode(payload, &p); err != nil {
		return malformed(ev.Type, err)
	}
	setRepo(ev, p.Project)
	mr := &p.ObjectAttributes
	ev.Action = checkedWord(mr.Action)
	ev.Actor = p.User.Username
	ev.URL = mr.URL
	ev.Change = &event.Change{
		Number:       mr.IID,
		Title:        mr.Title,
		SourceBranch: mr.SourceBranch,
		TargetBranch: mr.TargetBranch,
		Merged:       mr.State == "merged" || mr.Action == "merge",
	}
	// Branch and Commit name what the event changed: the merge commit on
	// the target branch once merged (the last commit when the merge was a
	// fast-forward), the head of the source branch before.
	ev.Branch, ev.Commit = mr.SourceBranch, mr.LastCommit.ID
	switch mr.Action {
	case "open", "reopen":
		ev.Kind = event.KindChangeCreated
	case "update":
		ev.Kind = convert.Pick(mr.OldRev != "", event.KindChangeUpdated, event.KindOther)
	case "merge":
		ev.Kind = event.KindChangeMerged
		ev.Branch, ev.Commit = mr.TargetBranch, convert.First(mr.MergeCommitSHA, mr.LastCommit.ID)
	case "close":
		ev.Kind = event.KindChangeAbandoned
	default:
		ev.Kind = event.KindOther
	}
	if ev.Branch != "" {
		ev.Ref = "refs/heads/" + ev.Branch
	}
	return nil
}

// normalizeRelease reads a release event: created is published; an update
// or a deletion has no normalized meaning.
func normalizeRelease(payload []byte, ev *event.Event) error {
	var p releasePayload
	if err := decode(payload, &p); err != nil {
		return malformed(ev.Type, err)
	}
	setRepo(ev, p.Project)
	ev.Action = checkedWord(p.Action)
	ev.URL = p.URL
	ev.Tag = p.Tag
	if ev.Tag != "" {
		ev.Ref = "refs/tags/" + ev.Tag
	}
	ev.Commit = p.Commit.ID
	if p.Name != "" {
		ev.Release = &event.Release{Name: p.Name}
	}
	ev.Kind = convert.Pick(p.Action == "create", event.KindReleasePublished, event.KindOther)
	return nil
}

// normalizeSystem reads a System Hook: the push, tag push and merge
// request events it relays are normalized as a project hook's are; the
// others (project_create, user_create, …) are accepted unnormalized, their
// event_name as the action.
func normalizeSystem(payload []byte, ev *event.Event) error {
	var p systemPayload
	if err := decode(payload, &p); err != nil {
		return malformed(ev.Type, err)
	}
	if fn, ok := systemNormalizers[convert.First(p.ObjectKind, p.EventName)]; ok {
		return fn(payload, ev)
	}
	if err := normalizeOther(payload, ev); err != nil {
		return err
	}
	ev.Action = convert.First(ev.Action, checkedWord(p.EventName))
	return nil
}

// normalizeOther reads the fields most GitLab events share from a payload
// of a type the connector does not normalize. It is lenient by design:
// any JSON object is accepted, whatever shape its fields have.
func normalizeOther(payload []byte, ev *event.Event) error {
	var p map[string]json.RawMessage
	if err := decode(payload, &p); err != nil {
		return malformed(ev.Type, err)
	}
	ev.Kind = event.KindUnnormalized
	var proj project
	if decode(p["project"], &proj) == nil {
		setRepo(ev, &proj)
	}
	var u user
	if decode(p["user"], &u) == nil {
		ev.Actor = u.Username
	}
	if ev.Actor == "" {
		_ = decode(p["user_username"], &ev.Actor)
	}
	var attrs struct {
		Action string `json:"action"`
	}
	if decode(p["object_attributes"], &attrs) != nil || attrs.Action == "" {
		_ = decode(p["action"], &attrs.Action)
	}
	ev.Action = checkedWord(attrs.Action)
	return nil
}

// setRepo copies the project block most events carry.
func setRepo(ev *event.Event, p *project) {
	if p == nil || p.PathWithNamespace == "" {
		return
	}
	ev.Repository = &event.Repository{Name: p.PathWithNamespace, URL: p.WebURL, DefaultBranch: p.DefaultBranch}
}

// maxWordSize bounds the actions and states kept from a payload.
const maxWordSize = 64

// isSlug reports whether s is a lower-case word such as GitLab's actions,
// statuses and object kinds ("open", "waiting_for_resource").
func isSlug(s string) bool {
	if s == "" || len(s) > maxWordSize {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '_')) {
			return false
		}
	}
	return true
}

// checkedWord returns s when it is a slug, and "" otherwise, so an action
// is never an arbitrary string from the payload.
func checkedWord(s string) string { return convert.Pick(isSlug(s), s, "") }
