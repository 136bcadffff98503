package bitbucketserver

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/convert"

	"github.com/reflexops/reflex/event"
)

// changeKinds maps the pull request event keys that have a normalized
// meaning. Other pr:* keys (pr:deleted, pr:modified, reviewers,
// comments) are read as pull requests of kind other.
var changeKinds = map[string]event.Kind{
	"pr:opened":           event.KindChangeCreated,
	"pr:from_ref_updated": event.KindChangeUpdated,
	"pr:merged":           event.KindChangeMerged,
	"pr:declined":         event.KindChangeAbandoned,
}

// decode decodes a payload into v.
func decode(data []byte, v any) error { return connectors.Decode(data, v) }

// normalize decodes payload as an event of type typ into ev. Any event
// key other than a push or a pull request's is accepted as
// event.KindUnnormalized. It returns nil events when the delivery is ev
// alone, and one event per ref change for a push of several (see
// normalizePush).
func normalize(typ string, payload []byte, ev *event.Event) ([]*event.Event, error) {
	switch {
	case typ == "repo:refs_changed":
		return normalizePush(typ, payload, ev)
	case strings.HasPrefix(typ, "pr:"):
		return nil, normalizePullRequest(typ, payload, ev)
	}
	return nil, normalizeOther(typ, payload, ev)
}

// normalizePush reads the push's ref changes. A push of one change (or
// none) is ev; a push of several is one event per change, each a copy of
// ev, in the order of changes. More than connectors.MaxBatch changes are
// refused.
func normalizePush(typ string, payload []byte, ev *event.Event) ([]*event.Event, error) {
	var p refsChangedPayload
	if err := decode(payload, &p); err != nil {
		return nil, malformed(typ, err)
	}
	setRepo(ev, p.Repository)
	ev.Actor = actorOf(&p.Actor)
	ev.Kind = event.KindOther
	switch n := len(p.Changes); {
	case n == 0:
		return nil, nil
	case n == 1:
		setChange(ev, &p.Changes[0])
		return nil, nil
	case n > connectors.MaxBatch:
		return nil, fmt.Errorf("%w: a push of %d ref changes; at most %d are taken in one delivery", connectors.ErrMalformed, n, connectors.MaxBatch)
	}
	events := make([]*event.Event, len(p.Changes))
	for i := range p.Changes {
		events[i] = copyEvent(ev)
		setChange(events[i], &p.Changes[i])
	}
	return events, nil
}

// setChange fills ev from one ref change of a push.
func setChange(ev *event.Event, c *refChange) {
	ev.Ref = convert.First(c.Ref.ID, c.RefID)
	ev.Before, ev.Commit = convert.NonZeroSHA(c.FromHash), convert.NonZeroSHA(c.ToHash)
	short := convert.First(c.Ref.DisplayID, shortName(ev.Ref))
	switch {
	case c.Ref.Type == "BRANCH" || c.Ref.Type == "" && strings.HasPrefix(ev.Ref, "refs/heads/"):
		ev.Branch = short
		ev.Kind = refKind(c.Type, event.KindBranchCreated, event.KindCodePushed, event.KindBranchDeleted)
	case c.Ref.Type == "TAG" || c.Ref.Type == "" && strings.HasPrefix(ev.Ref, "refs/tags/"):
		ev.Tag = short
		ev.Kind = refKind(c.Type, event.KindTagCreated, event.KindTagCreated, event.KindTagDeleted)
	}
}

// refKind maps a change's type (ADD, UPDATE, DELETE).
func refKind(changeType string, added, updated, deleted event.Kind) event.Kind {
	switch changeType {
	case "ADD":
		return added
	case "UPDATE":
		return updated
	case "DELETE":
		return deleted
	}
	return event.KindOther
}

// normalizePullRequest reads any pr:* event; its repository is the
// target's. Branch and Commit name what the event changed: the merge
// commit on the target once merged, the head of the source branch before.
func normalizePullRequest(typ string, payload []byte, ev *event.Event) error {
	var p pullRequestPayload
	if err := decode(payload, &p); err != nil {
		return malformed(typ, err)
	}
	pr := &p.PullRequest
	setRepo(ev, pr.ToRef.Repository)
	ev.Actor = actorOf(&p.Actor)
	ev.URL = selfLink(pr.Links.Self)
	ev.Change = &event.Change{
		Number:       pr.ID,
		Title:        pr.Title,
		SourceBranch: convert.First(pr.FromRef.DisplayID, shortName(pr.FromRef.ID)),
		TargetBranch: convert.First(pr.ToRef.DisplayID, shortName(pr.ToRef.ID)),
		Merged:       pr.State == "MERGED",
	}
	ev.Kind = event.KindOther
	if kind, ok := changeKinds[typ]; ok {
		ev.Kind = kind
	}
	ev.Branch, ev.Commit = ev.Change.SourceBranch, pr.FromRef.LatestCommit
	if ev.Kind == event.KindChangeUpdated {
		ev.Before = p.PreviousFromHash
	}
	if ev.Kind == event.KindChangeMerged {
		ev.Change.Merged = true
		ev.Branch, ev.Commit = ev.Change.TargetBranch, ""
		if mc := pr.Properties.MergeCommit; mc != nil {
			ev.Commit = mc.ID
		}
	}
	if ev.Branch != "" {
		ev.Ref = "refs/heads/" + ev.Branch
	}
	return nil
}

// normalizeOther reads the repository and the actor from a payload of a
// type the connector does not normalize. It is lenient by design: any
// JSON object is accepted, whatever shape its fields have.
func normalizeOther(typ string, payload []byte, ev *event.Event) error {
	var p map[string]json.RawMessage
	if err := decode(payload, &p); err != nil {
		return malformed(typ, err)
	}
	ev.Kind = event.KindUnnormalized
	var repo repository
	if decode(p["repository"], &repo) == nil {
		setRepo(ev, &repo)
	}
	var actor user
	if decode(p["actor"], &actor) == nil {
		ev.Actor = actorOf(&actor)
	}
	return nil
}

// setRepo names the repository "<project key>/<slug>", as sent.
func setRepo(ev *event.Event, r *repository) {
	if r == nil || r.Slug == "" || r.Project.Key == "" {
		return
	}
	ev.Repository = &event.Repository{Name: r.Project.Key + "/" + r.Slug, URL: selfLink(r.Links.Self)}
}

// actorOf returns a user's login, the name they sign in with.
func actorOf(u *user) string { return convert.First(u.Name, u.Slug, u.DisplayName) }

func selfLink(links []link) string {
	if len(links) == 0 {
		return ""
	}
	return links[0].Href
}

// shortName returns a branch or tag name from its full ref.
func shortName(ref string) string {
	if name, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		return name
	}
	return strings.TrimPrefix(ref, "refs/tags/")
}
