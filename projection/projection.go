// Package projection turns accepted events into live state: the
// repository, branch, workflow and build objects every tool can read. It
// is the one place that knows how an event changes live state, and its
// guarantee is that nothing moves backwards: an event that arrives late,
// or twice, never takes a record back to an older value.
package projection

import (
	"context"
	"fmt"
	"time"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/state"
)

// Writer is who the projection's writes to live state are recorded as.
const Writer = "reflex:worker"

// Projector applies accepted events to live-state objects, through the
// same versioned writes as the API, so every change is kept in history and
// reaches watchers:
//
//   - a repository's state object (type state, named
//     <source>:<owner>:<repo>) holds the last commit pushed to each branch
//     and the latest run of each workflow;
//   - a build object per commit (named <source>:<owner>:<repo>:<sha12>)
//     holds each workflow's and job's status, the overall state, and the
//     artifact (image) built from that commit;
//   - an event that names no repository is recorded under what it does
//     name: an image pushed to a registry in an artifact state object
//     (<source>:<image>, its tags), a build in a pipeline state object
//     (<source>:<pipeline>, its latest run).
//
// Updates only move forward: a late or redelivered event never takes a
// record back. Each entry is ordered by what the event model says about
// it (times, run numbers and attempts, progress), never by arrival.
type Projector struct {
	Store *state.Store
}

// Apply updates the objects an event concerns; other events change nothing.
func (l Projector) Apply(ctx context.Context, ev *event.Event) error {
	changes := changes(ev)
	if len(changes) == 0 {
		return nil
	}
	if _, err := l.Store.UpsertAll(ctx, Writer, changes...); err != nil {
		return fmt.Errorf("apply %s event %s to live state: %w", ev.Kind, ev.ID, err)
	}
	return nil
}

// changes returns the objects an event changes, and how, to be written
// together.
func changes(ev *event.Event) []state.Upsertion {
	if ev.Repository == nil || ev.Repository.Name == "" {
		return unattached(ev)
	}
	switch {
	case movesBranchHead(ev):
		return []state.Upsertion{repository(ev, "branches", ev.Branch, branchRecord(ev), newerByTime)}
	case ev.Build != nil && ev.Build.Name != "" && isBuildKind(ev.Kind):
		return append([]state.Upsertion{repository(ev, "workflows", ev.Build.Name, runRecord(ev), newerRun)}, build(ev, ev.Build.Name)...)
	case ev.Build != nil && ev.Build.Name != "" && isTaskKind(ev.Kind):
		return build(ev, ev.Build.Pipeline+"/"+ev.Build.Name)
	case ev.Kind == event.KindArtifactPublished && ev.Artifact != nil && ev.Commit != "":
		return []state.Upsertion{artifact(ev)}
	}
	return nil
}

// unattached returns the changes of an event that concerns no repository:
// an image pushed to a registry, or a build the provider ties to no
// repository. Each is recorded under what it does name.
func unattached(ev *event.Event) []state.Upsertion {
	switch {
	case ev.Kind == event.KindArtifactPublished && ev.Artifact != nil && ev.Artifact.Repository != "":
		return subject(ev, "artifact", ev.Artifact.Repository, "tags", artifactKey(ev.Artifact), artifactRecord(ev), newerByTime)
	case ev.Build != nil && ev.Build.Name != "" && isBuildKind(ev.Kind):
		return subject(ev, "pipeline", ev.Build.Name, "runs", "latest", runRecord(ev), newerRun)
	}
	return nil
}

// subject sets one entry of the state object of something other than a
// repository (kind "artifact" or "pipeline", named <source>:<what>),
// unless the stored entry is newer. A name no object may have changes
// nothing: the event itself is kept in the history all the same.
func subject(ev *event.Event, kind, what, section, key string, rec map[string]any, newer func(old, cur map[string]any) bool) []state.Upsertion {
	name := state.ObjectName(ev.Source, what)
	if !state.ValidName(name) {
		return nil
	}
	return []state.Upsertion{{Type: state.TypeState, Name: name, Edit: func(cur *state.Object) (*state.Object, error) {
		next := cur.Copy()
		next.Content["kind"] = kind
		next.Content["source"] = ev.Source
		next.Content[kind] = what
		if !setEntry(next.Content, section, key, rec, newer) {
			return nil, state.ErrNoChange
		}
		return next, nil
	}}}
}

// artifactKey is the entry of an artifact's state object a push updates:
// its tag, else its digest, else its version.
func artifactKey(a *event.Artifact) string {
	switch {
	case a.Tag != "":
		return a.Tag
	case a.Digest != "":
		return a.Digest
	case a.Version != "":
		return a.Version
	}
	return "latest"
}

func artifactRecord(ev *event.Event) map[string]any {
	a := ev.Artifact
	rec := map[string]any{"event": ev.ID, "at": ev.ReceivedAt.UTC().Format(time.RFC3339Nano)}
	setIf(rec, "digest", a.Digest)
	setIf(rec, "reference", a.Reference)
	setIf(rec, "version", a.Version)
	setIf(rec, "type", a.Type)
	setIf(rec, "actor", ev.Actor)
	return rec
}

// movesBranchHead reports whether an event moves a branch's head: a push
// names the commit it moves from or to. A branch created or deleted
// without either (a bare "branch created" notice) says nothing about the
// head, and a newer push's record must not give way to it.
func movesBranchHead(ev *event.Event) bool {
	if ev.Branch == "" || (ev.Commit == "" && ev.Before == "") {
		return false
	}
	switch ev.Kind {
	case event.KindCodePushed, event.KindBranchCreated, event.KindBranchDeleted:
		return true
	}
	return false
}

func isBuildKind(k event.Kind) bool {
	return k == event.KindBuildQueued || k == event.KindBuildStarted || k == event.KindBuildFinished
}

func isTaskKind(k event.Kind) bool {
	return k == event.KindTaskQueued || k == event.KindTaskStarted || k == event.KindTaskFinished
}

// repository sets one entry of a repository state object's section
// (branches or workflows) unless the stored entry is newer.
func repository(ev *event.Event, section, key string, rec map[string]any, newer func(old, cur map[string]any) bool) state.Upsertion {
	name := state.ObjectName(ev.Source, ev.Repository.Name)
	return state.Upsertion{Type: state.TypeState, Name: name, Edit: func(cur *state.Object) (*state.Object, error) {
		next := cur.Copy()
		next.Content["kind"] = "repository"
		next.Content["source"] = ev.Source
		next.Content["repository"] = ev.Repository.Name
		setIf(next.Content, "url", ev.Repository.URL)
		setIf(next.Content, "default_branch", ev.Repository.DefaultBranch)
		if !setEntry(next.Content, section, key, rec, newer) {
			return nil, state.ErrNoChange
		}
		return next, nil
	}}
}

// build sets one step of the build object of the event's commit, if it
// names one.
func build(ev *event.Event, step string) []state.Upsertion {
	if ev.Commit == "" {
		return nil
	}
	b := ev.Build
	rec := map[string]any{"status": string(b.Status), "updated_at": stamp(ev)}
	setIf(rec, "outcome", string(b.Outcome))
	setIf(rec, "url", b.URL)
	return []state.Upsertion{buildChange(ev, func(content map[string]any) bool {
		changed := setEntry(content, "steps", step, rec, newerByTimeAndProgress)
		if changed && b.URL != "" && !isTaskKind(ev.Kind) {
			content["link"] = b.URL
		}
		setIf(content, "branch", ev.Branch)
		content["state"] = buildState(content["steps"])
		return changed
	})}
}

// artifact records the image or package built from the event's commit.
func artifact(ev *event.Event) state.Upsertion {
	a := map[string]any{"repository": ev.Artifact.Repository}
	setIf(a, "tag", ev.Artifact.Tag)
	setIf(a, "digest", ev.Artifact.Digest)
	setIf(a, "reference", ev.Artifact.Reference)
	return buildChange(ev, func(content map[string]any) bool {
		content["artifact"] = a
		return true
	})
}

// buildChange changes the build object of the event's commit with apply,
// which reports whether it changed anything.
func buildChange(ev *event.Event, apply func(content map[string]any) bool) state.Upsertion {
	name := state.BuildName(ev.Source, ev.Repository.Name, ev.Commit)
	return state.Upsertion{Type: state.TypeBuild, Name: name, Edit: func(cur *state.Object) (*state.Object, error) {
		next := cur.Copy()
		next.Content["application"] = ev.Repository.Name
		next.Content["version"] = ev.Commit
		next.Content["commit"] = ev.Commit
		if !apply(next.Content) {
			return nil, state.ErrNoChange
		}
		return next, nil
	}}
}

// setEntry sets content[section][key] = rec unless the stored entry is
// newer, and reports whether it did. The section map is copied, never
// shared with the current version.
func setEntry(content map[string]any, section, key string, rec map[string]any, newer func(old, cur map[string]any) bool) bool {
	old, _ := content[section].(map[string]any)
	if prev, ok := old[key].(map[string]any); ok && !newer(prev, rec) {
		return false
	}
	sec := make(map[string]any, len(old)+1)
	for k, v := range old {
		sec[k] = v
	}
	sec[key] = rec
	content[section] = sec
	return true
}

func setIf(m map[string]any, key, value string) {
	if value != "" {
		m[key] = value
	}
}

func stamp(ev *event.Event) string {
	t := ev.ReceivedAt
	if ev.Build != nil && ev.Build.UpdatedAt != nil {
		t = *ev.Build.UpdatedAt
	} else if ev.Build != nil && ev.Build.StartedAt != nil && ev.Kind != event.KindTaskFinished {
		t = *ev.Build.StartedAt
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func branchRecord(ev *event.Event) map[string]any {
	rec := map[string]any{"event": ev.ID, "at": ev.ReceivedAt.UTC().Format(time.RFC3339Nano)}
	setIf(rec, "actor", ev.Actor)
	if ev.Kind == event.KindBranchDeleted {
		rec["deleted"] = true
	} else {
		setIf(rec, "commit", ev.Commit)
	}
	return rec
}

func runRecord(ev *event.Event) map[string]any {
	b := ev.Build
	rec := map[string]any{"status": string(b.Status), "event": ev.ID, "at": stamp(ev)}
	setIf(rec, "run_id", b.ID)
	setIf(rec, "outcome", string(b.Outcome))
	setIf(rec, "branch", ev.Branch)
	setIf(rec, "commit", ev.Commit)
	setIf(rec, "url", b.URL)
	if b.Number != 0 {
		rec["number"] = b.Number
	}
	if b.Attempt != 0 {
		rec["attempt"] = b.Attempt
	}
	return rec
}
