package gitlab

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
	apiProject = hooks.Target{Provider: Name, Kind: hooks.KindProject, Name: "acme/sub/api"}
	apiScope   = "projects/" + url.PathEscape("acme/sub/api")
	acmeGroup  = hooks.Target{Provider: Name, Kind: hooks.KindGroup, Name: "acme"}
	acmeScope  = "groups/acme"
)

// spec returns a Spec with the test secret.
func spec(hookURL string, events ...string) hooks.Spec {
	return hooks.Spec{URL: hookURL, Events: events, ContentType: hooks.ContentJSON, Secret: []byte(testSecret)}
}

func TestListEveryPage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		linkOnly bool
		target   hooks.Target
		scope    string
	}{
		{"X-Next-Page, project", false, apiProject, apiScope},
		{"Link header, project", true, apiProject, apiScope},
		{"X-Next-Page, group", false, acmeGroup, acmeScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.linkOnly = tc.linkOnly
			id1 := f.addHook(tc.scope, "https://reflex.example.com/hooks/ci", []string{"push", "merge_requests"}, nil)
			id2 := f.addHook(tc.scope, "https://elsewhere.example.com/ci", []string{"pipeline"}, nil)
			id3 := f.addHook(tc.scope, "https://reflex.example.com/hooks/tmp", []string{"job", "deployment"},
				map[string]any{"alert_status": "temporarily_disabled", "disabled_until": "2024-05-20T10:00:00.000+02:00"})
			id4 := f.addHook(tc.scope, "https://reflex.example.com/hooks/old", []string{"tag_push"}, map[string]any{"alert_status": "disabled"})
			id5 := f.addHook(tc.scope, "https://reflex.example.com/hooks/new", []string{"releases", "wiki_page", "member"}, nil)

			got, err := f.provider(Options{}).List(t.Context(), tc.target)
			if err != nil {
				t.Fatal(err)
			}
			want := []hooks.Hook{
				{ID: id1, URL: "https://reflex.example.com/hooks/ci", Events: []string{"merge_requests", "push"}, ContentType: "json", Active: true, LastStatus: "executable"},
				{ID: id2, URL: "https://elsewhere.example.com/ci", Events: []string{"pipeline"}, ContentType: "json", Active: true, LastStatus: "executable"},
				{ID: id3, URL: "https://reflex.example.com/hooks/tmp", Events: []string{"deployment", "job"}, ContentType: "json", Active: true, LastStatus: "temporarily_disabled until 2024-05-20T08:00:00Z"},
				{ID: id4, URL: "https://reflex.example.com/hooks/old", Events: []string{"tag_push"}, ContentType: "json", Active: false, LastStatus: "disabled"},
				{ID: id5, URL: "https://reflex.example.com/hooks/new", Events: []string{"member", "releases", "wiki_page"}, ContentType: "json", Active: true, LastStatus: "executable"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
			var wantReqs []string
			for page := 1; page <= 3; page++ {
				wantReqs = append(wantReqs, fmt.Sprintf("GET /api/v4/%s/hooks?page=%d&per_page=100", tc.scope, page))
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
	got, err := f.provider(Options{}).List(t.Context(), apiProject)
	if err != nil || len(got) != 0 {
		t.Fatalf("List = %v, %v; want nothing", got, err)
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		target hooks.Target
		scope  string
		events []string
	}{
		{"project", apiProject, apiScope, []string{"merge_requests", "push", "tag_push"}},
		{"group", acmeGroup, acmeScope, []string{"member", "pipeline"}},
		{"newer event than the table", apiProject, apiScope, []string{"push", "work_item"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			p := f.provider(Options{})
			h, err := p.Create(t.Context(), tc.target, spec("https://reflex.example.com/hooks/ci", tc.events...))
			if err != nil {
				t.Fatal(err)
			}
			want := hooks.Hook{ID: h.ID, URL: "https://reflex.example.com/hooks/ci", Events: tc.events, ContentType: "json", Active: true, LastStatus: "executable"}
			if diff := cmp.Diff(want, h); diff != "" {
				t.Errorf("Create (-want +got):\n%s", diff)
			}
			stored := f.hook(tc.scope, h.ID)
			if stored == nil {
				t.Fatalf("no hook %s at %s", h.ID, tc.scope)
			}
			if stored["url"] != "https://reflex.example.com/hooks/ci" || stored["enable_ssl_verification"] != true {
				t.Errorf("stored url %v, ssl %v", stored["url"], stored["enable_ssl_verification"])
			}
			for _, e := range slices.Concat(knownEvents, tc.events) {
				if got, want := stored[e+"_events"], slices.Contains(tc.events, e); got != want {
					t.Errorf("%s_events = %v, want %v", e, got, want)
				}
			}
			if got := f.token(h.ID); got != testSecret {
				t.Errorf("token = %q, want the secret", got)
			}
			if diff := cmp.Diff([]string{"POST /api/v4/" + tc.scope + "/hooks"}, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		spec   hooks.Spec
		events []string
		token  string
	}{
		{"events changed", spec("https://reflex.example.com/hooks/ci", "pipeline", "push"), []string{"pipeline", "push"}, testSecret},
		{"secret changed", hooks.Spec{URL: "https://reflex.example.com/hooks/ci", Events: []string{"merge_requests", "push"}, Secret: []byte("rotated-secret")}, []string{"merge_requests", "push"}, "rotated-secret"},
		{"url changed", spec("https://reflex.example.com/hooks/cd", "merge_requests", "push"), []string{"merge_requests", "push"}, testSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			id := f.addHook(apiScope, "https://reflex.example.com/hooks/ci", []string{"push", "merge_requests"}, nil)
			f.setToken(id, "old-secret")
			if err := f.provider(Options{}).Update(t.Context(), apiProject, id, tc.spec); err != nil {
				t.Fatal(err)
			}
			stored := f.hook(apiScope, id)
			if stored["url"] != tc.spec.URL {
				t.Errorf("url = %v, want %s", stored["url"], tc.spec.URL)
			}
			for _, e := range knownEvents {
				if got, want := stored[e+"_events"], slices.Contains(tc.events, e); got != want {
					t.Errorf("%s_events = %v, want %v", e, got, want)
				}
			}
			if f.token(id) != tc.token {
				t.Errorf("token = %q, want %q", f.token(id), tc.token)
			}
			if diff := cmp.Diff([]string{"PUT /api/v4/" + apiScope + "/hooks/" + id}, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateDisabledHook(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	id := f.addHook(apiScope, "https://reflex.example.com/hooks/ci", []string{"push"}, map[string]any{"alert_status": "disabled"})
	err := f.provider(Options{}).Update(t.Context(), apiProject, id, spec("https://reflex.example.com/hooks/ci", "push"))
	if !errors.Is(err, ErrDisabled) {
		t.Fatalf("Update = %v, want ErrDisabled", err)
	}
	if f.token(id) != testSecret {
		t.Errorf("the update was not sent: token %q", f.token(id))
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	keep := f.addHook(apiScope, "https://elsewhere.example.com/x", []string{"push"}, nil)
	gone := f.addHook(apiScope, "https://reflex.example.com/hooks/ci", []string{"push"}, nil)
	p := f.provider(Options{})
	if err := p.Delete(t.Context(), apiProject, gone); err != nil {
		t.Fatal(err)
	}
	if f.hook(apiScope, gone) != nil || f.hook(apiScope, keep) == nil {
		t.Errorf("after Delete: hook %s kept or hook %s gone", gone, keep)
	}
	if err := p.Delete(t.Context(), apiProject, gone); statusOf(err) != http.StatusNotFound {
		t.Errorf("deleting again = %v, want a 404", err)
	}
	if err := p.Delete(t.Context(), apiProject, "../../x"); err == nil || len(f.requests()) != 2 {
		t.Errorf("Delete of a bad id = %v after %d requests; want an error and no request", err, len(f.requests()))
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		events  []string
		trigger string
	}{
		{"push", []string{"merge_requests", "push"}, "push_events"},
		{"first testable", []string{"deployment", "pipeline", "merge_requests"}, "merge_requests_events"},
		{"none testable", []string{"deployment"}, "push_events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			id := f.addHook(apiScope, "https://reflex.example.com/hooks/ci", tc.events, nil)
			if err := f.provider(Options{}).Ping(t.Context(), apiProject, id); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{apiScope + " " + id + " " + tc.trigger}, f.testDeliveries()); diff != "" {
				t.Errorf("test deliveries (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("failed delivery", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		id := f.addHook(acmeScope, "https://reflex.example.com/hooks/ci", []string{"push"}, nil)
		f.answerOnce("POST /api/v4/"+acmeScope+"/hooks/"+id+"/test/push_events", canned{status: 422, body: `{"message":"Hook execution failed: Failed to open TCP connection"}`})
		err := f.provider(Options{}).Ping(t.Context(), acmeGroup, id)
		if err == nil || !strings.Contains(err.Error(), "test delivery") || !strings.Contains(err.Error(), "Failed to open TCP connection") {
			t.Errorf("Ping = %v, want the failed test delivery", err)
		}
	})
}

func TestRateLimitWaitedOut(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		answer canned
	}{
		{"429 Retry-After", canned{status: 429, header: map[string]string{"Retry-After": "1"}, body: `{"message":"429 Too Many Requests"}`}},
		{"429 RateLimit-Reset", canned{status: 429, header: map[string]string{"RateLimit-Reset": strconv.FormatInt(now.Add(time.Second).Unix(), 10)}, body: "Retry later"}},
		{"403 Retry-After", canned{status: 403, header: map[string]string{"Retry-After": "1"}, body: `{"message":"403 Forbidden"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			id := f.addHook(apiScope, "https://reflex.example.com/hooks/ci", []string{"push"}, nil)
			f.answerOnce("GET /api/v4/"+apiScope+"/hooks", tc.answer)
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
			got, err := p.List(ctx, apiProject)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != id {
				t.Errorf("List = %v", got)
			}
			if waited := time.Since(start); waited < 900*time.Millisecond {
				t.Errorf("waited %s, want about 1s", waited)
			}
			if n := len(f.requests()); n != 2 {
				t.Errorf("%d requests, want the first and its retry", n)
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.answerOnce("GET /api/v4/"+apiScope+"/hooks", tc.answer)
			_, err := f.provider(Options{Retries: tc.retries}).List(t.Context(), apiProject)
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
	}{
		{"422 project", apiProject, apiScope, canned{status: 422, body: `{"message":{"base":["Maximum number of project hooks (100) exceeded"]}}`}, true},
		{"404 older GitLab", apiProject, apiScope, canned{status: 404, body: `{"message":"404 Project hook {:base=>[\"Maximum number of project hooks (100) exceeded\"]} Not Found"}`}, true},
		{"422 group", acmeGroup, acmeScope, canned{status: 422, body: `{"message":{"base":["Maximum number of group hooks (50) exceeded"]}}`}, true},
		{"422 invalid url", apiProject, apiScope, canned{status: 422, body: `{"message":"Invalid url given"}`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.answerOnce("POST /api/v4/"+tc.scope+"/hooks", tc.answer)
			_, err := f.provider(Options{}).Create(t.Context(), tc.target, spec("https://reflex.example.com/hooks/ci", "push"))
			if err == nil {
				t.Fatal("Create succeeded")
			}
			if errors.Is(err, hooks.ErrLimit) != tc.limit {
				t.Errorf("errors.Is(%v, ErrLimit) = %v, want %v", err, !tc.limit, tc.limit)
			}
			if tc.limit && !strings.Contains(err.Error(), tc.target.Name) {
				t.Errorf("error %q does not name %s", err, tc.target.Name)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		token  string
		target hooks.Target
		key    string
		answer *canned
		want   []string
	}{
		{"wrong token", "glpat-wrong-token", apiProject, "", nil, []string{"401", "invalid, expired or revoked"}},
		{"forbidden", "", apiProject, "POST /api/v4/" + apiScope + "/hooks", &canned{status: 403, body: `{"message":"403 Forbidden"}`}, []string{"403", "api scope", "Maintainer"}},
		{"unknown project", "", apiProject, "POST /api/v4/" + apiScope + "/hooks", &canned{status: 404, body: `{"message":"404 Project Not Found"}`}, []string{"404 Project Not Found", "does not exist", "Maintainer"}},
		{"group hooks without Premium", "", acmeGroup, "POST /api/v4/" + acmeScope + "/hooks", &canned{status: 404, body: `{"message":"404 Not found"}`}, []string{"Premium", "Owner role on group acme"}},
		{"group hooks without Owner", "", acmeGroup, "POST /api/v4/" + acmeScope + "/hooks", &canned{status: 403, body: `{"message":"403 Forbidden"}`}, []string{"Premium", "Owner"}},
		{"secret echoed", "", apiProject, "POST /api/v4/" + apiScope + "/hooks", &canned{status: 400, body: `{"message":"token ` + testSecret + ` is invalid for ` + testToken + `"}`}, []string{"[REDACTED] is invalid for [REDACTED]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			if tc.answer != nil {
				f.answerOnce(tc.key, *tc.answer)
			}
			_, err := f.provider(Options{Token: tc.token}).Create(t.Context(), tc.target, spec("https://reflex.example.com/hooks/ci", "push"))
			if err == nil {
				t.Fatal("Create succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, secret := range []string{testSecret, testToken, tc.token} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds a secret", err)
				}
			}
		})
	}
}

func TestSpecRefused(t *testing.T) {
	t.Parallel()
	base := spec("https://reflex.example.com/hooks/ci", "push")
	for _, tc := range []struct {
		name string
		edit func(*hooks.Spec)
		want string
	}{
		{"form", func(s *hooks.Spec) { s.ContentType = hooks.ContentForm }, "JSON only"},
		{"no secret", func(s *hooks.Spec) { s.Secret = nil }, "secret is empty"},
		{"binary secret", func(s *hooks.Spec) { s.Secret = []byte{0xff, 0xfe, 'a'} }, "not UTF-8"},
		{"secret with a line break", func(s *hooks.Spec) { s.Secret = []byte("a\nb") }, "line break"},
		{"no events", func(s *hooks.Spec) { s.Events = nil }, "no events"},
		{"flag name", func(s *hooks.Spec) { s.Events = []string{"push_events"} }, `"push"`},
		{"not a name", func(s *hooks.Spec) { s.Events = []string{"Push Hook"} }, "not a GitLab event name"},
		{"no url", func(s *hooks.Spec) { s.URL = "" }, "URL is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			p := f.provider(Options{})
			s := base
			s.Events = slices.Clone(base.Events)
			tc.edit(&s)
			_, err := p.Create(t.Context(), apiProject, s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Create = %v, want %q", err, tc.want)
			}
			if err := p.Update(t.Context(), apiProject, "7", s); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Update = %v, want %q", err, tc.want)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

func TestEventsGitLabIgnored(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	// GitLab ignores a flag it does not know: its answer lacks it.
	f.answerOnce("POST /api/v4/"+apiScope+"/hooks", canned{status: 201, body: `{"id":7,"url":"https://reflex.example.com/hooks/ci","push_events":true,"alert_status":"executable"}`})
	h, err := f.provider(Options{}).Create(t.Context(), apiProject, spec("https://reflex.example.com/hooks/ci", "member", "push"))
	if err == nil || !strings.Contains(err.Error(), "did not turn on event(s) member") {
		t.Errorf("Create = %v, want the event GitLab ignored", err)
	}
	if h.ID != "7" {
		t.Errorf("the created hook's id = %q, want 7", h.ID)
	}
}

func TestTargetRefused(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := f.provider(Options{})
	for _, target := range []hooks.Target{
		{Provider: "github", Kind: hooks.KindProject, Name: "acme/api"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "acme/api"},
		{Provider: Name, Kind: hooks.KindProject, Name: "/acme/api"},
		{Provider: Name, Kind: hooks.KindProject, Name: "acme/api?x=1"},
		{Provider: Name, Kind: hooks.KindGroup, Name: ""},
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
		elsewhere = append(elsewhere, r.Header.Get("PRIVATE-TOKEN"))
		writeJSON(w, http.StatusOK, []any{})
	}))
	t.Cleanup(other.Close)

	f := newFake(t)
	id := f.addHook(apiScope, "https://reflex.example.com/hooks/ci", []string{"push"}, nil)
	p := f.provider(Options{})

	f.answerOnce("GET /api/v4/"+apiScope+"/hooks", canned{status: 302, header: map[string]string{"Location": other.URL + "/api/v4/" + apiScope + "/hooks"}})
	if _, err := p.List(t.Context(), apiProject); err == nil || !strings.Contains(err.Error(), "refused a redirect") {
		t.Errorf("List redirected elsewhere = %v, want it refused", err)
	}
	mu.Lock()
	if len(elsewhere) != 0 {
		t.Errorf("the other host got %d requests", len(elsewhere))
	}
	mu.Unlock()

	// A redirect on the same host is followed, with the token.
	f.answerOnce("GET /api/v4/"+apiScope+"/hooks", canned{status: 301, header: map[string]string{"Location": f.srv.URL + "/api/v4/" + apiScope + "/hooks?page=1&per_page=100"}})
	got, err := p.List(t.Context(), apiProject)
	if err != nil || len(got) != 1 || got[0].ID != id {
		t.Errorf("List redirected on the same host = %v, %v", got, err)
	}

	// A redirect of a change is not followed.
	f.answerOnce("DELETE /api/v4/"+apiScope+"/hooks/"+id, canned{status: 307, header: map[string]string{"Location": f.srv.URL + "/api/v4/" + apiScope + "/hooks/" + id}})
	if err := p.Delete(t.Context(), apiProject, id); err == nil || !strings.Contains(err.Error(), "redirect of a DELETE") {
		t.Errorf("Delete redirected = %v, want it refused", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    Options
		base string
		err  string
	}{
		{"default", Options{Token: "t"}, "https://gitlab.com", ""},
		{"self-managed", Options{Token: "t", BaseURL: "https://gitlab.example.com/"}, "https://gitlab.example.com", ""},
		{"API URL given", Options{Token: "t", BaseURL: "https://gitlab.example.com/api/v4/"}, "https://gitlab.example.com", ""},
		{"path prefix", Options{Token: "t", BaseURL: "https://example.com/gitlab"}, "https://example.com/gitlab", ""},
		{"loopback http", Options{Token: "t", BaseURL: "http://127.0.0.1:8080"}, "http://127.0.0.1:8080", ""},
		{"no token", Options{}, "", "token is required"},
		{"token with a space", Options{Token: "a b"}, "", "white space"},
		{"plain http", Options{Token: "t", BaseURL: "http://gitlab.example.com"}, "", "plain http"},
		{"not a URL", Options{Token: "t", BaseURL: "gitlab.example.com"}, "", "not an http(s) URL"},
		{"query", Options{Token: "t", BaseURL: "https://gitlab.example.com/?a=b"}, "", "not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
	p, err := New(Options{Token: "t", Name: "gitlab-internal", Timeout: time.Second, Retries: -1})
	if err != nil || p.Name() != "gitlab-internal" || p.client.Timeout != time.Second || p.retries != 0 {
		t.Errorf("New with options = %+v, %v", p, err)
	}
}

func TestNoRequestAfterCancel(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.provider(Options{}).List(ctx, apiProject); !errors.Is(err, context.Canceled) {
		t.Errorf("List = %v, want context.Canceled", err)
	}
}
