package harbor

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
	foreignID := f.addPolicy("acme", "elsewhere", "https://elsewhere.example.com/hooks/ci", "Basic b3RoZXI=", []string{"PUSH_ARTIFACT"}, true)
	foreign := f.policy("acme", foreignID)
	secret := []byte(testSecret)
	r := &hooks.Reconciler{
		Providers: map[string]hooks.Provider{Name: f.provider(Options{})},
		PublicURL: "https://reflex.example.com",
		Secret:    func(context.Context, string) ([]byte, error) { return secret, nil },
		Ledger:    newLedger(),
	}
	decl := hooks.Declaration{Source: "ci", Provider: Name, Selection: hooks.Selection{Projects: []string{"acme"}}, Events: []string{"PUSH_ARTIFACT", "DELETE_ARTIFACT"}}
	ctx := t.Context()

	// A plan on a project without Reflex's policy creates one.
	plan, err := r.Plan(ctx, []hooks.Declaration{decl})
	if err != nil {
		t.Fatal(err)
	}
	want := &hooks.Plan{Targets: 1, Changes: []hooks.Change{{
		Op: "create", Target: acme, Source: "ci",
		Desired: &hooks.DesiredHook{URL: "https://reflex.example.com/hooks/ci", Events: []string{"DELETE_ARTIFACT", "PUSH_ARTIFACT"}, ContentType: "json"},
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
	pol := f.policy("acme", id)
	wantTargets := []fakeTarget{{Type: "http", Address: "https://reflex.example.com/hooks/ci", AuthHeader: testSecret, PayloadFormat: "Default"}}
	if pol == nil || pol.Name != "reflex-ci" || !pol.Enabled || !slices.Equal(pol.EventTypes, []string{"DELETE_ARTIFACT", "PUSH_ARTIFACT"}) || !cmp.Equal(pol.Targets, wantTargets) {
		t.Errorf("created policy %+v", pol)
	}

	// A second plan changes nothing.
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)

	// A changed event list updates the policy's event types.
	decl.Events = []string{"PUSH_ARTIFACT", "SCANNING_COMPLETED"}
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"update " + id + " events"}, 0)
	if _, err := r.Apply(ctx, []hooks.Declaration{decl}); err != nil {
		t.Fatal(err)
	}
	if pol := f.policy("acme", id); !slices.Equal(pol.EventTypes, []string{"PUSH_ARTIFACT", "SCANNING_COMPLETED"}) || pol.Creator != testUser {
		t.Errorf("updated policy %+v", pol)
	}
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)

	// A policy disabled by hand is enabled again.
	f.mu.Lock()
	f.find("acme", id).Enabled = false
	f.mu.Unlock()
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"update " + id + " active"}, 0)

	// A rotated secret updates the target's auth header, in place.
	secret = []byte("Bearer rotated-secret")
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"update " + id + " active,secret"}, 0)
	if _, err := r.Apply(ctx, []hooks.Declaration{decl}); err != nil {
		t.Fatal(err)
	}
	if pol := f.policy("acme", id); pol.Targets[0].AuthHeader != "Bearer rotated-secret" || !pol.Enabled {
		t.Errorf("policy after rotation %+v", pol)
	}
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)

	// Declared nowhere any more, Reflex's policy is deleted.
	assertPlan(t, r, nil, []string{"delete " + id}, 0)
	if _, err := r.Apply(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if f.policy("acme", id) != nil {
		t.Errorf("policy %s not deleted", id)
	}
	assertPlan(t, r, nil, nil, 0)

	// The foreign policy was never touched.
	if diff := cmp.Diff(foreign, f.policy("acme", foreignID)); diff != "" {
		t.Errorf("foreign policy changed (-before +after):\n%s", diff)
	}
	for _, req := range f.requests() {
		if strings.HasSuffix(req, "/policies/"+foreignID) {
			t.Errorf("request on the foreign policy: %s", req)
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
