package quay

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

const (
	testSecret = "s3cret-for-hooks"
	ciURL      = "https://reflex.example.com/hooks/ci"
	notesPath  = "/api/v1/repository/acme/api/notification/"
)

var apiRepo = hooks.Target{Provider: Name, Kind: hooks.KindRepository, Name: "acme/api"}

// spec returns a Spec with the test secret.
func spec(hookURL string, events ...string) hooks.Spec {
	return hooks.Spec{URL: hookURL, Events: events, ContentType: hooks.ContentJSON, Secret: []byte(testSecret)}
}

// tokenURL returns the URL of a hook's notification for an event.
func tokenURL(hookURL, secret, event string) string {
	return hookURL + "/" + url.PathEscape(secret) + "?event=" + event
}

func TestList(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.addWebhook("acme/api", "repo_push", tokenURL(ciURL, testSecret, "repo_push"), 0)
	foreign := f.addWebhook("acme/api", "repo_push", "https://elsewhere.example.com/quay?key=x", 0)
	f.addWebhook("acme/api", "build_success", tokenURL(ciURL, testSecret, "build_success"), 2)
	f.addWebhook("acme/api", "build_failure", tokenURL("https://reflex.example.com/hooks/cd", "other-secret", "build_failure"), 3)
	email := f.add("acme/api", "repo_push", "email", map[string]any{"email": "ops@example.com"}, 0)
	slack := f.add("acme/api", "build_failure", "slack", map[string]any{"url": "https://hooks.slack.com/services/T/B/x"}, 0)
	f.addWebhook("acme/api", "repo_push", tokenURL("https://other-reflex.example.com/hooks/ci", "their-secret", "repo_push"), 0)
	handMade := f.addWebhook("acme/api", "repo_push", ciURL, 1)

	got, err := f.provider(Options{}).List(t.Context(), apiRepo)
	if err != nil {
		t.Fatal(err)
	}
	want := []hooks.Hook{
		{ID: ciURL, URL: ciURL, Events: []string{"build_success", "repo_push"}, ContentType: "json", Active: true, LastStatus: "build_success: 2 failed deliveries in a row"},
		{ID: foreign, URL: "https://elsewhere.example.com/quay?key=x", Events: []string{"repo_push"}, ContentType: "json", Active: true},
		{ID: "https://reflex.example.com/hooks/cd", URL: "https://reflex.example.com/hooks/cd", Events: []string{"build_failure"}, ContentType: "json", Active: false, LastStatus: "build_failure: disabled after 3 failed deliveries"},
		{ID: email, URL: "", Events: []string{"repo_push"}, ContentType: "json", Active: true},
		{ID: slack, URL: "", Events: []string{"build_failure"}, ContentType: "json", Active: true},
		{ID: "https://other-reflex.example.com/hooks/ci", URL: "https://other-reflex.example.com/hooks/ci", Events: []string{"repo_push"}, ContentType: "json", Active: true},
		{ID: handMade, URL: ciURL, Events: []string{"repo_push"}, ContentType: "json", Active: true, LastStatus: "repo_push: 1 failed delivery"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if s := fmt.Sprint(got); strings.Contains(s, testSecret) || strings.Contains(s, "other-secret") || strings.Contains(s, "their-secret") {
		t.Errorf("List shows a token: %s", s)
	}
	if diff := cmp.Diff([]string{"GET " + notesPath}, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestSplitTokenURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw, base, query string
		ok               bool
	}{
		{"https://reflex.example.com/hooks/ci/tok?event=repo_push", "https://reflex.example.com/hooks/ci", "event=repo_push", true},
		{"https://reflex.example.com/hooks/ci/tok", "https://reflex.example.com/hooks/ci", "", true},
		{"https://reflex.example.com/base/hooks/ci/t%2Bo%20k?event=x", "https://reflex.example.com/base/hooks/ci", "event=x", true},
		{"http://127.0.0.1:8080/hooks/ci/tok", "http://127.0.0.1:8080/hooks/ci", "", true},
		{"https://reflex.example.com/hooks/ci", "", "", false},
		{"https://reflex.example.com/hooks/ci/", "", "", false},
		{"https://reflex.example.com/hooks//tok", "", "", false},
		{"https://reflex.example.com/other/ci/tok", "", "", false},
		{"https://reflex.example.com/hooks/ci/tok#x", "", "", false},
		{"https://u:p@reflex.example.com/hooks/ci/tok", "", "", false},
		{"ftp://reflex.example.com/hooks/ci/tok", "", "", false},
		{"", "", "", false},
	} {
		base, query, ok := splitTokenURL(tc.raw)
		if base != tc.base || query != tc.query || ok != tc.ok {
			t.Errorf("splitTokenURL(%q) = %q, %q, %v; want %q, %q, %v", tc.raw, base, query, ok, tc.base, tc.query, tc.ok)
		}
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	foreign := f.addWebhook("acme/api", "repo_push", "https://elsewhere.example.com/quay", 0)
	h, err := f.provider(Options{}).Create(t.Context(), apiRepo, spec(ciURL, "build_success", "repo_push"))
	if err != nil {
		t.Fatal(err)
	}
	want := hooks.Hook{ID: ciURL, URL: ciURL, Events: []string{"build_success", "repo_push"}, ContentType: "json", Active: true}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("Create (-want +got):\n%s", diff)
	}
	wantURLs := []string{
		"build_success " + tokenURL(ciURL, testSecret, "build_success"),
		"repo_push https://elsewhere.example.com/quay",
		"repo_push " + tokenURL(ciURL, testSecret, "repo_push"),
	}
	if diff := cmp.Diff(wantURLs, f.urls("acme/api")); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	for _, n := range f.notifications("acme/api") {
		if n.UUID != foreign && n.Title != "Reflex: ci ("+n.Event+")" {
			t.Errorf("title %q", n.Title)
		}
	}
	if diff := cmp.Diff([]string{"GET " + notesPath, "POST " + notesPath, "POST " + notesPath}, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	got, err := f.provider(Options{}).List(t.Context(), apiRepo)
	if err != nil || len(got) != 2 || !cmp.Equal(got[1], want) {
		t.Errorf("List after Create = %v, %v; want the foreign hook and %v", got, err, want)
	}
}

func TestCreateCompletes(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	keep := f.addWebhook("acme/api", "repo_push", tokenURL(ciURL, testSecret, "repo_push"), 0)
	stale := f.addWebhook("acme/api", "build_success", tokenURL(ciURL, "old-secret", "build_success"), 0)
	if _, err := f.provider(Options{}).Create(t.Context(), apiRepo, spec(ciURL, "build_success", "repo_push")); err != nil {
		t.Fatal(err)
	}
	uuids := f.uuids("acme/api")
	if len(uuids) != 2 || uuids[0] != keep {
		t.Errorf("notifications %v: want %s kept and one created", uuids, keep)
	}
	want := []string{"GET " + notesPath, "POST " + notesPath, "DELETE " + notesPath + stale}
	if diff := cmp.Diff(want, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	type setup struct{ push, build, other string }
	for _, tc := range []struct {
		name     string
		disabled bool
		handMade bool
		spec     hooks.Spec
		urls     []string
		// reqs are the requests after the GET, from the uuids set up.
		reqs func(s setup) []string
	}{
		{
			name: "events changed",
			spec: spec(ciURL, "build_failure", "repo_push"),
			urls: []string{"build_failure " + tokenURL(ciURL, testSecret, "build_failure"), "repo_push " + tokenURL(ciURL, testSecret, "repo_push")},
			reqs: func(s setup) []string { return []string{"POST " + notesPath, "DELETE " + notesPath + s.build} },
		},
		{
			name: "secret changed",
			spec: hooks.Spec{URL: ciURL, Events: []string{"build_success", "repo_push"}, Secret: []byte("rotated secret+1")},
			urls: []string{"build_success " + tokenURL(ciURL, "rotated secret+1", "build_success"), "repo_push " + tokenURL(ciURL, "rotated secret+1", "repo_push")},
			reqs: func(s setup) []string {
				return []string{"POST " + notesPath, "POST " + notesPath, "DELETE " + notesPath + s.push, "DELETE " + notesPath + s.build}
			},
		},
		{
			name: "url changed",
			spec: spec("https://reflex.example.com/hooks/cd", "repo_push"),
			urls: []string{"repo_push " + tokenURL("https://reflex.example.com/hooks/cd", testSecret, "repo_push")},
			reqs: func(s setup) []string {
				return []string{"POST " + notesPath, "DELETE " + notesPath + s.push, "DELETE " + notesPath + s.build}
			},
		},
		{
			name:     "a disabled notification",
			disabled: true,
			spec:     spec(ciURL, "build_success", "repo_push"),
			urls:     []string{"build_success " + tokenURL(ciURL, testSecret, "build_success"), "repo_push " + tokenURL(ciURL, testSecret, "repo_push")},
			reqs:     func(s setup) []string { return []string{"POST " + notesPath, "DELETE " + notesPath + s.build} },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			failures := 0
			if tc.disabled {
				failures = 3
			}
			s := setup{
				push:  f.addWebhook("acme/api", "repo_push", tokenURL(ciURL, testSecret, "repo_push"), 0),
				build: f.addWebhook("acme/api", "build_success", tokenURL(ciURL, testSecret, "build_success"), failures),
				other: f.addWebhook("acme/api", "repo_push", "https://elsewhere.example.com/quay", 0),
			}
			if err := f.provider(Options{}).Update(t.Context(), apiRepo, ciURL, tc.spec); err != nil {
				t.Fatal(err)
			}
			want := append(tc.urls, "repo_push https://elsewhere.example.com/quay")
			slices.Sort(want)
			if diff := cmp.Diff(want, f.urls("acme/api")); diff != "" {
				t.Errorf("notifications (-want +got):\n%s", diff)
			}
			if !f.has("acme/api", s.other) {
				t.Errorf("the foreign notification is gone")
			}
			if diff := cmp.Diff(append([]string{"GET " + notesPath}, tc.reqs(s)...), f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplaceOne(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	handMade := f.addWebhook("acme/api", "repo_push", ciURL, 0)
	h, err := f.provider(Options{}).Replace(t.Context(), apiRepo, handMade, spec(ciURL, "repo_push"))
	if err != nil {
		t.Fatal(err)
	}
	if h.ID != ciURL || f.has("acme/api", handMade) {
		t.Errorf("Replace = %+v; hand-made notification kept: %v", h, f.has("acme/api", handMade))
	}
	if diff := cmp.Diff([]string{"repo_push " + tokenURL(ciURL, testSecret, "repo_push")}, f.urls("acme/api")); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	push := f.addWebhook("acme/api", "repo_push", tokenURL(ciURL, testSecret, "repo_push"), 0)
	build := f.addWebhook("acme/api", "build_success", tokenURL(ciURL, "old", "build_success"), 0)
	other := f.addWebhook("acme/api", "repo_push", tokenURL("https://other.example.com/hooks/ci", testSecret, "repo_push"), 0)
	single := f.addWebhook("acme/api", "repo_push", "https://elsewhere.example.com/quay", 0)
	p := f.provider(Options{})
	if err := p.Delete(t.Context(), apiRepo, ciURL); err != nil {
		t.Fatal(err)
	}
	if err := p.Delete(t.Context(), apiRepo, single); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{other}, f.uuids("acme/api")); diff != "" {
		t.Errorf("notifications left (-want +got):\n%s", diff)
	}
	want := []string{"GET " + notesPath, "DELETE " + notesPath + push, "DELETE " + notesPath + build, "GET " + notesPath, "DELETE " + notesPath + single}
	if diff := cmp.Diff(want, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if err := p.Delete(t.Context(), apiRepo, ciURL); err != nil {
		t.Errorf("deleting a group again = %v, want nothing to do", err)
	}
	if err := p.Delete(t.Context(), apiRepo, single); err == nil || !strings.Contains(err.Error(), "no notification "+single) {
		t.Errorf("deleting a notification again = %v", err)
	}
	n := len(f.requests())
	for _, bad := range []string{"../../x", "a/b", "", "x?y"} {
		if err := p.Delete(t.Context(), apiRepo, bad); err == nil {
			t.Errorf("Delete(%q) succeeded", bad)
		}
	}
	if len(f.requests()) != n {
		t.Errorf("bad ids sent %d requests", len(f.requests())-n)
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	push := f.addWebhook("acme/api", "repo_push", tokenURL(ciURL, testSecret, "repo_push"), 0)
	build := f.addWebhook("acme/api", "build_success", tokenURL(ciURL, testSecret, "build_success"), 0)
	single := f.addWebhook("acme/api", "repo_push", "https://elsewhere.example.com/quay", 0)
	p := f.provider(Options{})
	if err := p.Ping(t.Context(), apiRepo, ciURL); err != nil {
		t.Fatal(err)
	}
	if err := p.Ping(t.Context(), apiRepo, single); err != nil {
		t.Fatal(err)
	}
	want := []string{"acme/api " + push, "acme/api " + build, "acme/api " + single}
	if diff := cmp.Diff(want, f.testNotifications()); diff != "" {
		t.Errorf("test notifications (-want +got):\n%s", diff)
	}
	if err := p.Ping(t.Context(), apiRepo, "https://reflex.example.com/hooks/gone"); err == nil || !strings.Contains(err.Error(), "no notification") {
		t.Errorf("Ping of an empty group = %v", err)
	}
	f.answerOnce("POST "+notesPath+push+"/test", canned{status: 400, body: `{"error_message":"No repository notification found","error_type":"invalid_request"}`})
	if err := p.Ping(t.Context(), apiRepo, ciURL); err == nil || !strings.Contains(err.Error(), "test notification "+push+" (repo_push)") {
		t.Errorf("Ping refused = %v", err)
	}
}

func TestRateLimitWaitedOut(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		answer canned
	}{
		{"429 Retry-After", canned{status: 429, header: map[string]string{"Retry-After": "1"}, body: "<html>429 Too Many Requests</html>"}},
		{"429 X-RateLimit-Reset", canned{status: 429, header: map[string]string{"X-RateLimit-Reset": strconv.FormatInt(now.Add(time.Second).Unix(), 10)}}},
		{"403 Retry-After", canned{status: 403, header: map[string]string{"Retry-After": "1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.addWebhook("acme/api", "repo_push", tokenURL(ciURL, testSecret, "repo_push"), 0)
			f.answerOnce("GET "+notesPath, tc.answer)
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
			if len(got) != 1 || got[0].ID != ciURL {
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
			f.answerOnce("GET "+notesPath, tc.answer)
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
		secret string
		key    string
		answer *canned
		want   []string
	}{
		{"wrong token", "wrong-token", apiRepo, "", "", nil, []string{"401", "invalid_token", "invalid, expired or revoked"}},
		{"insufficient scope", "", apiRepo, "", "POST " + notesPath, &canned{status: 403, body: `{"detail":"The access token did not have sufficient scope to access the requested resource.","error_type":"insufficient_scope","status":403}`}, []string{"403", "insufficient_scope", "repo:admin", "admin rights on repository acme/api"}},
		{"unknown repository", "", hooks.Target{Provider: Name, Kind: hooks.KindRepository, Name: "acme/nope"}, "", "", nil, []string{"404", "Not Found", "no such repository"}},
		{"unknown event at Quay", "", apiRepo, "", "POST " + notesPath, &canned{status: 400, body: `{"error_message":"Unable to find event: repo_push","error_type":"invalid_request"}`}, []string{"400", "invalid_request: Unable to find event", "create the repo_push notification"}},
		{"secret echoed", "", apiRepo, "", "POST " + notesPath, &canned{status: 400, body: `{"error_message":"bad url https://reflex.example.com/hooks/ci/` + testSecret + ` for ` + testToken + `"}`}, []string{"hooks/ci/[REDACTED] for [REDACTED]"}},
		{"escaped secret echoed", "", apiRepo, "se cret+x", "POST " + notesPath, &canned{status: 400, body: `{"error_message":"bad url https://reflex.example.com/hooks/ci/` + url.PathEscape("se cret+x") + `"}`}, []string{"hooks/ci/[REDACTED]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			if tc.answer != nil {
				f.answerOnce(tc.key, *tc.answer)
			}
			s := spec(ciURL, "repo_push")
			if tc.secret != "" {
				s.Secret = []byte(tc.secret)
			}
			_, err := f.provider(Options{Token: tc.token}).Create(t.Context(), tc.target, s)
			if err == nil {
				t.Fatal("Create succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, secret := range []string{testSecret, testToken, tc.token, tc.secret, url.PathEscape(tc.secret)} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds a secret", err)
				}
			}
			if errors.Is(err, hooks.ErrLimit) {
				t.Errorf("error %q is ErrLimit: Quay has no limit", err)
			}
		})
	}
}

func TestSpecRefused(t *testing.T) {
	t.Parallel()
	base := spec(ciURL, "repo_push")
	for _, tc := range []struct {
		name string
		edit func(*hooks.Spec)
		want string
	}{
		{"form", func(s *hooks.Spec) { s.ContentType = hooks.ContentForm }, "JSON only"},
		{"no secret", func(s *hooks.Spec) { s.Secret = nil }, "secret is empty"},
		{"binary secret", func(s *hooks.Spec) { s.Secret = []byte{0xff, 'a'} }, "not UTF-8"},
		{"a slash", func(s *hooks.Spec) { s.Secret = []byte("a/b") }, "holds a '/'"},
		{"control", func(s *hooks.Spec) { s.Secret = []byte("a\nb") }, "control character"},
		{"no events", func(s *hooks.Spec) { s.Events = nil }, "no events"},
		{"not an event", func(s *hooks.Spec) { s.Events = []string{"push"} }, `"push" is not a Quay repository event`},
		{"namespace event", func(s *hooks.Spec) { s.Events = []string{"quota_warning"} }, "not a Quay repository event"},
		{"not /hooks/", func(s *hooks.Spec) { s.URL = "https://reflex.example.com/in/ci" }, "ending in /hooks/{source}"},
		{"query", func(s *hooks.Spec) { s.URL += "?x=1" }, "without a query"},
		{"no url", func(s *hooks.Spec) { s.URL = "" }, "not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			p := f.provider(Options{})
			s := base
			tc.edit(&s)
			if _, err := p.Create(t.Context(), apiRepo, s); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Create = %v, want %q", err, tc.want)
			}
			if err := p.Update(t.Context(), apiRepo, ciURL, s); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Update = %v, want %q", err, tc.want)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

func TestTargetRefused(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	p := f.provider(Options{})
	for _, target := range []hooks.Target{
		{Provider: "gitea", Kind: hooks.KindRepository, Name: "acme/api"},
		{Provider: Name, Kind: hooks.KindOrganization, Name: "acme"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "acme"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "acme/../x"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "acme/api/"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "acme/a pi"},
	} {
		if _, err := p.List(t.Context(), target); err == nil {
			t.Errorf("List(%v) succeeded", target)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestNestedRepository(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.addRepo("acme", "team/api", "NORMAL")
	target := hooks.Target{Provider: Name, Kind: hooks.KindRepository, Name: "acme/team/api"}
	if _, err := f.provider(Options{}).Create(t.Context(), target, spec(ciURL, "repo_push")); err != nil {
		t.Fatal(err)
	}
	want := []string{"GET /api/v1/repository/acme/team/api/notification/", "POST /api/v1/repository/acme/team/api/notification/"}
	if diff := cmp.Diff(want, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
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
		writeJSON(w, http.StatusOK, map[string]any{"notifications": []any{}})
	}))
	t.Cleanup(other.Close)

	f := newFake(t)
	single := f.addWebhook("acme/api", "repo_push", "https://elsewhere.example.com/quay", 0)
	p := f.provider(Options{})

	f.answerOnce("GET "+notesPath, canned{status: 302, header: map[string]string{"Location": other.URL + notesPath}})
	if _, err := p.List(t.Context(), apiRepo); err == nil || !strings.Contains(err.Error(), "refused a redirect") {
		t.Errorf("List redirected elsewhere = %v, want it refused", err)
	}
	mu.Lock()
	if len(elsewhere) != 0 {
		t.Errorf("the other host got %d requests", len(elsewhere))
	}
	mu.Unlock()

	f.answerOnce("GET "+notesPath, canned{status: 301, header: map[string]string{"Location": f.srv.URL + notesPath}})
	got, err := p.List(t.Context(), apiRepo)
	if err != nil || len(got) != 1 || got[0].ID != single {
		t.Errorf("List redirected on the same host = %v, %v", got, err)
	}

	f.answerOnce("DELETE "+notesPath+single, canned{status: 307, header: map[string]string{"Location": f.srv.URL + notesPath + single}})
	if err := p.Delete(t.Context(), apiRepo, single); err == nil || !strings.Contains(err.Error(), "redirect of a DELETE") {
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
		{"default", Options{Token: "t"}, "https://quay.io", ""},
		{"self-managed", Options{Token: "t", BaseURL: "https://quay.example.com/"}, "https://quay.example.com", ""},
		{"API URL given", Options{Token: "t", BaseURL: "https://quay.example.com/api/v1"}, "https://quay.example.com", ""},
		{"loopback http", Options{Token: "t", BaseURL: "http://localhost:8080"}, "http://localhost:8080", ""},
		{"no token", Options{}, "", "token is required"},
		{"token with a line break", Options{Token: "a\n"}, "", "white space"},
		{"plain http", Options{Token: "t", BaseURL: "http://quay.example.com"}, "", "plain http"},
		{"user info", Options{Token: "t", BaseURL: "https://u:p@quay.example.com"}, "", "not an http(s) URL"},
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
	p, err := New(Options{Token: "t", Name: "quay-internal", Timeout: time.Second, Retries: 7})
	if err != nil || p.Name() != "quay-internal" || p.client.Timeout != time.Second || p.retries != 7 {
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
