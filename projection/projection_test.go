package projection_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/projection"
	"github.com/reflexops/reflex/state"
)

const repo = "acme/shop"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func ptr[T any](v T) *T { return &v }

// push is a push of commit to main at sec.
func push(id, commit string, sec int) *event.Event {
	return &event.Event{ID: id, Type: "push", Kind: event.KindCodePushed, Repository: &event.Repository{Name: repo},
		Branch: "main", Commit: commit, Before: "0000", ReceivedAt: at(sec)}
}

// run is an update of the "ci" workflow's run number/attempt at sec.
func run(id string, number, attempt int, status event.BuildStatus, sec int) *event.Event {
	kind := map[event.BuildStatus]event.Kind{event.BuildQueued: event.KindBuildQueued, event.BuildRunning: event.KindBuildStarted, event.BuildFinished: event.KindBuildFinished}[status]
	b := &event.Build{ID: fmt.Sprint(number), Name: "ci", Number: number, Attempt: attempt, Status: status, UpdatedAt: ptr(at(sec))}
	if status == event.BuildFinished {
		b.Outcome = event.OutcomeSuccess
	}
	return &event.Event{ID: id, Kind: kind, Repository: &event.Repository{Name: repo}, Branch: "main",
		Commit: "c0ffee000000", Build: b, ReceivedAt: at(sec)}
}

// step is an update of one job of the "ci" workflow at sec.
func step(id, name string, status event.BuildStatus, outcome event.Outcome, sec int) *event.Event {
	kind := map[event.BuildStatus]event.Kind{event.BuildQueued: event.KindTaskQueued, event.BuildRunning: event.KindTaskStarted, event.BuildFinished: event.KindTaskFinished}[status]
	return &event.Event{ID: id, Kind: kind, Repository: &event.Repository{Name: repo}, Commit: "c0ffee000000",
		Build: &event.Build{Name: name, Pipeline: "ci", Status: status, Outcome: outcome, UpdatedAt: ptr(at(sec))}, ReceivedAt: at(sec)}
}

// apply applies events in order as source's and returns the repository
// and build objects they leave.
func apply(t *testing.T, store *state.Store, source string, evs ...*event.Event) (repository, build map[string]any) {
	t.Helper()
	ctx := context.Background()
	p := projection.Projector{Store: store}
	for _, ev := range evs {
		e := *ev
		e.Source = source
		if err := p.Apply(ctx, &e); err != nil {
			t.Fatalf("apply %s: %v", ev.ID, err)
		}
	}
	return content(t, store, state.TypeState, state.ObjectName(source, repo)),
		content(t, store, state.TypeBuild, state.BuildName(source, repo, "c0ffee000000"))
}

func content(t *testing.T, store *state.Store, typ, name string) map[string]any {
	t.Helper()
	o, err := store.Object(context.Background(), typ, name, 0)
	if err != nil {
		return nil
	}
	return o.Content
}

func entry(t *testing.T, doc map[string]any, path ...string) map[string]any {
	t.Helper()
	cur := doc
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			t.Fatalf("no %v in %v", path, doc)
		}
		cur = next
	}
	return cur
}

// TestNeverBackwards applies updates in the order they would be newest
// last and in the order a late delivery gives, and wants the newest to win
// both times.
func TestNeverBackwards(t *testing.T) {
	store := state.New(redistest.New(t).Client, state.Options{})
	tests := []struct {
		name       string
		older, new *event.Event
		path       []string
		field      string
		want       any
	}{
		{"an older push never replaces a newer branch head",
			push("p1", "aaaa", 1), push("p2", "bbbb", 2), []string{"branches", "main"}, "commit", "bbbb"},
		{"an older run never replaces a newer one",
			run("r1", 4, 1, event.BuildFinished, 9), run("r2", 5, 1, event.BuildQueued, 1), []string{"workflows", "ci"}, "number", float64(5)},
		{"an earlier attempt never replaces a later one",
			run("r1", 5, 1, event.BuildFinished, 9), run("r2", 5, 2, event.BuildRunning, 1), []string{"workflows", "ci"}, "attempt", float64(2)},
		{"an older status of a run never replaces a newer one",
			run("r1", 5, 1, event.BuildRunning, 1), run("r2", 5, 1, event.BuildFinished, 2), []string{"workflows", "ci"}, "status", string(event.BuildFinished)},
		{"a status sent at the same time never goes back in progress",
			run("r1", 5, 1, event.BuildRunning, 3), run("r2", 5, 1, event.BuildFinished, 3), []string{"workflows", "ci"}, "status", string(event.BuildFinished)},
		{"an older step update never replaces a newer one",
			step("s1", "test", event.BuildRunning, "", 1), step("s2", "test", event.BuildFinished, event.OutcomeFailure, 2), []string{"steps", "ci/test"}, "outcome", string(event.OutcomeFailure)},
	}
	for i, tt := range tests {
		for _, order := range []string{"in order", "late"} {
			t.Run(tt.name+"/"+order, func(t *testing.T) {
				evs := []*event.Event{tt.older, tt.new}
				if order == "late" {
					evs = []*event.Event{tt.new, tt.older}
				}
				repository, build := apply(t, store, fmt.Sprintf("s%d-%s", i, order[:2]), evs...)
				doc := repository
				if tt.path[0] == "steps" {
					doc = build
				}
				if got := entry(t, doc, tt.path...)[tt.field]; got != tt.want {
					t.Errorf("%s = %v, want %v", tt.field, got, tt.want)
				}
			})
		}
	}
}

// TestOrderDoesNotMatter applies one history of a commit in every order
// of arrival and wants the same live state from each.
func TestOrderDoesNotMatter(t *testing.T) {
	store := state.New(redistest.New(t).Client, state.Options{})
	history := []*event.Event{
		push("p1", "c0ffee000000", 1),
		run("r1", 7, 1, event.BuildQueued, 2),
		step("s1", "build", event.BuildFinished, event.OutcomeSuccess, 3),
		step("s2", "test", event.BuildRunning, "", 4),
		run("r2", 7, 1, event.BuildFinished, 5),
	}
	var wantRepo, wantBuild map[string]any
	for i, order := range permutations(len(history)) {
		evs := make([]*event.Event, len(order))
		for j, k := range order {
			evs[j] = history[k]
		}
		repository, build := apply(t, store, fmt.Sprintf("perm%d", i), evs...)
		for _, doc := range []map[string]any{repository, build} {
			delete(doc, "source")
			delete(doc, "name")
		}
		if i == 0 {
			wantRepo, wantBuild = repository, build
			continue
		}
		if diff := cmp.Diff(wantRepo, repository); diff != "" {
			t.Fatalf("order %v: repository differs from order %v (-first +this):\n%s", order, permutations(len(history))[0], diff)
		}
		if diff := cmp.Diff(wantBuild, build); diff != "" {
			t.Fatalf("order %v: build differs (-first +this):\n%s", order, diff)
		}
	}
	if got := entry(t, wantBuild, "steps", "ci/test")["status"]; got != string(event.BuildRunning) {
		t.Errorf("step ci/test = %v, want running", got)
	}
	if got := wantBuild["state"]; got != "running" {
		t.Errorf("build state = %v, want running (one step still runs)", got)
	}
}

// TestRedeliveryChangesNothing applies an event twice and wants one new
// version: the second application is no change.
func TestRedeliveryChangesNothing(t *testing.T) {
	store := state.New(redistest.New(t).Client, state.Options{})
	ev := push("p1", "aaaa", 1)
	apply(t, store, "acme", ev, ev)
	o, err := store.Object(context.Background(), state.TypeState, state.ObjectName("acme", repo), 0)
	if err != nil {
		t.Fatal(err)
	}
	if o.Version != 1 {
		t.Errorf("version = %d after the same push twice, want 1", o.Version)
	}
}

// TestBareBranchNotice: a branch created without naming a commit says
// nothing about its head and leaves the pushed head in place.
func TestBareBranchNotice(t *testing.T) {
	store := state.New(redistest.New(t).Client, state.Options{})
	created := &event.Event{ID: "c1", Type: "create", Kind: event.KindBranchCreated, Repository: &event.Repository{Name: repo},
		Branch: "main", ReceivedAt: at(5)}
	repository, _ := apply(t, store, "acme", push("p1", "aaaa", 1), created)
	if got := entry(t, repository, "branches", "main")["commit"]; got != "aaaa" {
		t.Errorf("commit = %v, want the pushed aaaa", got)
	}
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// TestEventsWithoutRepository: a registry push and a build that name no
// repository still reach live state, under the image and the pipeline,
// and a late event does not take them back.
func TestEventsWithoutRepository(t *testing.T) {
	store := state.New(redistest.New(t).Client, state.Options{})
	ctx := context.Background()
	p := projection.Projector{Store: store}
	image := func(id, tag, digest string, sec int) *event.Event {
		return &event.Event{ID: id, Source: "hub", Kind: event.KindArtifactPublished, ReceivedAt: at(sec),
			Artifact: &event.Artifact{Type: "container", Repository: "docker.io/acme/api", Tag: tag, Digest: digest}}
	}
	for _, ev := range []*event.Event{
		image("p2", "1.2", "sha256:"+fmt.Sprintf("%064d", 2), 20),
		image("p1", "1.2", "sha256:"+fmt.Sprintf("%064d", 1), 10), // late: ignored
		image("p3", "latest", "sha256:"+fmt.Sprintf("%064d", 3), 30),
		{ID: "b1", Source: "hub", Kind: event.KindBuildFinished, ReceivedAt: at(40),
			Build: &event.Build{ID: "7", Name: "nightly", Number: 7, Status: event.BuildFinished, Outcome: event.OutcomeFailure}},
	} {
		if err := p.Apply(ctx, ev); err != nil {
			t.Fatalf("apply %s: %v", ev.ID, err)
		}
	}
	o, err := store.Object(ctx, state.TypeState, "hub:docker.io:acme:api", 0)
	if err != nil {
		t.Fatalf("the artifact's state object: %v", err)
	}
	tags, _ := o.Content["tags"].(map[string]any)
	if got := tags["1.2"].(map[string]any)["event"]; got != "p2" {
		t.Errorf("tag 1.2 recorded by %v, want p2 (p1 arrived late)", got)
	}
	if _, ok := tags["latest"]; !ok || o.Content["kind"] != "artifact" || o.Content["artifact"] != "docker.io/acme/api" {
		t.Errorf("artifact object = %v", o.Content)
	}
	o, err = store.Object(ctx, state.TypeState, "hub:nightly", 0)
	if err != nil {
		t.Fatalf("the pipeline's state object: %v", err)
	}
	runs, _ := o.Content["runs"].(map[string]any)
	if latest, _ := runs["latest"].(map[string]any); latest["outcome"] != "failure" || o.Content["kind"] != "pipeline" {
		t.Errorf("pipeline object = %v", o.Content)
	}
}
