package bitbucket

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

const testSecret = "s3cret-for-hooks"

var (
	apiRepo    = hooks.Target{Provider: Name, Kind: hooks.KindRepository, Name: "acme/api"}
	apiScope   = "repositories/acme/api"
	acmeSpace  = hooks.Target{Provider: Name, Kind: hooks.KindOrganization, Name: "acme"}
	spaceScope = "workspaces/acme"
)

// spec returns a Spec with the test secret.
func spec(hookURL string, events ...string) hooks.Spec {
	return hooks.Spec{URL: hookURL, Events: events, ContentType: hooks.ContentJSON, Secret: []byte(testSecret)}
}

// esc returns a hook id as it goes in a path.
func esc(id string) string { return url.PathEscape(id) }

func TestListEveryPage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		bearer bool
		target hooks.Target
		scope  string
	}{
		{"repository, API token", false, apiRepo, apiScope},
		{"repository, access token", true, apiRepo, apiScope},
		{"workspace", false, acmeSpace, spaceScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.bearer = tc.bearer
			id1 := f.addHook(tc.scope, "https://reflex.example.com/hooks/ci", []string{"repo:push", "pullrequest:created"}, true)
			id2 := f.addHook(tc.scope, "https://elsewhere.example.com/ci", []string{"repo:push"}, true)
			id3 := f.addHook(tc.scope, "https://reflex.example.com/hooks/old", []string{"pullrequest:fulfilled"}, false)
			id4 := f.addHook(tc.scope, "https://reflex.example.com/hooks/cd", []string{"repo:commit_status_updated", "repo:commit_status_created"}, true)
			id5 := f.addHook(tc.scope, "https://reflex.example.com/hooks/none", nil, true)

			got, err := f.provider(Options{}).List(t.Context(), tc.target)
			if err != nil {
				t.Fatal(err)
			}
			want := []hooks.Hook{
				{ID: id1, URL: "https://reflex.example.com/hooks/ci", Events: []string{"pullrequest:created", "repo:push"}, ContentType: "json", Active: true},
				{ID: id2, URL: "https://elsewhere.example.com/ci", Events: []string{"repo:push"}, ContentType: "json", Active: true},
				{ID: id3, URL: "https://reflex.example.com/hooks/old", Events: []string{"pullrequest:fulfilled"}, ContentType: "json", Active: false},
				{ID: id4, URL: "https://reflex.example.com/hooks/cd", Events: []string{"repo:commit_status_created", "repo:commit_status_updated"}, ContentType: "json", Active: true},
				{ID: id5, URL: "https://reflex.example.com/hooks/none", Events: []string{}, ContentType: "json", Active: true},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
			wantReqs := []string{
				"GET /2.0/" + tc.scope + "/hooks?pagelen=100",
				"GET /2.0/" + tc.scope + "/hooks?page=2&pagelen=100",
				"GET /2.0/" + tc.scope + "/hooks?page=3&pagelen=100",
			}
			if diff := cmp.Diff(wantReqs, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListEmpty(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	got, err := f.provider(Options{}).List(t.Context(), apiRepo)
	if err != nil || len(got) != 0 {
		t.Fatalf("List = %v, %v; want nothing", got, err)
	}
	if diff := cmp.Diff([]string{"GET /2.0/" + apiScope + "/hooks?pagelen=100"}, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestListNextPageChecked(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		elsewhere = append(elsewhere, r.Header.Get("Authorization"))
		writeJSON(w, http.StatusOK, map[string]any{"values": []any{}})
	}))
	t.Cleanup(other.Close)

	for _, tc := range []struct {
		name string
		next func(f *fakeBitbucket) string
		want string
	}{
		{"another host", func(*fakeBitbucket) string { return other.URL + "/2.0/" + apiScope + "/hooks?page=2" }, "not followed"},
		{"outside the API", func(f *fakeBitbucket) string { return f.srv.URL + "/elsewhere?page=2" }, "not followed"},
		{"credentials in it", func(f *fakeBitbucket) string {
			u, _ := url.Parse(f.srv.URL + "/2.0/" + apiScope + "/hooks?page=2")
			u.User = url.UserPassword("x", "y")
			return u.String()
		}, "not followed"},
		{"the same page again", func(f *fakeBitbucket) string { return f.srv.URL + "/2.0/" + apiScope + "/hooks?pagelen=100" }, "already read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.answerOnce("GET /2.0/"+apiScope+"/hooks", canned{status: 200, body: fmt.Sprintf(`{"values":[],"next":%q}`, tc.next(f))})
			_, err := f.provider(Options{}).List(t.Context(), apiRepo)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("List = %v, want %q", err, tc.want)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests to the API, want 1", n)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhere) != 0 {
		t.Errorf("the other host got %d requests", len(elsewhere))
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		bearer bool
		target hooks.Target
		scope  string
		events []string
	}{
		{"repository", false, apiRepo, apiScope, []string{"repo:push", "pullrequest:created", "pullrequest:fulfilled"}},
		{"repository, access token", true, apiRepo, apiScope, []string{"repo:push"}},
		{"workspace", false, acmeSpace, spaceScope, []string{"repo:commit_status_updated", "pullrequest:rejected"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.bearer = tc.bearer
			h, err := f.provider(Options{}).Create(t.Context(), tc.target, spec("https://reflex.example.com/hooks/ci", tc.events...))
			if err != nil {
				t.Fatal(err)
			}
			sorted := slices.Sorted(slices.Values(tc.events))
			want := hooks.Hook{ID: uuid(1), URL: "https://reflex.example.com/hooks/ci", Events: sorted, ContentType: "json", Active: true}
			if diff := cmp.Diff(want, h); diff != "" {
				t.Errorf("Create (-want +got):\n%s", diff)
			}
			stored := f.hook(tc.scope, h.ID)
			if stored == nil {
				t.Fatalf("no hook %s at %s", h.ID, tc.scope)
			}
			wantStored := fakeHook{
				Type: "webhook_subscription", UUID: h.ID, URL: "https://reflex.example.com/hooks/ci", Description: "Reflex",
				SubjectType: subjectType(tc.scope), Active: true, Events: sorted, SecretSet: true, CreatedAt: stored.CreatedAt, secret: testSecret,
			}
			if diff := cmp.Diff(wantStored, *stored, cmp.AllowUnexported(fakeHook{})); diff != "" {
				t.Errorf("stored hook (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"POST /2.0/" + tc.scope + "/hooks"}, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		target hooks.Target
		scope  string
		spec   hooks.Spec
		active bool
		secret string
	}{
		{"events changed", apiRepo, apiScope, spec("https://reflex.example.com/hooks/ci", "repo:push", "pullrequest:updated"), true, testSecret},
		{"secret changed", apiRepo, apiScope, hooks.Spec{URL: "https://reflex.example.com/hooks/ci", Events: []string{"repo:push", "pullrequest:created"}, Secret: []byte("rotated-secret")}, true, "rotated-secret"},
		{"url changed", apiRepo, apiScope, spec("https://reflex.example.com/hooks/cd", "pullrequest:created", "repo:push"), true, testSecret},
		{"inactive made active", apiRepo, apiScope, spec("https://reflex.example.com/hooks/ci", "pullrequest:created", "repo:push"), false, testSecret},
		{"workspace hook", acmeSpace, spaceScope, spec("https://reflex.example.com/hooks/ci", "repo:fork"), true, testSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.addHook(tc.scope, "https://elsewhere.example.com/x", []string{"repo:push"}, true)
			id := f.addHook(tc.scope, "https://reflex.example.com/hooks/ci", []string{"repo:push", "pullrequest:created"}, tc.active)
			if err := f.provider(Options{}).Update(t.Context(), tc.target, id, tc.spec); err != nil {
				t.Fatal(err)
			}
			stored := f.hook(tc.scope, id)
			want := fakeHook{
				Type: "webhook_subscription", UUID: id, URL: tc.spec.URL, Description: "Reflex", SubjectType: subjectType(tc.scope),
				Active: true, Events: slices.Sorted(slices.Values(tc.spec.Events)), SecretSet: true, CreatedAt: stored.CreatedAt, secret: tc.secret,
			}
			if diff := cmp.Diff(want, *stored, cmp.AllowUnexported(fakeHook{})); diff != "" {
				t.Errorf("stored hook (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"PUT /2.0/" + tc.scope + "/hooks/" + esc(id)}, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	keep := f.addHook(apiScope, "https://elsewhere.example.com/x", []string{"repo:push"}, true)
	gone := f.addHook(apiScope, "https://reflex.example.com/hooks/ci", []string{"repo:push"}, true)
	p := f.provider(Options{})
	if err := p.Delete(t.Context(), apiRepo, gone); err != nil {
		t.Fatal(err)
	}
	if f.hook(apiScope, gone) != nil || f.hook(apiScope, keep) == nil {
		t.Errorf("after Delete: hook %s kept or hook %s gone", gone, keep)
	}
	if err := p.Delete(t.Context(), apiRepo, gone); statusOf(err) != http.StatusNotFound {
		t.Errorf("deleting again = %v, want a 404", err)
	}
	want := []string{"DELETE /2.0/" + apiScope + "/hooks/" + esc(gone), "DELETE /2.0/" + apiScope + "/hooks/" + esc(gone)}
	for _, bad := range []string{"../../x", "12", strings.Trim(gone, "{}"), gone + "/x"} {
		if err := p.Delete(t.Context(), apiRepo, bad); err == nil || !strings.Contains(err.Error(), "not a Bitbucket hook id") {
			t.Errorf("Delete(%q) = %v, want it refused", bad, err)
		}
	}
	if diff := cmp.Diff(want, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestRateLimitWaitedOut(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		answer canned
	}{
		{"429 Retry-After", canned{status: 429, header: map[string]string{"Retry-After": "1"}, body: `{"type":"error","error":{"message":"Rate limit for this resource has been exceeded"}}`}},
		{"429 without headers", canned{status: 429, body: "Rate limit for this resource has been exceeded"}},
		{"429 X-RateLimit-Reset", canned{status: 429, header: map[string]string{"X-RateLimit-Reset": strconv.FormatInt(now.Add(time.Second).Unix(), 10)}}},
		{"403 Retry-After", canned{status: 403, header: map[string]string{"Retry-After": "1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			id := f.addHook(apiScope, "https://reflex.example.com/hooks/ci", []string{"repo:push"}, true)
			f.answerOnce("GET /2.0/"+apiScope+"/hooks", tc.answer)
			p := f.provider(Options{})
			p.now = func() time.Time { return now }
			var mu sync.Mutex
			var lines []string
			ctx := hooks.WithProgress(t.Context(), func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				lines = append(lines, fmt.Sprintf(format, args...))
			})
			start := time.Now()
			got, err := p.List(ctx, apiRepo)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != id {
				t.Errorf("List = %v", got)
			}
			if waited := time.Since(start); waited < 900*time.Millisecond {
				t.Errorf("waited %s, want about 1s", waited)
			}
			wantReqs := []string{"GET /2.0/" + apiScope + "/hooks?pagelen=100", "GET /2.0/" + apiScope + "/hooks?pagelen=100"}
			if diff := cmp.Diff(wantReqs, f.requests()); diff != "" {
				t.Errorf("requests (-want +got): the first and its retry\n%s", diff)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(lines) != 1 || !strings.Contains(lines[0], "rate limited: waiting 1s") {
				t.Errorf("progress = %q, want the wait", lines)
			}
		})
	}
}

func TestRateLimitNotWaitedOut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		retries int
		answer  canned
		want    string
	}{
		{"no retries left", -1, canned{status: 429, header: map[string]string{"Retry-After": "1"}}, "still after 0 waits"},
		{"too long a wait", 0, canned{status: 429, header: map[string]string{"Retry-After": "3600"}}, "more than 15m0s"},
		{"403 without Retry-After is no rate limit", 0, canned{status: 403, body: `{"type":"error","error":{"message":"Forbidden"}}`}, "403 Forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.answerOnce("GET /2.0/"+apiScope+"/hooks", tc.answer)
			_, err := f.provider(Options{Retries: tc.retries}).List(t.Context(), apiRepo)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("List = %v, want %q", err, tc.want)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestHookLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		target hooks.Target
		scope  string
		answer canned
		limit  bool
		want   string
	}{
		{"repository", apiRepo, apiScope, canned{status: 400, body: `{"type":"error","error":{"message":"Bad request","detail":"You have reached the maximum number of webhooks for this repository."}}`}, true, "the Bitbucket repository acme/api holds no more hooks"},
		{"workspace", acmeSpace, spaceScope, canned{status: 403, body: `{"type":"error","error":{"message":"Webhook limit reached"}}`}, true, "the Bitbucket workspace acme holds no more hooks"},
		{"invalid url", apiRepo, apiScope, canned{status: 400, body: `{"type":"error","error":{"message":"Bad request","fields":{"url":["Enter a valid URL."]}}}`}, false, "url: Enter a valid URL."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.answerOnce("POST /2.0/"+tc.scope+"/hooks", tc.answer)
			_, err := f.provider(Options{}).Create(t.Context(), tc.target, spec("https://reflex.example.com/hooks/ci", "repo:push"))
			if err == nil {
				t.Fatal("Create succeeded")
			}
			if errors.Is(err, hooks.ErrLimit) != tc.limit {
				t.Errorf("errors.Is(%v, ErrLimit) = %v, want %v", err, !tc.limit, tc.limit)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		o      Options
		bearer bool
		target hooks.Target
		events []string
		key    string
		answer *canned
		want   []string
	}{
		{name: "wrong API token", o: Options{Username: testUser, Token: "ATATT-wrong"}, target: apiRepo,
			want: []string{"401", "refused the username and token", "Atlassian account's email"}},
		{name: "username instead of email", o: Options{Username: "acme-bot", Token: testToken}, target: apiRepo,
			want: []string{"401", "Atlassian account's email"}},
		{name: "wrong access token", o: Options{AccessToken: "ATCTT-wrong"}, bearer: true, target: apiRepo,
			want: []string{"401", "refused the access token"}},
		{name: "forbidden repository", target: apiRepo, key: "POST /2.0/" + apiScope + "/hooks",
			answer: &canned{status: 403, body: `{"type":"error","error":{"message":"Your credentials lack one or more required privilege scopes.","detail":{"required":["webhook"],"granted":["repository"]}}}`},
			want:   []string{"403", "admin rights on acme/api", "write:webhook:bitbucket", "Webhooks: Read and write", "read:pullrequest:bitbucket"}},
		{name: "forbidden access token", bearer: true, target: apiRepo, key: "POST /2.0/" + apiScope + "/hooks",
			answer: &canned{status: 403, body: `{"type":"error","error":{"message":"Forbidden"}}`},
			want:   []string{"403", `access token needs the scope "Webhooks: Read and write"`}},
		{name: "forbidden workspace", target: acmeSpace, key: "POST /2.0/" + spaceScope + "/hooks",
			answer: &canned{status: 403, body: `{"type":"error","error":{"message":"Forbidden"}}`},
			want:   []string{"403", "owner (admin) of workspace acme", "write:webhook:bitbucket"}},
		{name: "unknown repository", target: apiRepo, key: "POST /2.0/" + apiScope + "/hooks",
			answer: &canned{status: 404, body: `{"type":"error","error":{"message":"Repository acme/api not found"}}`},
			want:   []string{"404", "Repository acme/api not found", "no such repository"}},
		{name: "unknown event", target: apiRepo, events: []string{"repo:push", "repo:teleported"},
			want: []string{"400", "'repo:teleported' is not a valid event", "event(s) repo:teleported are not among the keys"}},
		{name: "secret and token echoed", target: apiRepo, key: "POST /2.0/" + apiScope + "/hooks",
			answer: &canned{status: 400, body: `{"type":"error","error":{"message":"secret ` + testSecret + ` refused for ` + testToken + `"}}`},
			want:   []string{"secret [REDACTED] refused for [REDACTED]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.bearer = tc.bearer
			if tc.answer != nil {
				f.answerOnce(tc.key, *tc.answer)
			}
			events := tc.events
			if events == nil {
				events = []string{"repo:push", "pullrequest:created"}
			}
			_, err := f.provider(tc.o).Create(t.Context(), tc.target, spec("https://reflex.example.com/hooks/ci", events...))
			if err == nil {
				t.Fatal("Create succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, secret := range []string{testSecret, testToken, testAccessToken, tc.o.Token, tc.o.AccessToken} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds a secret", err)
				}
			}
		})
	}
}

func TestSpecRefused(t *testing.T) {
	t.Parallel()
	base := spec("https://reflex.example.com/hooks/ci", "repo:push")
	for _, tc := range []struct {
		name string
		edit func(*hooks.Spec)
		want string
	}{
		{"form", func(s *hooks.Spec) { s.ContentType = hooks.ContentForm }, "JSON only"},
		{"no secret", func(s *hooks.Spec) { s.Secret = nil }, "secret is empty"},
		{"binary secret", func(s *hooks.Spec) { s.Secret = []byte{0xff, 0xfe, 'a'} }, "not UTF-8"},
		{"long secret", func(s *hooks.Spec) { s.Secret = []byte(strings.Repeat("é", 129)) }, "longer than the 128 characters"},
		{"no events", func(s *hooks.Spec) { s.Events = nil }, "no events"},
		{"GitHub's name", func(s *hooks.Spec) { s.Events = []string{"push"} }, "not a Bitbucket event key"},
		{"header form", func(s *hooks.Spec) { s.Events = []string{"repo:push", "Repo:Push "} }, "not a Bitbucket event key"},
		{"no url", func(s *hooks.Spec) { s.URL = "" }, "URL is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			p := f.provider(Options{})
			s := base
			s.Events = slices.Clone(base.Events)
			tc.edit(&s)
			if _, err := p.Create(t.Context(), apiRepo, s); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Create = %v, want %q", err, tc.want)
			}
			if err := p.Update(t.Context(), apiRepo, uuid(7), s); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Update = %v, want %q", err, tc.want)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
	// The longest secret Bitbucket keeps is taken.
	f := newFake(t)
	s := base
	s.Secret = []byte(strings.Repeat("é", 128))
	if _, err := f.provider(Options{}).Create(t.Context(), apiRepo, s); err != nil {
		t.Errorf("Create with a 128-character secret = %v", err)
	}
}

func TestAnswerChecked(t *testing.T) {
	t.Parallel()
	id := uuid(9)
	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"an event dropped", `{"uuid":"` + id + `","url":"https://reflex.example.com/hooks/ci","active":true,"events":["repo:push"],"secret_set":true}`, "did not turn on event(s) pullrequest:created"},
		{"no secret set", `{"uuid":"` + id + `","url":"https://reflex.example.com/hooks/ci","active":true,"events":["pullrequest:created","repo:push"],"secret_set":false}`, "no secret set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.answerOnce("POST /2.0/"+apiScope+"/hooks", canned{status: 201, body: tc.body})
			f.answerOnce("PUT /2.0/"+apiScope+"/hooks/"+esc(id), canned{status: 200, body: tc.body})
			p := f.provider(Options{})
			s := spec("https://reflex.example.com/hooks/ci", "repo:push", "pullrequest:created")
			h, err := p.Create(t.Context(), apiRepo, s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Create = %v, want %q", err, tc.want)
			}
			if h.ID != id {
				t.Errorf("the created hook's id = %q, want %s", h.ID, id)
			}
			if err := p.Update(t.Context(), apiRepo, id, s); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Update = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestTargetRefused(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := f.provider(Options{})
	for _, target := range []hooks.Target{
		{Provider: "github", Kind: hooks.KindRepository, Name: "acme/api"},
		{Provider: Name, Kind: hooks.KindProject, Name: "acme/api"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "acme"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "acme/api/x"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "acme/api?x=1"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "../api"},
		{Provider: Name, Kind: hooks.KindOrganization, Name: ""},
		{Provider: Name, Kind: hooks.KindOrganization, Name: "acme/api"},
	} {
		if _, err := p.List(t.Context(), target); err == nil {
			t.Errorf("List(%v) succeeded", target)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	var elsewhere []string
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		elsewhere = append(elsewhere, r.Header.Get("Authorization"))
		writeJSON(w, http.StatusOK, map[string]any{"values": []any{}})
	}))
	t.Cleanup(other.Close)

	f := newFake(t)
	id := f.addHook(apiScope, "https://reflex.example.com/hooks/ci", []string{"repo:push"}, true)
	p := f.provider(Options{})

	f.answerOnce("GET /2.0/"+apiScope+"/hooks", canned{status: 302, header: map[string]string{"Location": other.URL + "/2.0/" + apiScope + "/hooks"}})
	if _, err := p.List(t.Context(), apiRepo); err == nil || !strings.Contains(err.Error(), "refused a redirect") {
		t.Errorf("List redirected elsewhere = %v, want it refused", err)
	}
	mu.Lock()
	if len(elsewhere) != 0 {
		t.Errorf("the other host got %d requests", len(elsewhere))
	}
	mu.Unlock()

	// A redirect on the same host is followed, with the credentials.
	f.answerOnce("GET /2.0/"+apiScope+"/hooks", canned{status: 301, header: map[string]string{"Location": f.srv.URL + "/2.0/" + apiScope + "/hooks?pagelen=100"}})
	got, err := p.List(t.Context(), apiRepo)
	if err != nil || len(got) != 1 || got[0].ID != id {
		t.Errorf("List redirected on the same host = %v, %v", got, err)
	}

	// A redirect of a change is not followed.
	f.answerOnce("DELETE /2.0/"+apiScope+"/hooks/"+esc(id), canned{status: 307, header: map[string]string{"Location": f.srv.URL + "/2.0/" + apiScope + "/hooks/" + esc(id)}})
	if err := p.Delete(t.Context(), apiRepo, id); err == nil || !strings.Contains(err.Error(), "redirect of a DELETE") {
		t.Errorf("Delete redirected = %v, want it refused", err)
	}
	if f.hook(apiScope, id) == nil {
		t.Error("the redirected DELETE deleted the hook")
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	basic := Options{Username: testUser, Token: "t"}
	with := func(o Options, base string) Options { o.BaseURL = base; return o }
	for _, tc := range []struct {
		name string
		o    Options
		base string
		err  string
	}{
		{"default, API token", basic, "https://api.bitbucket.org/2.0", ""},
		{"access token", Options{AccessToken: "a"}, "https://api.bitbucket.org/2.0", ""},
		{"API URL with a slash", with(basic, "https://api.bitbucket.org/2.0/"), "https://api.bitbucket.org/2.0", ""},
		{"host only", with(basic, "https://api.bitbucket.org"), "https://api.bitbucket.org/2.0", ""},
		{"proxy prefix", with(basic, "https://proxy.example.com/bitbucket/"), "https://proxy.example.com/bitbucket/2.0", ""},
		{"loopback http", with(basic, "http://127.0.0.1:8080"), "http://127.0.0.1:8080/2.0", ""},
		{"no credentials", Options{}, "", "a credential is required"},
		{"username alone", Options{Username: testUser}, "", "a credential is required"},
		{"token without username", Options{Token: "t"}, "", "needs its username"},
		{"both", Options{Username: testUser, Token: "t", AccessToken: "a"}, "", "not both"},
		{"username with an access token", Options{Username: testUser, AccessToken: "a"}, "", "not both"},
		{"token with a space", Options{Username: testUser, Token: "a b"}, "", "white space"},
		{"username with a colon", Options{Username: "a:b", Token: "t"}, "", "colon"},
		{"plain http", with(basic, "http://api.bitbucket.org"), "", "plain http"},
		{"not a URL", with(basic, "api.bitbucket.org"), "", "not an http(s) URL"},
		{"query", with(basic, "https://api.bitbucket.org/2.0?a=b"), "", "not an http(s) URL"},
		{"credentials in it", with(basic, "https://u:p@api.bitbucket.org/2.0"), "", "not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := New(tc.o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("New = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.base != tc.base || p.client.Timeout != DefaultTimeout || p.retries != DefaultRetries || p.Name() != Name {
				t.Errorf("base %q timeout %s retries %d name %q", p.base, p.client.Timeout, p.retries, p.Name())
			}
		})
	}
	p, err := New(Options{AccessToken: "a", Name: "bitbucket-acme", Timeout: time.Second, Retries: -1})
	if err != nil || p.Name() != "bitbucket-acme" || p.client.Timeout != time.Second || p.retries != 0 {
		t.Errorf("New with options = %+v, %v", p, err)
	}
}

func TestNoRequestAfterCancel(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.provider(Options{}).List(ctx, apiRepo); !errors.Is(err, context.Canceled) {
		t.Errorf("List = %v, want context.Canceled", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
