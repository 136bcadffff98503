package gitea

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
	foreignID := f.addHook(apiScope, "gitea", "https://elsewhere.example.com/hooks/ci", "json", []string{"push"}, true)
	foreign := f.hook(apiScope, foreignID)
	secret := []byte(testSecret)
	p := f.provider(Options{})
	r := &hooks.Reconciler{
		Providers: map[string]hooks.Provider{Name: p},
		PublicURL: "https://reflex.example.com",
		Secret:    func(context.Context, string) ([]byte, error) { return secret, nil },
		Ledger:    newLedger(),
	}
	decl := hooks.Declaration{Source: "ci", Provider: Name, Selection: hooks.Selection{Repositories: []string{"acme/api"}}, Events: []string{"push", "pull_request"}, ContentType: "form"}
	ctx := t.Context()

	// A plan on a repository without Reflex's hook creates one.
	plan, err := r.Plan(ctx, []hooks.Declaration{decl})
	if err != nil {
		t.Fatal(err)
	}
	want := &hooks.Plan{Targets: 1, Changes: []hooks.Change{{
		Op: "create", Target: apiRepo, Source: "ci",
		Desired: &hooks.DesiredHook{URL: "https://reflex.example.com/hooks/ci", Events: []string{"pull_request", "push"}, ContentType: "form"},
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
	if h.Config["url"] != "https://reflex.example.com/hooks/ci" || h.Config["content_type"] != "form" || h.secret != testSecret || !h.Active || !slices.Contains(h.Events, "pull_request_sync") {
		t.Errorf("created hook %+v", h)
	}

	// A second plan changes nothing.
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)

	// A changed event list updates the hook's events.
	decl.Events = []string{"push", "issues"}
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"update " + id + " events"}, 0)
	if _, err := r.Apply(ctx, []hooks.Declaration{decl}); err != nil {
		t.Fatal(err)
	}
	if got := normalizeEvents(f.hook(apiScope, id).Events); !slices.Equal(got, []string{"issues", "push"}) {
		t.Errorf("updated events %v", got)
	}
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)

	// A rotated secret cannot be patched (Gitea ignores it on an edit):
	// the apply replaces the hook, the new one made before the old one
	// goes, and the ledger follows the new id.
	secret = []byte("rotated-secret")
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"update " + id + " secret"}, 0)
	res, err = r.Apply(ctx, []hooks.Declaration{decl})
	if err != nil || len(res.Applied) != 1 {
		t.Fatalf("apply of a new secret: %+v, %v", res, err)
	}
	nid := res.Applied[0].HookID
	if got := f.hook(apiScope, nid); nid == id || got == nil || got.secret != "rotated-secret" || f.hook(apiScope, id) != nil {
		t.Fatalf("replaced hook %s: %+v; old one kept: %v", nid, got, f.hook(apiScope, id) != nil)
	}
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)
	id = nid

	// Declared nowhere any more, Reflex's hook is deleted.
	if err := r.Ledger.SetFingerprint(ctx, apiRepo, id, hooks.Fingerprint(secret)); err != nil {
		t.Fatal(err)
	}
	assertPlan(t, r, nil, []string{"delete " + id}, 0)
	if _, err := r.Apply(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if f.hook(apiScope, id) != nil {
		t.Errorf("hook %s not deleted", id)
	}

	// The foreign hook was never touched.
	if diff := cmp.Diff(foreign, f.hook(apiScope, foreignID), cmp.AllowUnexported(fakeHook{})); diff != "" {
		t.Errorf("foreign hook changed (-before +after):\n%s", diff)
	}
	for _, req := range f.requests() {
		if strings.HasSuffix(req, "/hooks/"+foreignID) {
			t.Errorf("request on the foreign hook: %s", req)
		}
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
