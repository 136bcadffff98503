package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/internal/redistest"
)

// fakeProvider holds hooks in memory, as a provider's API would, and
// counts the calls that change them. Expand takes repositories as they
// are.
type fakeProvider struct {
	mu      sync.Mutex
	next    int
	hooks   map[hooks.Target][]hooks.Hook
	secrets map[string][]byte
	creates int
	// slow delays List, so that two applies overlap.
	slow time.Duration
}

func newFake() *fakeProvider {
	return &fakeProvider{hooks: map[hooks.Target][]hooks.Hook{}, secrets: map[string][]byte{}}
}

func (f *fakeProvider) Name() string { return "fake" }

func (f *fakeProvider) Expand(_ context.Context, sel hooks.Selection) ([]hooks.Target, error) {
	var out []hooks.Target
	for _, r := range sel.Repositories {
		out = append(out, hooks.Target{Provider: "fake", Kind: hooks.KindRepository, Name: r})
	}
	return out, nil
}

func (f *fakeProvider) List(_ context.Context, t hooks.Target) ([]hooks.Hook, error) {
	time.Sleep(f.slow)
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.hooks[t]), nil
}

func (f *fakeProvider) Create(_ context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	f.creates++
	h := hooks.Hook{ID: strconv.Itoa(f.next), URL: s.URL, Events: s.Events, ContentType: s.ContentType, Active: true}
	f.hooks[t] = append(f.hooks[t], h)
	f.secrets[h.ID] = s.Secret
	return h, nil
}

func (f *fakeProvider) Update(_ context.Context, t hooks.Target, id string, s hooks.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, h := range f.hooks[t] {
		if h.ID == id {
			f.hooks[t][i] = hooks.Hook{ID: id, URL: s.URL, Events: s.Events, ContentType: s.ContentType, Active: true}
			f.secrets[id] = s.Secret
			return nil
		}
	}
	return fmt.Errorf("no hook %s", id)
}

func (f *fakeProvider) Delete(_ context.Context, t hooks.Target, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks[t] = slices.DeleteFunc(f.hooks[t], func(h hooks.Hook) bool { return h.ID == id })
	return nil
}

// add puts a hook there as if someone else made it.
func (f *fakeProvider) add(t hooks.Target, h hooks.Hook) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	h.ID = strconv.Itoa(f.next)
	f.hooks[t] = append(f.hooks[t], h)
}

var repo = hooks.Target{Provider: "fake", Kind: hooks.KindRepository, Name: "acme/api"}

func reconciler(t *testing.T, f *fakeProvider, secrets map[string]string) *hooks.Reconciler {
	return &hooks.Reconciler{
		Providers: map[string]hooks.Provider{"fake": f},
		PublicURL: "https://reflex.example.com/",
		Secret: func(_ context.Context, source string) ([]byte, error) {
			s, ok := secrets[source]
			if !ok {
				return nil, fmt.Errorf("no source %q", source)
			}
			return []byte(s), nil
		},
		Ledger: hooks.NewRedisLedger(redistest.New(t).Client),
	}
}

func decl(source string, events ...string) hooks.Declaration {
	return hooks.Declaration{Source: source, Provider: "fake", Selection: hooks.Selection{Repositories: []string{"acme/api"}}, Events: events}
}

func ops(p *hooks.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		s := c.Op + " " + c.Source
		if len(c.Fields) > 0 {
			s += fmt.Sprint(c.Fields)
		}
		if c.Why != "" {
			s += " (" + c.Why + ")"
		}
		out = append(out, s)
	}
	return out
}

// TestPlanAndApply walks the life of one hook: planned, created as
// declared, unchanged, updated when its events or secret change, and
// deleted when no longer declared; a foreign hook beside it is never
// touched.
func TestPlanAndApply(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	foreign := hooks.Hook{URL: "https://ci.example.com/hook", Events: []string{"push"}, ContentType: "json", Active: true}
	f.add(repo, foreign)
	secrets := map[string]string{"acme-github": "s3cret"}
	r := reconciler(t, f, secrets)
	decls := []hooks.Declaration{decl("acme-github", "push", "pull_request")}

	step := func(name string, want ...string) {
		t.Helper()
		p, err := r.Plan(ctx, decls)
		if err != nil {
			t.Fatalf("%s: plan: %v", name, err)
		}
		if got := ops(p); !slices.Equal(got, want) {
			t.Fatalf("%s: plan %q, want %q", name, got, want)
		}
		if _, err := r.Apply(ctx, decls); err != nil {
			t.Fatalf("%s: apply: %v", name, err)
		}
		if p, _ := r.Plan(ctx, decls); len(p.Changes) != 0 {
			t.Fatalf("%s: after apply, plan %q, want nothing", name, ops(p))
		}
	}
	step("empty repository", "create acme-github")
	list, _ := f.List(ctx, repo)
	if len(list) != 2 {
		t.Fatalf("hooks %v", list)
	}
	mine := list[1]
	if mine.URL != "https://reflex.example.com/hooks/acme-github" || !slices.Equal(mine.Events, []string{"pull_request", "push"}) || mine.ContentType != "json" || string(f.secrets[mine.ID]) != "s3cret" {
		t.Fatalf("created %+v with secret %q", mine, f.secrets[mine.ID])
	}

	decls = []hooks.Declaration{decl("acme-github", "push")}
	step("events changed", "update acme-github[events]")
	secrets["acme-github"] = "n3w"
	step("secret changed", "update acme-github[secret]")
	if list, _ := f.List(ctx, repo); string(f.secrets[list[1].ID]) != "n3w" {
		t.Fatal("the new secret was not given")
	}
	// The source moves to another repository, and another source takes
	// its place: its old hook goes, the foreign one stays. Changes come
	// target by target.
	decls = []hooks.Declaration{{Source: "acme-github", Provider: "fake", Selection: hooks.Selection{Repositories: []string{"acme/web"}}, Events: []string{"push"}}, decl("acme-other", "push")}
	secrets["acme-other"] = "o"
	step("moved", "create acme-other", "delete acme-github (no longer declared)", "create acme-github")
	if list, _ := f.List(ctx, repo); len(list) != 2 || list[0].URL != foreign.URL {
		t.Fatalf("the foreign hook was touched: %+v", list)
	}
	// No source declares hooks any more: the ones Reflex made go, where
	// ever they are; the foreign one stays.
	decls = nil
	step("nothing declared", "delete acme-other (no longer declared)", "delete acme-github (no longer declared)")
	if list, _ := f.List(ctx, repo); len(list) != 1 || list[0].URL != foreign.URL {
		t.Fatalf("hooks left: %+v", list)
	}
}

// TestDuplicatesDeleted: two hooks of one source at one target (as a peer
// that raced itself leaves) are brought to one.
func TestDuplicatesDeleted(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	for range 2 {
		f.add(repo, hooks.Hook{URL: "https://reflex.example.com/hooks/acme-github", Events: []string{"push"}, ContentType: "json", Active: true})
	}
	r := reconciler(t, f, map[string]string{"acme-github": "s"})
	p, err := r.Plan(ctx, []hooks.Declaration{decl("acme-github", "push")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ops(p), []string{"update acme-github[secret]", "delete acme-github (a duplicate)"}; !slices.Equal(got, want) {
		t.Fatalf("plan %q, want %q", got, want)
	}
}

// TestConcurrentApplies: applies at once (several replicas) create the
// hook once.
func TestConcurrentApplies(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	f.slow = 20 * time.Millisecond
	r := reconciler(t, f, map[string]string{"acme-github": "s"})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := r.Apply(ctx, []hooks.Declaration{decl("acme-github", "push")}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if f.creates != 1 {
		t.Fatalf("%d hooks created, want 1", f.creates)
	}
}

// TestUnconfiguredProvider: a declaration at a provider the server cannot
// reach is an error naming the setting.
func TestUnconfiguredProvider(t *testing.T) {
	r := reconciler(t, newFake(), map[string]string{"a": "s"})
	_, err := r.Plan(context.Background(), []hooks.Declaration{{Source: "a", Provider: "gitlab", Events: []string{"push"}}})
	if err == nil || err.Error() != `source "a": hooks at gitlab: no gitlab API is configured (hooks.gitlab in the server's configuration)` {
		t.Fatalf("err = %v", err)
	}
}

// redeliveringFake is a fakeProvider that lists deliveries and records
// what it is asked to deliver again.
type redeliveringFake struct {
	*fakeProvider
	deliveries []hooks.Delivery
	asked      []string
}

func (f *redeliveringFake) Deliveries(_ context.Context, _ hooks.Target, _ string, _ time.Time) ([]hooks.Delivery, error) {
	return f.deliveries, nil
}

func (f *redeliveringFake) Redeliver(_ context.Context, _ hooks.Target, _ string, d hooks.Delivery) error {
	f.asked = append(f.asked, d.ID)
	return nil
}

// TestRecover: of the failed deliveries since the bound, those Reflex
// holds or that a later attempt delivered are left; those the filter
// excludes are not counted; the rest are asked for again, once each, by
// their latest attempt; a dry run asks for nothing; a second recovery
// while one runs is refused.
func TestRecover(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	f := &redeliveringFake{fakeProvider: newFake()}
	f.add(repo, hooks.Hook{URL: "https://reflex.example.com/hooks/acme-github", Events: []string{"push"}, ContentType: "json", Active: true})
	f.add(repo, hooks.Hook{URL: "https://ci.example.com/hook", Events: []string{"push"}, ContentType: "json", Active: true})
	at := func(d time.Duration) time.Time { return now.Add(-d) }
	f.deliveries = []hooks.Delivery{
		{ID: "1", GUID: "held", Event: "push", StatusCode: 503, At: at(time.Hour)},
		{ID: "2", GUID: "missed", Event: "push", StatusCode: 0, At: at(50 * time.Minute)},
		{ID: "3", GUID: "missed", Event: "push", StatusCode: 502, Redelivery: true, At: at(40 * time.Minute)},
		{ID: "4", GUID: "retried", Event: "push", StatusCode: 500, At: at(30 * time.Minute)},
		{ID: "5", GUID: "retried", Event: "push", StatusCode: 202, Redelivery: true, At: at(20 * time.Minute)},
		{ID: "6", GUID: "pr-missed", Event: "pull_request", Action: "opened", StatusCode: 500, At: at(10 * time.Minute)},
		{ID: "7", GUID: "label", Event: "pull_request", Action: "labeled", StatusCode: 500, At: at(9 * time.Minute)},
		{ID: "8", GUID: "fine", Event: "push", StatusCode: 202, At: at(8 * time.Minute)},
		{ID: "9", GUID: "too-old", Event: "push", StatusCode: 500, At: at(48 * time.Hour)},
	}
	r := reconciler(t, f.fakeProvider, map[string]string{"acme-github": "s"})
	r.Providers["fake"] = f
	opts := hooks.RecoverOptions{
		Since:  now.Add(-24 * time.Hour),
		Events: []string{"push", "pull_request.opened"},
		Accepted: func(_ context.Context, source, id string) (bool, error) {
			return source == "acme-github" && id == "held", nil
		},
	}
	decls := []hooks.Declaration{decl("acme-github", "push")}
	dry := opts
	dry.DryRun = true
	sum, err := r.Recover(ctx, decls, dry)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.asked) != 0 || sum.Redelivered != 2 || !sum.DryRun {
		t.Fatalf("dry run: %+v, asked %v", sum, f.asked)
	}
	sum, err = r.Recover(ctx, decls, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := hooks.RecoverSummary{Hooks: 1, Found: 4, Present: 2, Redelivered: 2}
	if sum.Hooks != want.Hooks || sum.Found != want.Found || sum.Present != want.Present || sum.Redelivered != want.Redelivered || sum.Failed != 0 {
		t.Fatalf("summary %+v, want %+v", sum, want)
	}
	if !slices.Equal(f.asked, []string{"3", "6"}) {
		t.Fatalf("asked for %v again, want the latest attempts of missed and pr-missed (3, 6)", f.asked)
	}

	// Another replica's recovery holds the lock.
	release, err := r.Ledger.Lock(ctx, hooks.Target{Provider: "reflex", Kind: "recover", Name: "deliveries"})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := r.Recover(ctx, decls, opts); !errors.Is(err, hooks.ErrBusy) {
		t.Fatalf("a recovery while another runs: %v, want ErrBusy", err)
	}
}

// pingingFake records the hooks it is asked to test.
type pingingFake struct {
	*fakeProvider
	pinged []string
}

func (f *pingingFake) Ping(_ context.Context, _ hooks.Target, id string) error {
	f.pinged = append(f.pinged, id)
	return nil
}

// TestListAndPing: only this Reflex's hooks are listed and tested.
func TestListAndPing(t *testing.T) {
	ctx := context.Background()
	f := &pingingFake{fakeProvider: newFake()}
	f.add(repo, hooks.Hook{URL: "https://ci.example.com/hook", Events: []string{"push"}, Active: true})
	f.add(repo, hooks.Hook{URL: "https://reflex.example.com/hooks/acme-github", Events: []string{"push"}, Active: true, LastStatus: "200 OK"})
	r := reconciler(t, f.fakeProvider, map[string]string{"acme-github": "s"})
	r.Providers["fake"] = f
	decls := []hooks.Declaration{decl("acme-github", "push")}
	listed, err := r.Hooks(ctx, decls)
	if err != nil || len(listed) != 1 || listed[0].Source != "acme-github" || listed[0].Hook.ID != "2" || listed[0].Hook.LastStatus != "200 OK" {
		t.Fatalf("listed %+v, %v", listed, err)
	}
	pinged, err := r.Ping(ctx, decls)
	if err != nil || len(pinged) != 1 || pinged[0].Error != "" || !slices.Equal(f.pinged, []string{"2"}) {
		t.Fatalf("pinged %+v (%v), asked %v", pinged, err, f.pinged)
	}
	r.Providers["fake"] = f.fakeProvider
	if pinged, _ := r.Ping(ctx, decls); len(pinged) != 1 || pinged[0].Error == "" {
		t.Fatalf("a provider without test deliveries: %+v", pinged)
	}
}

// TestSecretsScrubbed: a hook URL that holds the source's secret (as a
// provider that puts it in the path would return it) shows it nowhere in
// a plan or a list.
func TestSecretsScrubbed(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	f.add(repo, hooks.Hook{URL: "https://reflex.example.com/hooks/acme-github/s3cr3t-t%2Fok3n?x=s3cr3t-t%2Fok3n", Events: []string{"pull"}, ContentType: "json", Active: true})
	r := reconciler(t, f, map[string]string{"acme-github": "s3cr3t-t/ok3n"})
	decls := []hooks.Declaration{decl("acme-github", "push")}
	p, err := r.Plan(ctx, decls)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := r.Hooks(ctx, decls)
	if err != nil {
		t.Fatal(err)
	}
	if raw := fmt.Sprintf("%+v %+v", p.Changes[0].Current, listed); strings.Contains(raw, "s3cr3t") || !strings.Contains(raw, "[secret]") {
		t.Fatalf("the secret shows: %s", raw)
	}
}
