package bitbucket

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reflexops/reflex/hooks"
)

// memLedger is an in-memory hooks.Ledger.
type memLedger struct {
	mu    sync.Mutex
	fps   map[hooks.Target]map[string]string // fingerprints by target, hook id
	locks sync.Map                           // target → *sync.Mutex
}

func newLedger() *memLedger { return &memLedger{fps: map[hooks.Target]map[string]string{}} }

func (l *memLedger) Fingerprint(_ context.Context, t hooks.Target, id string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fps[t][id], nil
}

func (l *memLedger) SetFingerprint(_ context.Context, t hooks.Target, id, fp string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fps[t] == nil {
		l.fps[t] = map[string]string{}
	}
	l.fps[t][id] = fp
	return nil
}

func (l *memLedger) Forget(_ context.Context, t hooks.Target, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fps[t], id)
	if len(l.fps[t]) == 0 {
		delete(l.fps, t)
	}
	return nil
}

func (l *memLedger) Targets(context.Context) ([]hooks.Target, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Collect(maps.Keys(l.fps)), nil
}

func (l *memLedger) Lock(_ context.Context, t hooks.Target) (func(), error) {
	m, _ := l.locks.LoadOrStore(t, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock, nil
}

func TestReconciler(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.repos["acme"] = []string{"api", "web"}
	foreignID := f.addHook(apiScope, "https://elsewhere.example.com/hooks/ci", []string{"repo:push"}, true)
	foreign := f.hook(apiScope, foreignID)
	secret := []byte(testSecret)
	p := f.provider(Options{})
	r := &hooks.Reconciler{
		Providers: map[string]hooks.Provider{Name: p},
		PublicURL: "https://reflex.example.com",
		Secret:    func(context.Context, string) ([]byte, error) { return secret, nil },
		Ledger:    newLedger(),
	}
	decl := hooks.Declaration{Source: "ci", Provider: Name, Selection: hooks.Selection{Repositories: []string{"acme/api"}}, Events: []string{"repo:push", "pullrequest:created"}}
	ctx := t.Context()

	// A plan on a repository without Reflex's hook creates one.
	plan, err := r.Plan(ctx, []hooks.Declaration{decl})
	if err != nil {
		t.Fatal(err)
	}
	want := &hooks.Plan{Targets: 1, Changes: []hooks.Change{{
		Op: "create", Target: apiRepo, Source: "ci",
		Desired: &hooks.DesiredHook{URL: "https://reflex.example.com/hooks/ci", Events: []string{"pullrequest:created", "repo:push"}, ContentType: "json"},
	}}}
	if diff := cmp.Diff(want, plan, cmpopts.IgnoreUnexported(hooks.Change{})); diff != "" {
		t.Fatalf("first plan (-want +got):\n%s", diff)
	}

	// The apply creates it as declared.
	res, err := r.Apply(ctx, []hooks.Declaration{decl})
	if err != nil || len(res.Applied) != 1 || res.Applied[0].Op != "create" {
		t.Fatalf("first apply = %+v, %v", res, err)
	}
	id := res.Applied[0].HookID
	h := f.hook(apiScope, id)
	if h == nil || h.URL != "https://reflex.example.com/hooks/ci" || h.secret != testSecret || !h.Active || !slices.Equal(h.Events, []string{"pullrequest:created", "repo:push"}) || h.Description != "Reflex" {
		t.Errorf("created hook %+v", h)
	}

	// A second plan changes nothing.
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)

	// A changed event list updates the hook's events, in place.
	decl.Events = []string{"repo:push", "pullrequest:fulfilled", "pullrequest:rejected"}
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"update " + id + " events"}, 0)
	if _, err := r.Apply(ctx, []hooks.Declaration{decl}); err != nil {
		t.Fatal(err)
	}
	if got := f.hook(apiScope, id).Events; !slices.Equal(got, []string{"pullrequest:fulfilled", "pullrequest:rejected", "repo:push"}) {
		t.Errorf("updated events %v", got)
	}
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)

	// A rotated secret is given to the same hook.
	secret = []byte("rotated-secret")
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"update " + id + " secret"}, 0)
	if _, err := r.Apply(ctx, []hooks.Declaration{decl}); err != nil {
		t.Fatal(err)
	}
	if got := f.hook(apiScope, id); got == nil || got.secret != "rotated-secret" {
		t.Fatalf("hook %s after the rotation: %+v", id, got)
	}
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)

	// A glob over the workspace adds the other repository's hook and
	// leaves the first as it is.
	decl.Selection.Repositories = []string{"acme/*"}
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"create"}, 1)
	if _, err := r.Apply(ctx, []hooks.Declaration{decl}); err != nil {
		t.Fatal(err)
	}
	if got := f.hooksAt("repositories/acme/web"); len(got) != 1 || got[0].URL != "https://reflex.example.com/hooks/ci" {
		t.Errorf("hooks of acme/web: %+v", got)
	}

	// Declared nowhere any more, Reflex's hooks are deleted.
	assertPlan(t, r, nil, []string{"delete " + id, "delete " + f.hooksAt("repositories/acme/web")[0].UUID}, 0)
	if _, err := r.Apply(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if f.hook(apiScope, id) != nil || len(f.hooksAt("repositories/acme/web")) != 0 {
		t.Errorf("Reflex's hooks not deleted")
	}

	// The foreign hook was never touched.
	if diff := cmp.Diff(foreign, f.hook(apiScope, foreignID), cmp.AllowUnexported(fakeHook{})); diff != "" {
		t.Errorf("foreign hook changed (-before +after):\n%s", diff)
	}
	for _, req := range f.requests() {
		if strings.Contains(req, esc(foreignID)) {
			t.Errorf("request on the foreign hook: %s", req)
		}
	}
}

func TestReconcilerWorkspace(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.bearer = true
	foreignID := f.addHook(spaceScope, "https://elsewhere.example.com/hooks/ci", []string{"repo:push"}, true)
	r := &hooks.Reconciler{
		Providers: map[string]hooks.Provider{Name: f.provider(Options{})},
		PublicURL: "https://reflex.example.com/",
		Secret:    func(context.Context, string) ([]byte, error) { return []byte(testSecret), nil },
		Ledger:    newLedger(),
	}
	decl := hooks.Declaration{Source: "ci", Provider: Name, Selection: hooks.Selection{Organizations: []string{"acme"}}, Events: []string{"repo:push"}}
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"create"}, 0)
	res, err := r.Apply(t.Context(), []hooks.Declaration{decl})
	if err != nil || len(res.Applied) != 1 {
		t.Fatalf("apply = %+v, %v", res, err)
	}
	if h := f.hook(spaceScope, res.Applied[0].HookID); h == nil || h.SubjectType != "workspace" || h.secret != testSecret {
		t.Errorf("workspace hook %+v", h)
	}
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)
	if f.hook(spaceScope, foreignID) == nil {
		t.Error("the foreign workspace hook is gone")
	}
}

// assertPlan checks a plan's changes ("op id fields") and unchanged count.
func assertPlan(t *testing.T, r *hooks.Reconciler, decls []hooks.Declaration, want []string, unchanged int) {
	t.Helper()
	plan, err := r.Plan(t.Context(), decls)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range plan.Changes {
		got = append(got, strings.TrimSpace(c.Op+" "+c.HookID+" "+strings.Join(c.Fields, ",")))
	}
	if diff := cmp.Diff(want, got); diff != "" || plan.Unchanged != unchanged {
		t.Errorf("plan (-want +got):\n%s\nunchanged %d, want %d", diff, plan.Unchanged, unchanged)
	}
}
