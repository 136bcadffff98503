package harbor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

const testSecret = "Bearer s3cret-for-hooks"

var (
	acme       = hooks.Target{Provider: Name, Kind: hooks.KindProject, Name: "acme"}
	acmePolicy = "/api/v2.0/projects/acme/webhook/policies"
)

// spec returns a Spec with the test secret.
func spec(hookURL string, events ...string) hooks.Spec {
	return hooks.Spec{URL: hookURL, Events: events, ContentType: hooks.ContentJSON, Secret: []byte(testSecret)}
}

func TestListEveryPage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		noLink, noTotal bool
	}{
		{"Link and X-Total-Count", false, false},
		{"X-Total-Count only", true, false},
		{"Link only", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.noLink, f.noTotal = tc.noLink, tc.noTotal
			id1 := f.addPolicy("acme", "reflex-ci", "https://reflex.example.com/hooks/ci", testSecret, []string{"PUSH_ARTIFACT", "DELETE_ARTIFACT"}, true)
			id2 := f.addPolicy("acme", "elsewhere", "https://elsewhere.example.com/harbor", "Basic b3RoZXI=", []string{"PULL_ARTIFACT"}, true)
			id3 := f.addPolicy("acme", "reflex-scan", "https://reflex.example.com/hooks/scan", testSecret, []string{"SCANNING_FAILED", "SCANNING_COMPLETED"}, false)
			id4 := f.addPolicy("acme", "chat", "https://hooks.slack.com/services/T/B/x", "", []string{"PUSH_ARTIFACT"}, true)
			f.policies["acme"][3].Targets[0].Type = "slack"
			id5 := f.addPolicy("acme", "two targets", "https://reflex.example.com/hooks/cd", testSecret, []string{"REPLICATION"}, true)
			pol := f.policies["acme"][4]
			pol.Targets = append([]fakeTarget{{Type: "slack", Address: "https://hooks.slack.com/services/T/B/y"}}, pol.Targets...)

			got, err := f.provider(Options{}).List(t.Context(), acme)
			if err != nil {
				t.Fatal(err)
			}
			want := []hooks.Hook{
				{ID: id1, URL: "https://reflex.example.com/hooks/ci", Events: []string{"DELETE_ARTIFACT", "PUSH_ARTIFACT"}, ContentType: "json", Active: true},
				{ID: id2, URL: "https://elsewhere.example.com/harbor", Events: []string{"PULL_ARTIFACT"}, ContentType: "json", Active: true},
				{ID: id3, URL: "https://reflex.example.com/hooks/scan", Events: []string{"SCANNING_COMPLETED", "SCANNING_FAILED"}, ContentType: "json", Active: false},
				{ID: id4, URL: "", Events: []string{"PUSH_ARTIFACT"}, ContentType: "json", Active: true},
				{ID: id5, URL: "https://reflex.example.com/hooks/cd", Events: []string{"REPLICATION"}, ContentType: "json", Active: true},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
			var wantReqs []string
			for page := 1; page <= 3; page++ {
				wantReqs = append(wantReqs, fmt.Sprintf("GET %s?page=%d&page_size=100", acmePolicy, page))
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
	got, err := f.provider(Options{}).List(t.Context(), acme)
	if err != nil || len(got) != 0 {
		t.Fatalf("List = %v, %v; want nothing", got, err)
	}
	if diff := cmp.Diff([]string{"GET " + acmePolicy + "?page=1&page_size=100"}, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		noLocation bool
		taken      bool
		policyName string
		reqs       func(id string) []string
	}{
		{"Location answered", false, false, "reflex-ci", func(string) []string { return []string{"POST " + acmePolicy} }},
		{"no Location", true, false, "reflex-ci", func(string) []string {
			return []string{"POST " + acmePolicy, "GET " + acmePolicy + "?page=1&page_size=100"}
		}},
		{"name taken", false, true, policyName("https://reflex.example.com/hooks/ci", true), func(string) []string {
			return []string{"POST " + acmePolicy, "POST " + acmePolicy}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.noLocation = tc.noLocation
			if tc.taken {
				f.addPolicy("acme", "reflex-ci", "https://old.example.com/hooks/ci", "old", []string{"PUSH_ARTIFACT"}, true)
			}
			h, err := f.provider(Options{}).Create(t.Context(), acme, spec("https://reflex.example.com/hooks/ci", "DELETE_ARTIFACT", "PUSH_ARTIFACT"))
			if err != nil {
				t.Fatal(err)
			}
			want := hooks.Hook{ID: h.ID, URL: "https://reflex.example.com/hooks/ci", Events: []string{"DELETE_ARTIFACT", "PUSH_ARTIFACT"}, ContentType: "json", Active: true}
			if diff := cmp.Diff(want, h); diff != "" {
				t.Errorf("Create (-want +got):\n%s", diff)
			}
			pol := f.policy("acme", h.ID)
			if pol == nil {
				t.Fatalf("no policy %s", h.ID)
			}
			wantTargets := []fakeTarget{{Type: "http", Address: "https://reflex.example.com/hooks/ci", AuthHeader: testSecret, PayloadFormat: "Default"}}
			if diff := cmp.Diff(wantTargets, pol.Targets); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
			if pol.Name != tc.policyName || !pol.Enabled || !slices.Equal(pol.EventTypes, []string{"DELETE_ARTIFACT", "PUSH_ARTIFACT"}) || !strings.Contains(pol.Description, "Reflex") {
				t.Errorf("policy %+v", pol)
			}
			if diff := cmp.Diff(tc.reqs(h.ID), f.requests()); diff != "" {
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
		secret string
	}{
		{"events changed", spec("https://reflex.example.com/hooks/ci", "PUSH_ARTIFACT", "SCANNING_COMPLETED"), testSecret},
		{"secret changed", hooks.Spec{URL: "https://reflex.example.com/hooks/ci", Events: []string{"PUSH_ARTIFACT"}, Secret: []byte("rotated-secret")}, "rotated-secret"},
		{"url changed", spec("https://reflex.example.com/hooks/cd", "PUSH_ARTIFACT"), testSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			id := f.addPolicy("acme", "my hook", "https://reflex.example.com/hooks/ci", "old-secret", []string{"PUSH_ARTIFACT"}, false)
			pol := f.policies["acme"][0]
			pol.Description = "made by hand"
			pol.Targets = append(pol.Targets, fakeTarget{Type: "slack", Address: "https://hooks.slack.com/services/T/B/x"})
			if err := f.provider(Options{}).Update(t.Context(), acme, id, tc.spec); err != nil {
				t.Fatal(err)
			}
			want := &fakePolicy{
				ID: pol.ID, Name: "my hook", Description: "made by hand", ProjectID: pol.ProjectID, Enabled: true,
				EventTypes: tc.spec.Events,
				Targets:    []fakeTarget{{Type: "http", Address: tc.spec.URL, AuthHeader: tc.secret, PayloadFormat: "Default"}},
				Creator:    "admin", CreationTime: "2024-05-01T10:00:00.000Z", UpdateTime: "2024-05-03T10:00:00.000Z",
			}
			if diff := cmp.Diff(want, f.policy("acme", id)); diff != "" {
				t.Errorf("updated policy (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"GET " + acmePolicy + "/" + id, "PUT " + acmePolicy + "/" + id}, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	keep := f.addPolicy("acme", "elsewhere", "https://elsewhere.example.com/x", "x", []string{"PUSH_ARTIFACT"}, true)
	gone := f.addPolicy("acme", "reflex-ci", "https://reflex.example.com/hooks/ci", testSecret, []string{"PUSH_ARTIFACT"}, true)
	p := f.provider(Options{})
	if err := p.Delete(t.Context(), acme, gone); err != nil {
		t.Fatal(err)
	}
	if f.policy("acme", gone) != nil || f.policy("acme", keep) == nil {
		t.Errorf("after Delete: policy %s kept or policy %s gone", gone, keep)
	}
	if err := p.Delete(t.Context(), acme, gone); statusOf(err) != http.StatusNotFound || !strings.Contains(err.Error(), "no such project or webhook policy") {
		t.Errorf("deleting again = %v, want a 404", err)
	}
	for _, bad := range []string{"../../x", "0", "-1", "07", "1a"} {
		if err := p.Delete(t.Context(), acme, bad); err == nil {
			t.Errorf("Delete(%q) succeeded", bad)
		}
	}
	if diff := cmp.Diff([]string{"DELETE " + acmePolicy + "/" + gone, "DELETE " + acmePolicy + "/" + gone}, f.requests()); diff != "" {
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
		{"429 Retry-After", canned{status: 429, header: map[string]string{"Retry-After": "1"}, body: "Too Many Requests"}},
		{"429 X-RateLimit-Reset", canned{status: 429, header: map[string]string{"X-RateLimit-Reset": strconv.FormatInt(now.Add(time.Second).Unix(), 10)}}},
		{"403 Retry-After", canned{status: 403, header: map[string]string{"Retry-After": "1"}, body: `{"errors":[{"code":"FORBIDDEN","message":"slow down"}]}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			id := f.addPolicy("acme", "reflex-ci", "https://reflex.example.com/hooks/ci", testSecret, []string{"PUSH_ARTIFACT"}, true)
			f.answerOnce("GET "+acmePolicy, tc.answer)
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
			got, err := p.List(ctx, acme)
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
			f.answerOnce("GET "+acmePolicy, tc.answer)
			_, err := f.provider(Options{Retries: tc.retries}).List(t.Context(), acme)
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
		name     string
		password string
		target   hooks.Target
		events   []string
		answer   *canned
		want     []string
	}{
		{"wrong password", "wrong-password", acme, nil, nil, []string{"401", "username or password is wrong", "robot$<name>"}},
		{"forbidden", "", acme, nil, &canned{status: 403, body: `{"errors":[{"code":"FORBIDDEN","message":"forbidden"}]}`}, []string{"403", "FORBIDDEN: forbidden", "Webhook permission on project acme", "2.10"}},
		{"unknown project", "", hooks.Target{Provider: Name, Kind: hooks.KindProject, Name: "nope"}, nil, nil, []string{"404", "project nope not found", "no such project"}},
		{"unsupported event", "", acme, []string{"PUSH_CHART"}, nil, []string{"400", "unsupported event type PUSH_CHART"}},
		{"secret echoed", "", acme, nil, &canned{status: 400, body: `{"errors":[{"code":"BAD_REQUEST","message":"auth header ` + testSecret + ` for ` + testPassword + `"}]}`}, []string{"[REDACTED] for [REDACTED]"}},
		{"no JSON", "", acme, nil, &canned{status: 502, body: "<html>Bad Gateway</html>"}, []string{"502", "<html>Bad Gateway</html>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			if tc.answer != nil {
				f.answerOnce("POST "+acmePolicy, *tc.answer)
			}
			events := tc.events
			if events == nil {
				events = []string{"PUSH_ARTIFACT"}
			}
			_, err := f.provider(Options{Password: tc.password}).Create(t.Context(), tc.target, spec("https://reflex.example.com/hooks/ci", events...))
			if err == nil {
				t.Fatal("Create succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, secret := range []string{testSecret, testPassword, tc.password} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds a secret", err)
				}
			}
			if errors.Is(err, hooks.ErrLimit) {
				t.Errorf("error %q is ErrLimit: Harbor has no limit", err)
			}
		})
	}
}

func TestSpecRefused(t *testing.T) {
	t.Parallel()
	base := spec("https://reflex.example.com/hooks/ci", "PUSH_ARTIFACT")
	for _, tc := range []struct {
		name string
		edit func(*hooks.Spec)
		want string
	}{
		{"form", func(s *hooks.Spec) { s.ContentType = hooks.ContentForm }, "JSON only"},
		{"no secret", func(s *hooks.Spec) { s.Secret = nil }, "secret is empty"},
		{"binary secret", func(s *hooks.Spec) { s.Secret = []byte{0xff, 'a'} }, "not UTF-8"},
		{"line break", func(s *hooks.Spec) { s.Secret = []byte("a\r\nX-Injected: 1") }, "control character"},
		{"white space", func(s *hooks.Spec) { s.Secret = []byte(" padded") }, "white space"},
		{"no events", func(s *hooks.Spec) { s.Events = nil }, "no events"},
		{"lower-case event", func(s *hooks.Spec) { s.Events = []string{"push_artifact"} }, "not a Harbor event type"},
		{"query", func(s *hooks.Spec) { s.URL += "?event=push" }, "query"},
		{"trailing slash", func(s *hooks.Spec) { s.URL += "/" }, "slash"},
		{"escapes", func(s *hooks.Spec) { s.URL = "https://reflex.example.com/hooks/c%20i" }, "escaped"},
		{"no url", func(s *hooks.Spec) { s.URL = "" }, "not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			p := f.provider(Options{})
			s := base
			tc.edit(&s)
			if _, err := p.Create(t.Context(), acme, s); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Create = %v, want %q", err, tc.want)
			}
			if err := p.Update(t.Context(), acme, "7", s); err == nil || !strings.Contains(err.Error(), tc.want) {
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
		{Provider: "gitlab", Kind: hooks.KindProject, Name: "acme"},
		{Provider: Name, Kind: hooks.KindRepository, Name: "acme/api"},
		{Provider: Name, Kind: hooks.KindProject, Name: "Acme"},
		{Provider: Name, Kind: hooks.KindProject, Name: "acme/api"},
		{Provider: Name, Kind: hooks.KindProject, Name: "../x"},
		{Provider: Name, Kind: hooks.KindProject, Name: ""},
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
	id := f.addPolicy("acme", "reflex-ci", "https://reflex.example.com/hooks/ci", testSecret, []string{"PUSH_ARTIFACT"}, true)
	p := f.provider(Options{})

	f.answerOnce("GET "+acmePolicy, canned{status: 302, header: map[string]string{"Location": other.URL + acmePolicy}})
	if _, err := p.List(t.Context(), acme); err == nil || !strings.Contains(err.Error(), "refused a redirect") {
		t.Errorf("List redirected elsewhere = %v, want it refused", err)
	}
	mu.Lock()
	if len(elsewhere) != 0 {
		t.Errorf("the other host got %d requests", len(elsewhere))
	}
	mu.Unlock()

	f.answerOnce("GET "+acmePolicy, canned{status: 301, header: map[string]string{"Location": f.srv.URL + acmePolicy + "?page=1&page_size=100"}})
	got, err := p.List(t.Context(), acme)
	if err != nil || len(got) != 1 || got[0].ID != id {
		t.Errorf("List redirected on the same host = %v, %v", got, err)
	}

	f.answerOnce("DELETE "+acmePolicy+"/"+id, canned{status: 307, header: map[string]string{"Location": f.srv.URL + acmePolicy + "/" + id}})
	if err := p.Delete(t.Context(), acme, id); err == nil || !strings.Contains(err.Error(), "redirect of a DELETE") {
		t.Errorf("Delete redirected = %v, want it refused", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	robot := Options{Username: "robot$hooks", Password: "p"}
	with := func(base string) Options { o := robot; o.BaseURL = base; return o }
	for _, tc := range []struct {
		name string
		o    Options
		base string
		err  string
	}{
		{"instance", with("https://harbor.example.com/"), "https://harbor.example.com", ""},
		{"API URL given", with("https://harbor.example.com/api/v2.0"), "https://harbor.example.com", ""},
		{"path prefix", with("https://example.com/harbor"), "https://example.com/harbor", ""},
		{"loopback http", with("http://127.0.0.1:8080"), "http://127.0.0.1:8080", ""},
		{"no base URL", robot, "", "base URL is required"},
		{"no username", Options{Password: "p", BaseURL: "https://harbor.example.com"}, "", "username and password are required"},
		{"no password", Options{Username: "robot$hooks", BaseURL: "https://harbor.example.com"}, "", "username and password are required"},
		{"colon", Options{Username: "a:b", Password: "p", BaseURL: "https://harbor.example.com"}, "", "colon"},
		{"line break", Options{Username: "a", Password: "p\n", BaseURL: "https://harbor.example.com"}, "", "line break"},
		{"plain http", with("http://harbor.example.com"), "", "plain http"},
		{"user info", with("https://u:p@harbor.example.com"), "", "not an http(s) URL"},
		{"not a URL", with("harbor.example.com"), "", "not an http(s) URL"},
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
	o := with("https://harbor.example.com")
	o.Name, o.Timeout, o.Retries = "harbor-dr", time.Second, -1
	p, err := New(o)
	if err != nil || p.Name() != "harbor-dr" || p.client.Timeout != time.Second || p.retries != 0 {
		t.Errorf("New with options = %+v, %v", p, err)
	}
}

func TestPathPrefix(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.URL.Path+" "+r.Header.Get("X-Is-Resource-Name"))
		writeJSON(w, http.StatusOK, []any{})
	}))
	t.Cleanup(srv.Close)
	p, err := New(Options{BaseURL: srv.URL + "/harbor", Username: testUser, Password: testPassword, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.List(t.Context(), acme); err != nil {
		t.Fatal(err)
	}
	if _, err := p.projects(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := []string{"/harbor/api/v2.0/projects/acme/webhook/policies true", "/harbor/api/v2.0/projects "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestNoRequestAfterCancel(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.provider(Options{}).List(ctx, acme); !errors.Is(err, context.Canceled) {
		t.Errorf("List = %v, want context.Canceled", err)
	}
}
