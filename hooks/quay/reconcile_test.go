package quay

import (
	"context"
	"fmt"
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
	foreign := f.addWebhook("acme/api", "repo_push", "https://elsewhere.example.com/hooks/ci", 0)
	otherReflex := f.addWebhook("acme/api", "repo_push", tokenURL("https://old-reflex.example.com/hooks/ci", "theirs", "repo_push"), 0)
	before := f.notifications("acme/api")
	secret := []byte(testSecret)
	ledger := newLedger()
	r := &hooks.Reconciler{
		Providers: map[string]hooks.Provider{Name: f.provider(Options{})},
		PublicURL: "https://reflex.example.com/",
		Secret:    func(context.Context, string) ([]byte, error) { return secret, nil },
		Ledger:    ledger,
	}
	decl := hooks.Declaration{Source: "ci", Provider: Name, Selection: hooks.Selection{Repositories: []string{"acme/api"}}, Events: []string{"repo_push", "build_success"}}
	ctx := t.Context()

	// A plan on a repository without Reflex's notifications creates a
	// hook.
	plan, err := r.Plan(ctx, []hooks.Declaration{decl})
	if err != nil {
		t.Fatal(err)
	}
	want := &hooks.Plan{Targets: 1, Changes: []hooks.Change{{
		Op: "create", Target: apiRepo, Source: "ci",
		Desired: &hooks.DesiredHook{URL: ciURL, Events: []string{"build_success", "repo_push"}, ContentType: "json"},
	}}}
	if diff := cmp.Diff(want, plan, cmpopts.IgnoreUnexported(hooks.Change{})); diff != "" {
		t.Fatalf("first plan (-want +got):\n%s", diff)
	}

	// The apply creates a notification per event, the secret in the URL.
	res, err := r.Apply(ctx, []hooks.Declaration{decl})
	if err != nil || len(res.Applied) != 1 || res.Applied[0].Op != "create" || res.Applied[0].HookID != ciURL {
		t.Fatalf("first apply = %+v, %v", res, err)
	}
	assertURLs(t, f, "build_success "+tokenURL(ciURL, testSecret, "build_success"), "repo_push "+tokenURL(ciURL, testSecret, "repo_push"))

	// A second plan changes nothing.
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)

	// A changed event list is one update: the new event's notification
	// made, the dropped one's deleted, the kept one untouched.
	pushUUID := uuidOf(t, f, "repo_push", ciURL)
	decl.Events = []string{"repo_push", "build_failure"}
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"update " + ciURL + " events"}, 0)
	if _, err := r.Apply(ctx, []hooks.Declaration{decl}); err != nil {
		t.Fatal(err)
	}
	assertURLs(t, f, "build_failure "+tokenURL(ciURL, testSecret, "build_failure"), "repo_push "+tokenURL(ciURL, testSecret, "repo_push"))
	if uuidOf(t, f, "repo_push", ciURL) != pushUUID {
		t.Errorf("the repo_push notification was replaced")
	}
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)

	// A rotated secret replaces every notification, under the same hook
	// id, which the ledger follows.
	secret = []byte("rotated-secret")
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"update " + ciURL + " secret"}, 0)
	if _, err := r.Apply(ctx, []hooks.Declaration{decl}); err != nil {
		t.Fatal(err)
	}
	assertURLs(t, f, "build_failure "+tokenURL(ciURL, "rotated-secret", "build_failure"), "repo_push "+tokenURL(ciURL, "rotated-secret", "repo_push"))
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)
	if fps := ledger.fps[apiRepo]; len(fps) != 1 || fps[ciURL] != hooks.Fingerprint(secret) {
		t.Errorf("ledger %v, want one fingerprint under %s", fps, ciURL)
	}

	// Quay disables a notification after failing deliveries: the hook
	// shows inactive, and an apply makes a new one.
	f.mu.Lock()
	for _, n := range f.notes["acme/api"] {
		if n.Event == "build_failure" && strings.HasPrefix(n.Config["url"].(string), ciURL+"/") {
			n.Failures = 3
		}
	}
	f.mu.Unlock()
	assertPlan(t, r, []hooks.Declaration{decl}, []string{"update " + ciURL + " active"}, 0)
	if _, err := r.Apply(ctx, []hooks.Declaration{decl}); err != nil {
		t.Fatal(err)
	}
	assertPlan(t, r, []hooks.Declaration{decl}, nil, 1)

	// Nothing a plan shows holds the secret.
	plan, err = r.Plan(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprintf("%+v", plan); strings.Contains(s, "rotated-secret") {
		t.Errorf("the plan shows the secret: %s", s)
	}

	// Declared nowhere any more, Reflex's notifications are deleted.
	assertPlan(t, r, nil, []string{"delete " + ciURL}, 0)
	if _, err := r.Apply(ctx, nil); err != nil {
		t.Fatal(err)
	}
	assertPlan(t, r, nil, nil, 0)

	// The foreign notifications were never touched.
	if diff := cmp.Diff(before, f.notifications("acme/api")); diff != "" {
		t.Errorf("foreign notifications changed (-before +after):\n%s", diff)
	}
	for _, req := range f.requests() {
		if strings.HasSuffix(req, foreign) || strings.HasSuffix(req, otherReflex) || strings.HasSuffix(req, otherReflex+"/test") {
			t.Errorf("request on a foreign notification: %s", req)
		}
	}
}

// assertURLs checks Reflex's notifications ("event url", sorted) beside
// the test's two foreign ones.
func assertURLs(t *testing.T, f *fakeQuay, want ...string) {
	t.Helper()
	var got []string
	for _, u := range f.urls("acme/api") {
		if strings.Contains(u, " "+ciURL+"/") {
			got = append(got, u)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Reflex's notifications (-want +got):\n%s", diff)
	}
}

// uuidOf returns the uuid of the notification of an event posting under
// a hook URL.
func uuidOf(t *testing.T, f *fakeQuay, event, hookURL string) string {
	t.Helper()
	for _, n := range f.notifications("acme/api") {
		if n.Event == event && strings.HasPrefix(n.Config["url"].(string), hookURL+"/") {
			return n.UUID
		}
	}
	t.Fatalf("no %s notification under %s", event, hookURL)
	return ""
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
