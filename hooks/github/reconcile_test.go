package github

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

// memLedger is an in-memory hooks.Ledger.
type memLedger struct {
	mu  sync.Mutex
	fps map[hooks.Target]map[string]string // fingerprints by target, then hook id
}

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
	var out []hooks.Target
	for t := range l.fps {
		out = append(out, t)
	}
	return out, nil
}

func (l *memLedger) Lock(context.Context, hooks.Target) (func(), error) { return func() {}, nil }

// ops returns a plan's changes as "op target fields".
func ops(p *hooks.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		s := c.Op + " " + c.Target.String()
		for _, f := range c.Fields {
			s += " " + f
		}
		out = append(out, s)
	}
	return out
}

// TestReconciler plans and applies through hooks.Reconciler on the fake:
// a create on an empty repository, nothing on a second plan, an update
// when the events change and when the secret does, and a foreign hook
// never touched.
func TestReconciler(t *testing.T) {
	f := newFake(t)
	foreign := fakeHook{ID: 5, URL: "https://ci.example.org/hook", ContentType: "form", Secret: "theirs", InsecureSSL: "0", Events: []string{"push"}, Active: true}
	held := foreign
	held.Events = slices.Clone(foreign.Events)
	f.setHooks("repos/acme/api", &held)
	f.setHooks("repos/acme/web")
	p := f.provider(t)
	secret := []byte("s3cret-1")
	r := &hooks.Reconciler{
		Providers: map[string]hooks.Provider{"github": p},
		PublicURL: "https://reflex.example.com",
		Secret:    func(context.Context, string) ([]byte, error) { return secret, nil },
		Ledger:    &memLedger{fps: map[hooks.Target]map[string]string{}},
	}
	decls := []hooks.Declaration{{
		Source:    "ci",
		Provider:  "github",
		Selection: hooks.Selection{Repositories: []string{"acme/api", "acme/web"}},
		Events:    []string{"push", "pull_request"},
	}}
	ctx := context.Background()
	url := "https://reflex.example.com/hooks/ci"

	plan, err := r.Plan(ctx, decls)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"create github repository acme/api", "create github repository acme/web"}, ops(plan)); d != "" {
		t.Errorf("first plan (-want +got):\n%s", d)
	}
	if n := len(f.got("POST /repos/acme/api/hooks")); n != 0 {
		t.Fatalf("a plan created %d hooks", n)
	}

	res, err := r.Apply(ctx, decls)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 2 {
		t.Errorf("applied %d, want 2", len(res.Applied))
	}
	for _, key := range []string{"repos/acme/api", "repos/acme/web"} {
		var ours []fakeHook
		for _, h := range f.hooksOf(key) {
			if h.URL == url {
				ours = append(ours, h)
			}
		}
		if len(ours) != 1 {
			t.Fatalf("%s: %d hooks of ours", key, len(ours))
		}
		h := ours[0]
		if !slices.Equal(h.Events, []string{"pull_request", "push"}) || h.ContentType != "json" || h.Secret != "s3cret-1" || !h.Active || h.InsecureSSL != "0" {
			t.Errorf("%s: created %+v", key, h)
		}
	}

	plan, err = r.Plan(ctx, decls)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 0 || plan.Unchanged != 2 {
		t.Errorf("second plan: %v, %d unchanged; want nothing to do", ops(plan), plan.Unchanged)
	}

	// The events change: one update.
	decls[0].Events = []string{"push", "pull_request", "release"}
	plan, err = r.Plan(ctx, decls)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"update github repository acme/api events", "update github repository acme/web events"}, ops(plan)); d != "" {
		t.Errorf("plan with events changed (-want +got):\n%s", d)
	}
	if _, err := r.Apply(ctx, decls); err != nil {
		t.Fatal(err)
	}
	ours := f.hook("repos/acme/api", 101)
	if ours == nil || !slices.Equal(ours.Events, []string{"pull_request", "push", "release"}) || ours.Secret != "s3cret-1" {
		t.Errorf("after the events changed: %+v", ours)
	}

	// The secret rotates: one update, the new secret sent.
	secret = []byte("s3cret-2")
	plan, err = r.Plan(ctx, decls)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"update github repository acme/api secret", "update github repository acme/web secret"}, ops(plan)); d != "" {
		t.Errorf("plan with the secret rotated (-want +got):\n%s", d)
	}
	if _, err := r.Apply(ctx, decls); err != nil {
		t.Fatal(err)
	}
	if got := f.hook("repos/acme/api", 101); got.Secret != "s3cret-2" {
		t.Errorf("the secret sent: %q", got.Secret)
	}
	if plan, err = r.Plan(ctx, decls); err != nil || len(plan.Changes) != 0 {
		t.Errorf("plan after the rotation: %v, %v", ops(plan), err)
	}

	// acme/web is no longer declared: its hook is deleted, as the ledger
	// remembers it.
	decls[0].Selection.Repositories = []string{"acme/api"}
	plan, err = r.Plan(ctx, decls)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"delete github repository acme/web"}, ops(plan)); d != "" {
		t.Errorf("plan with acme/web undeclared (-want +got):\n%s", d)
	}
	if _, err := r.Apply(ctx, decls); err != nil {
		t.Fatal(err)
	}
	if left := f.hooksOf("repos/acme/web"); len(left) != 0 {
		t.Errorf("acme/web keeps %+v", left)
	}

	// The foreign hook: as it was, and never asked about by id.
	if got := f.hook("repos/acme/api", 5); got == nil || !cmp.Equal(foreign, *got) {
		t.Errorf("the foreign hook changed: %+v", got)
	}
	for _, req := range f.got("") {
		if req.Path == "/repos/acme/api/hooks/5" {
			t.Errorf("the foreign hook was touched: %s %s", req.Method, req.Path)
		}
	}
}

// TestReconcilerOrganization: on an organization where Reflex has no
// hook, a glob over its repositories and its organization hook plan one
// create each (archived repositories aside); the apply makes them, at
// the organization's hooks API too, and a second plan has nothing to do.
func TestReconcilerOrganization(t *testing.T) {
	f := newFake(t)
	f.orgs["acme"] = []fakeRepo{{"acme", "api", false}, {"acme", "web", false}, {"acme", "old", true}}
	f.setHooks("repos/acme/api")
	f.setHooks("repos/acme/web")
	f.setHooks("orgs/acme")
	r := &hooks.Reconciler{
		Providers: map[string]hooks.Provider{"github": f.provider(t)},
		PublicURL: "https://reflex.example.com",
		Secret:    func(context.Context, string) ([]byte, error) { return []byte("s3cret-org"), nil },
		Ledger:    &memLedger{fps: map[hooks.Target]map[string]string{}},
	}
	decls := []hooks.Declaration{{
		Source: "ci", Provider: "github", Events: []string{"push"},
		Selection: hooks.Selection{Repositories: []string{"acme/*"}, Organizations: []string{"acme"}},
	}}
	ctx := context.Background()
	plan, err := r.Plan(ctx, decls)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"create github organization acme", "create github repository acme/api", "create github repository acme/web"}
	if d := cmp.Diff(want, ops(plan)); d != "" {
		t.Fatalf("plan (-want +got):\n%s", d)
	}
	if _, err := r.Apply(ctx, decls); err != nil {
		t.Fatal(err)
	}
	if hs := f.hooksOf("orgs/acme"); len(hs) != 1 || hs[0].URL != "https://reflex.example.com/hooks/ci" || hs[0].Secret != "s3cret-org" {
		t.Fatalf("organization hooks %+v", hs)
	}
	if plan, err := r.Plan(ctx, decls); err != nil || len(plan.Changes) != 0 {
		t.Fatalf("second plan: %v, %v", ops(plan), err)
	}
}
