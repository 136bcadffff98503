package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

const testSecret = "s3cret-for-hooks"

var (
	apiRepo   = hooks.Target{Provider: Name, Kind: hooks.KindRepository, Name: "acme/api"}
	apiScope  = "repos/acme/api"
	acmeOrg   = hooks.Target{Provider: Name, Kind: hooks.KindOrganization, Name: "acme"}
	acmeScope = "orgs/acme"
)

// spec returns a Spec with the test secret.
func spec(hookURL, contentType string, events ...string) hooks.Spec {
	return hooks.Spec{URL: hookURL, Events: events, ContentType: contentType, Secret: []byte(testSecret)}
}

func TestListEveryPage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		noTotal bool
		target  hooks.Target
		scope   string
		pages   int
	}{
		{"X-Total-Count, repository", false, apiRepo, apiScope, 3},
		{"until an empty page, repository", true, apiRepo, apiScope, 4},
		{"X-Total-Count, organization", false, acmeOrg, acmeScope, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.noTotal = tc.noTotal
			id1 := f.addHook(tc.scope, "gitea", "https://reflex.example.com/hooks/ci", "json", []string{"push", "pull_request"}, true)
			id2 := f.addHook(tc.scope, "slack", "https://hooks.slack.example.com/x", "json", []string{"push"}, true)
			id3 := f.addHook(tc.scope, "gitea", "https://reflex.example.com/hooks/forms", "form", []string{"issues", "create"}, false)
			id4 := f.addHook(tc.scope, "forgejo", "https://reflex.example.com/hooks/only", "json", []string{"issues_only", "pull_request_only", "release"}, true)
			id5 := f.addHook(tc.scope, "gitea", "https://reflex.example.com/hooks/new", "json", []string{"workflow_run", "issue_comment", "pull_request_sync"}, true)

			got, err := f.provider(Options{}).List(t.Context(), tc.target)
			if err != nil {
				t.Fatal(err)
			}
			want := []hooks.Hook{
				{ID: id1, URL: "https://reflex.example.com/hooks/ci", Events: []string{"pull_request", "push"}, ContentType: "json", Active: true},
				{ID: id2, URL: "https://hooks.slack.example.com/x", Events: []string{"push"}, ContentType: "json", Active: true},
				{ID: id3, URL: "https://reflex.example.com/hooks/forms", Events: []string{"create", "issues"}, ContentType: "form", Active: false},
				{ID: id4, URL: "https://reflex.example.com/hooks/only", Events: []string{"issues_only", "pull_request_only", "release"}, ContentType: "json", Active: true},
				{ID: id5, URL: "https://reflex.example.com/hooks/new", Events: []string{"issue_comment", "pull_request_sync", "workflow_run"}, ContentType: "json", Active: true},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
			var wantReqs []string
			for page := 1; page <= tc.pages; page++ {
				wantReqs = append(wantReqs, fmt.Sprintf("GET /api/v1/%s/hooks?limit=50&page=%d", tc.scope, page))
			}
			if diff := cmp.Diff(wantReqs, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		listed []string
		want   []string
	}{
		{"plain", []string{"release", "push", "create"}, []string{"create", "push", "release"}},
		{"issues", []string{"issue_comment", "issues", "issue_milestone", "issue_label", "issue_assign", "push"}, []string{"issues", "push"}},
		{"issues alone", []string{"issues"}, []string{"issues_only"}},
		{"issues and one of its events", []string{"issues", "issue_comment"}, []string{"issue_comment", "issues_only"}},
		{"pull requests, Gitea 1.2x", []string{"pull_request", "pull_request_assign", "pull_request_label", "pull_request_milestone", "pull_request_comment", "pull_request_review", "pull_request_sync", "pull_request_review_request"}, []string{"pull_request"}},
		{"pull requests, older", []string{"pull_request", "pull_request_assign", "pull_request_label", "pull_request_milestone", "pull_request_comment", "pull_request_review_approved", "pull_request_review_rejected", "pull_request_review_comment", "pull_request_sync"}, []string{"pull_request"}},
		{"pull request alone", []string{"pull_request", "push"}, []string{"pull_request_only", "push"}},
		{"reviews, older", []string{"pull_request_review_approved", "pull_request_review_rejected", "pull_request_review_comment"}, []string{"pull_request_review"}},
		{"comments, older", []string{"pull_request_comment", "pull_request_review_comment"}, []string{"pull_request_comment"}},
		{"none", nil, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, normalizeEvents(tc.listed)); diff != "" {
				t.Errorf("normalizeEvents(%v) (-want +got):\n%s", tc.listed, diff)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		hookType string
		target   hooks.Target
		scope    string
		spec     hooks.Spec
	}{
		{"repository, json", "", apiRepo, apiScope, spec("https://reflex.example.com/hooks/ci", "json", "pull_request", "push")},
		{"repository, form, forgejo", TypeForgejo, apiRepo, apiScope, spec("https://reflex.example.com/hooks/ci", "form", "create", "delete", "issues")},
		{"organization, default content type", "", acmeOrg, acmeScope, spec("https://reflex.example.com/hooks/ci", "", "issues_only", "release")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.hookType = cmpOr(tc.hookType, TypeGitea)
			h, err := f.provider(Options{HookType: tc.hookType}).Create(t.Context(), tc.target, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			wantCT := cmpOr(tc.spec.ContentType, "json")
			want := hooks.Hook{ID: h.ID, URL: tc.spec.URL, Events: tc.spec.Events, ContentType: wantCT, Active: true}
			if diff := cmp.Diff(want, h); diff != "" {
				t.Errorf("Create (-want +got):\n%s", diff)
			}
			stored := f.hook(tc.scope, h.ID)
			if stored == nil {
				t.Fatalf("no hook %s at %s", h.ID, tc.scope)
			}
			if stored.secret != testSecret || stored.Config["url"] != tc.spec.URL || stored.Config["content_type"] != wantCT || !stored.Active || stored.Type != f.hookType {
				t.Errorf("stored %+v", stored)
			}
			if diff := cmp.Diff([]string{"POST /api/v1/" + tc.scope + "/hooks"}, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		active bool
		spec   hooks.Spec
	}{
		{"events changed", true, spec("https://reflex.example.com/hooks/ci", "json", "pull_request", "release")},
		{"url changed", true, spec("https://reflex.example.com/hooks/cd", "json", "push")},
		{"content type changed", true, spec("https://reflex.example.com/hooks/ci", "form", "push")},
		{"inactive", false, spec("https://reflex.example.com/hooks/ci", "json", "push")},
		{"secret and events changed", true, hooks.Spec{URL: "https://reflex.example.com/hooks/ci", Events: []string{"issues"}, ContentType: "json", Secret: []byte("rotated")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			id := f.addHook(apiScope, "gitea", "https://reflex.example.com/hooks/ci", "json", []string{"push"}, tc.active)
			if err := f.provider(Options{}).Update(t.Context(), apiRepo, id, tc.spec); err != nil {
				t.Fatal(err)
			}
			stored := f.hook(apiScope, id)
			if got := normalizeEvents(stored.Events); !slices.Equal(got, tc.spec.Events) {
				t.Errorf("events = %v, want %v", got, tc.spec.Events)
			}
			if stored.Config["url"] != tc.spec.URL || stored.Config["content_type"] != tc.spec.ContentType || !stored.Active {
				t.Errorf("stored %+v", stored)
			}
			if diff := cmp.Diff([]string{string(tc.spec.Secret)}, f.patchedSecrets()); diff != "" {
				t.Errorf("secrets sent (-want +got):\n%s", diff)
			}
			path := "/api/v1/" + apiScope + "/hooks/" + id
			if diff := cmp.Diff([]string{"GET " + path, "PATCH " + path}, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateOnlySecret(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	id := f.addHook(apiScope, "gitea", "https://reflex.example.com/hooks/ci", "json", []string{"push", "issues"}, true)
	err := f.provider(Options{}).Update(t.Context(), apiRepo, id, spec("https://reflex.example.com/hooks/ci", "json", "issues", "push"))
	if !errors.Is(err, ErrSecretUnchangeable) {
		t.Fatalf("Update = %v, want ErrSecretUnchangeable", err)
	}
	if diff := cmp.Diff([]string{"GET /api/v1/" + apiScope + "/hooks/" + id}, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestReplace(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	old := f.addHook(apiScope, "gitea", "https://reflex.example.com/hooks/ci", "json", []string{"push"}, true)
	h, err := f.provider(Options{}).Replace(t.Context(), apiRepo, old, spec("https://reflex.example.com/hooks/ci", "json", "push"))
	if err != nil {
		t.Fatal(err)
	}
	if h.ID == old || f.hook(apiScope, old) != nil {
		t.Errorf("hook %s not replaced: new %s", old, h.ID)
	}
	if n := f.hook(apiScope, h.ID); n == nil || n.secret != testSecret {
		t.Errorf("new hook %+v", n)
	}
	want := []string{"POST /api/v1/" + apiScope + "/hooks", "DELETE /api/v1/" + apiScope + "/hooks/" + old}
	if diff := cmp.Diff(want, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	keep := f.addHook(acmeScope, "gitea", "https://elsewhere.example.com/x", "json", []string{"push"}, true)
	gone := f.addHook(acmeScope, "gitea", "https://reflex.example.com/hooks/ci", "json", []string{"push"}, true)
	p := f.provider(Options{})
	if err := p.Delete(t.Context(), acmeOrg, gone); err != nil {
		t.Fatal(err)
	}
	if f.hook(acmeScope, gone) != nil || f.hook(acmeScope, keep) == nil {
		t.Errorf("after Delete: hook %s kept or hook %s gone", gone, keep)
	}
	if err := p.Delete(t.Context(), acmeOrg, gone); statusOf(err) != http.StatusNotFound || !strings.Contains(err.Error(), "own the organization") {
		t.Errorf("deleting again = %v, want a 404", err)
	}
	if err := p.Delete(t.Context(), acmeOrg, "1/../2"); err == nil || len(f.requests()) != 2 {
		t.Errorf("Delete of a bad id = %v after %d requests; want an error and no request", err, len(f.requests()))
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	id := f.addHook(apiScope, "gitea", "https://reflex.example.com/hooks/ci", "json", []string{"push"}, true)
	org := f.addHook(acmeScope, "gitea", "https://reflex.example.com/hooks/ci", "json", []string{"push"}, true)
	p := f.provider(Options{})
	if err := p.Ping(t.Context(), apiRepo, id); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{apiScope + " " + id}, f.testDeliveries()); diff != "" {
		t.Errorf("test deliveries (-want +got):\n%s", diff)
	}
	if err := p.Ping(t.Context(), acmeOrg, org); err == nil || !strings.Contains(err.Error(), "repository hooks only") {
		t.Errorf("Ping of an organization hook = %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestRateLimitWaitedOut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		answer canned
	}{
		{"429 Retry-After", canned{status: 429, header: map[string]string{"Retry-After": "1"}, body: "Too Many Requests"}},
		{"429 X-RateLimit-Reset", canned{status: 429, header: map[string]string{"X-RateLimit-Reset": "1"}}},
		{"403 Retry-After", canned{status: 403, header: map[string]string{"Retry-After": "1"}, body: `{"message":"slow down"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			id := f.addHook(apiScope, "gitea", "https://reflex.example.com/hooks/ci", "json", []string{"push"}, true)
			f.answerOnce("GET /api/v1/"+apiScope+"/hooks", tc.answer)
			var mu sync.Mutex
			var lines []string
			ctx := hooks.WithProgress(t.Context(), func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				lines = append(lines, fmt.Sprintf(format, args...))
			})
			start := time.Now()
			got, err := f.provider(Options{}).List(ctx, apiRepo)
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
			f.answerOnce("GET /api/v1/"+apiScope+"/hooks", tc.answer)
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
		{"wrong token", "gitea-wrong-token", apiRepo, "", nil, []string{"401", "invalid, expired or revoked"}},
		{"repository scope", "", apiRepo, "POST /api/v1/" + apiScope + "/hooks", &canned{status: 403, body: `{"message":"token does not have at least one of required scope(s): [write:repository]"}`}, []string{"403", "write:repository", "admin rights on acme/api"}},
		{"organization scope", "", acmeOrg, "POST /api/v1/" + acmeScope + "/hooks", &canned{status: 403, body: `{"message":"token does not have at least one of required scope(s): [write:organization]"}`}, []string{"write:organization", "own organization acme"}},
		{"unknown repository", "", apiRepo, "POST /api/v1/" + apiScope + "/hooks", &canned{status: 404, body: `{"errors":["repository does not exist"],"message":"The target couldn't be found."}`}, []string{"repository does not exist", "no such repository"}},
		{"secret echoed", "", apiRepo, "POST /api/v1/" + apiScope + "/hooks", &canned{status: 422, body: `{"message":"secret ` + testSecret + ` rejected for ` + testToken + `"}`}, []string{"[REDACTED] rejected for [REDACTED]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			if tc.answer != nil {
				f.answerOnce(tc.key, *tc.answer)
			}
			_, err := f.provider(Options{Token: tc.token}).Create(t.Context(), tc.target, spec("https://reflex.example.com/hooks/ci", "json", "push"))
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
	base := spec("https://reflex.example.com/hooks/ci", "json", "push")
	for _, tc := range []struct {
		name string
		edit func(*hooks.Spec)
		want string
	}{
		{"content type", func(s *hooks.Spec) { s.ContentType = "xml" }, "neither json nor form"},
		{"no secret", func(s *hooks.Spec) { s.Secret = nil }, "secret is empty"},
		{"binary secret", func(s *hooks.Spec) { s.Secret = []byte{0xff, 'a'} }, "not UTF-8"},
		{"no events", func(s *hooks.Spec) { s.Events = nil }, "no events"},
		{"not a name", func(s *hooks.Spec) { s.Events = []string{"Push"} }, "not a Gitea event name"},
		{"issues twice", func(s *hooks.Spec) { s.Events = []string{"issue_comment", "issues"} }, `"issue_comment" is part of "issues"`},
		{"pull requests twice", func(s *hooks.Spec) { s.Events = []string{"pull_request", "pull_request_sync"} }, `"pull_request_sync" is part of "pull_request"`},
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
			if err := p.Update(t.Context(), apiRepo, "7", s); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Update = %v, want %q", err, tc.want)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

func TestEventsGiteaIgnored(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	h, err := f.provider(Options{}).Create(t.Context(), apiRepo, spec("https://reflex.example.com/hooks/ci", "json", "action_run_failure", "push"))
	if err == nil || !strings.Contains(err.Error(), "did not turn on event(s) action_run_failure") {
		t.Errorf("Create = %v, want the event Gitea ignored", err)
	}
	if h.ID == "" || f.hook(apiScope, h.ID) == nil {
		t.Errorf("the created hook %q is not returned", h.ID)
	}
}

func TestTargetRefused(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := f.provider(Options{})
	for _, target := range []hooks.Target{
		{Provider: "gitlab", Kind: hooks.KindRepository, Name: "acme/api"},
		{Provider: Name, Kind: hooks.KindProject, Name: "acme/api"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "acme"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "acme/api/x"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "../api"},
		{Provider: Name, Kind: hooks.KindOrganization, Name: "ac me"},
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
	var mu sync.Mutex
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		elsewhere = append(elsewhere, r.Header.Get("Authorization"))
		writeJSON(w, http.StatusOK, []any{})
	}))
	t.Cleanup(other.Close)

	f := newFake(t)
	id := f.addHook(apiScope, "gitea", "https://reflex.example.com/hooks/ci", "json", []string{"push"}, true)
	p := f.provider(Options{})

	f.answerOnce("GET /api/v1/"+apiScope+"/hooks", canned{status: 302, header: map[string]string{"Location": other.URL + "/api/v1/" + apiScope + "/hooks"}})
	if _, err := p.List(t.Context(), apiRepo); err == nil || !strings.Contains(err.Error(), "refused a redirect") {
		t.Errorf("List redirected elsewhere = %v, want it refused", err)
	}
	mu.Lock()
	if len(elsewhere) != 0 {
		t.Errorf("the other host got %d requests", len(elsewhere))
	}
	mu.Unlock()

	f.answerOnce("GET /api/v1/"+apiScope+"/hooks", canned{status: 301, header: map[string]string{"Location": f.srv.URL + "/api/v1/" + apiScope + "/hooks?limit=50&page=1"}})
	got, err := p.List(t.Context(), apiRepo)
	if err != nil || len(got) != 1 || got[0].ID != id {
		t.Errorf("List redirected on the same host = %v, %v", got, err)
	}

	f.answerOnce("DELETE /api/v1/"+apiScope+"/hooks/"+id, canned{status: 308, header: map[string]string{"Location": f.srv.URL + "/api/v1/" + apiScope + "/hooks/" + id}})
	if err := p.Delete(t.Context(), apiRepo, id); err == nil || !strings.Contains(err.Error(), "redirect of a DELETE") {
		t.Errorf("Delete redirected = %v, want it refused", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		o        Options
		base     string
		hookType string
		err      string
	}{
		{"instance", Options{Token: "t", BaseURL: "https://gitea.example.com/"}, "https://gitea.example.com", TypeGitea, ""},
		{"API URL given", Options{Token: "t", BaseURL: "https://codeberg.org/api/v1"}, "https://codeberg.org", TypeGitea, ""},
		{"path prefix, forgejo", Options{Token: "t", BaseURL: "https://example.com/git", HookType: TypeForgejo}, "https://example.com/git", TypeForgejo, ""},
		{"loopback http", Options{Token: "t", BaseURL: "http://localhost:3000"}, "http://localhost:3000", TypeGitea, ""},
		{"no base URL", Options{Token: "t"}, "", "", "base URL is required"},
		{"no token", Options{BaseURL: "https://gitea.example.com"}, "", "", "token is required"},
		{"token with a line break", Options{Token: "a\n", BaseURL: "https://gitea.example.com"}, "", "", "white space"},
		{"plain http", Options{Token: "t", BaseURL: "http://gitea.example.com"}, "", "", "plain http"},
		{"user info", Options{Token: "t", BaseURL: "https://u:p@gitea.example.com"}, "", "", "not an http(s) URL"},
		{"hook type", Options{Token: "t", BaseURL: "https://gitea.example.com", HookType: "slack"}, "", "", "neither"},
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
			if p.base != tc.base || p.hookType != tc.hookType || p.client.Timeout != DefaultTimeout || p.retries != DefaultRetries || p.Name() != Name {
				t.Errorf("base %q type %q timeout %s retries %d name %q", p.base, p.hookType, p.client.Timeout, p.retries, p.Name())
			}
		})
	}
	p, err := New(Options{Token: "t", BaseURL: "https://codeberg.org", Name: "codeberg", Timeout: time.Second, Retries: 7})
	if err != nil || p.Name() != "codeberg" || p.client.Timeout != time.Second || p.retries != 7 {
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
}
