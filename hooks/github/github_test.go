package github

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

var (
	repoAPI = hooks.Target{Provider: "github", Kind: hooks.KindRepository, Name: "acme/api"}
	orgAcme = hooks.Target{Provider: "github", Kind: hooks.KindOrganization, Name: "acme"}
)

func TestNew(t *testing.T) {
	pemKey := []byte("-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n")
	tests := []struct {
		name    string
		opts    Options
		wantErr string
		wantAPI string
	}{
		{"token, github.com", Options{Token: "t"}, "", "https://api.github.com/"},
		{"GHE base as documented", Options{Token: "t", APIURL: "https://ghe.example.com/api/v3/"}, "", "https://ghe.example.com/api/v3/"},
		{"GHE bare host gets /api/v3/", Options{Token: "t", APIURL: "https://ghe.example.com"}, "", "https://ghe.example.com/api/v3/"},
		{"GHE without the slash", Options{Token: "t", APIURL: "https://ghe.example.com/api/v3"}, "", "https://ghe.example.com/api/v3/"},
		{"loopback http is allowed", Options{Token: "t", APIURL: "http://127.0.0.1:8080/api/v3/"}, "", "http://127.0.0.1:8080/api/v3/"},
		{"neither credential", Options{}, "exactly one", ""},
		{"both credentials", Options{Token: "t", App: &AppAuth{AppID: 1, PrivateKey: pemKey}}, "exactly one", ""},
		{"plain http elsewhere", Options{Token: "t", APIURL: "http://ghe.example.com/api/v3/"}, "plain http", ""},
		{"not a URL", Options{Token: "t", APIURL: "ghe.example.com"}, "not an http(s) base URL", ""},
		{"app without id", Options{App: &AppAuth{PrivateKey: pemKey}}, "App id is required", ""},
		{"app without key", Options{App: &AppAuth{AppID: 7}}, "private key is required", ""},
		{"app with a bad key", Options{App: &AppAuth{AppID: 7, PrivateKey: pemKey}}, "not an RSA private key", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New: %v, want an error with %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "bm90IGEga2V5") {
					t.Errorf("the error quotes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.base.String(); got != tt.wantAPI {
				t.Errorf("API base %q, want %q", got, tt.wantAPI)
			}
			if p.Name() != "github" {
				t.Errorf("Name %q", p.Name())
			}
		})
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		target hooks.Target
		key    string
	}{
		{repoAPI, "repos/acme/api"},
		{orgAcme, "orgs/acme"},
	}
	for _, tt := range tests {
		t.Run(tt.target.Kind, func(t *testing.T) {
			f := newFake(t)
			f.setHooks(tt.key,
				&fakeHook{ID: 1, URL: "https://reflex.example.com/hooks/ci", ContentType: "json", InsecureSSL: "0", Events: []string{"push", "pull_request"}, Active: true,
					LastResponse: map[string]any{"code": 200, "status": "active", "message": "OK"}},
				&fakeHook{ID: 2, URL: "https://ci.example.org/hook", ContentType: "form", InsecureSSL: "0", Events: []string{"push"}, Active: false,
					LastResponse: map[string]any{"code": 404, "status": "misconfigured", "message": "Invalid HTTP Response: 404"}},
				&fakeHook{ID: 3, URL: "https://reflex.example.com/hooks/cd", Events: []string{"release"}, Active: true,
					LastResponse: map[string]any{"code": nil, "status": "unused", "message": nil}},
				&fakeHook{ID: 4, URL: "https://other.example.net/x", ContentType: "json", Events: []string{"*"}, Active: true},
				&fakeHook{ID: 5, URL: "https://reflex.example.com/hooks/x", ContentType: "json", Events: []string{"push"}, Active: true,
					LastResponse: map[string]any{"code": 0, "status": "timeout", "message": "Service Timeout"}},
			)
			p := f.provider(t)
			var pr progress
			got, err := p.List(pr.ctx(context.Background()), tt.target)
			if err != nil {
				t.Fatal(err)
			}
			want := []hooks.Hook{
				{ID: "1", URL: "https://reflex.example.com/hooks/ci", Events: []string{"pull_request", "push"}, ContentType: "json", Active: true, LastStatus: "200 OK"},
				{ID: "2", URL: "https://ci.example.org/hook", Events: []string{"push"}, ContentType: "form", Active: false, LastStatus: "404 misconfigured: Invalid HTTP Response: 404"},
				{ID: "3", URL: "https://reflex.example.com/hooks/cd", Events: []string{"release"}, ContentType: "form", Active: true},
				{ID: "4", URL: "https://other.example.net/x", Events: []string{"*"}, ContentType: "json", Active: true},
				{ID: "5", URL: "https://reflex.example.com/hooks/x", Events: []string{"push"}, ContentType: "json", Active: true, LastStatus: "timeout: Service Timeout"},
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("List (-want +got):\n%s", d)
			}
			reqs := f.got("GET /" + tt.key + "/hooks")
			var pages []string
			for _, r := range reqs {
				pages = append(pages, r.Query.Get("page"))
			}
			if d := cmp.Diff([]string{"", "2", "3"}, pages); d != "" {
				t.Errorf("pages asked (-want +got):\n%s", d)
			}
			if !pr.has("page 3") {
				t.Errorf("pages not reported: %s", pr.String())
			}
		})
	}
}

func TestCreate(t *testing.T) {
	tests := []struct {
		target hooks.Target
		key    string
		ct     string
	}{
		{repoAPI, "repos/acme/api", hooks.ContentJSON},
		{orgAcme, "orgs/acme", hooks.ContentForm},
		{repoAPI, "repos/acme/api", ""}, // JSON by default
	}
	for _, tt := range tests {
		t.Run(tt.target.Kind+"/"+tt.ct, func(t *testing.T) {
			f := newFake(t)
			foreign := &fakeHook{ID: 7, URL: "https://ci.example.org/hook", ContentType: "form", Secret: "theirs", InsecureSSL: "1", Events: []string{"push"}, Active: true}
			f.setHooks(tt.key, foreign)
			p := f.provider(t)
			spec := hooks.Spec{URL: "https://reflex.example.com/hooks/ci", Events: []string{"pull_request", "push"}, ContentType: tt.ct, Secret: []byte("s3cret")}
			h, err := p.Create(context.Background(), tt.target, spec)
			if err != nil {
				t.Fatal(err)
			}
			wantCT := tt.ct
			if wantCT == "" {
				wantCT = hooks.ContentJSON
			}
			want := hooks.Hook{ID: "101", URL: spec.URL, Events: spec.Events, ContentType: wantCT, Active: true}
			if d := cmp.Diff(want, h); d != "" {
				t.Errorf("Create (-want +got):\n%s", d)
			}
			held := f.hook(tt.key, 101)
			if held == nil {
				t.Fatal("no hook created")
			}
			if held.Secret != "s3cret" || held.URL != spec.URL || held.ContentType != wantCT || !held.Active || held.InsecureSSL != "0" ||
				!slices.Equal(held.Events, spec.Events) {
				t.Errorf("held %+v", held)
			}
			if got := f.hook(tt.key, 7); got == nil || got.Secret != "theirs" || got.InsecureSSL != "1" {
				t.Errorf("the foreign hook changed: %+v", got)
			}
		})
	}
}

func TestCreateRefusesEmptySpec(t *testing.T) {
	f := newFake(t)
	p := f.provider(t)
	for _, s := range []hooks.Spec{
		{URL: "https://reflex.example.com/hooks/ci", Secret: []byte("s")},
		{Events: []string{"push"}, Secret: []byte("s")},
		{URL: "https://reflex.example.com/hooks/ci", Events: []string{"push"}, ContentType: "xml", Secret: []byte("s")},
	} {
		if _, err := p.Create(context.Background(), repoAPI, s); err == nil {
			t.Errorf("Create(%+v) succeeded", s)
		}
	}
	if n := len(f.got("")); n != 0 {
		t.Errorf("%d requests sent for specs refused", n)
	}
}

func TestUpdate(t *testing.T) {
	base := hooks.Spec{URL: "https://reflex.example.com/hooks/ci", Events: []string{"push"}, ContentType: hooks.ContentJSON, Secret: []byte("old")}
	tests := []struct {
		name   string
		target hooks.Target
		key    string
		spec   hooks.Spec
	}{
		{"events changed", repoAPI, "repos/acme/api", hooks.Spec{URL: base.URL, Events: []string{"pull_request", "push", "release"}, ContentType: hooks.ContentJSON, Secret: []byte("old")}},
		{"secret changed", repoAPI, "repos/acme/api", hooks.Spec{URL: base.URL, Events: []string{"push"}, ContentType: hooks.ContentJSON, Secret: []byte("new")}},
		{"content type and activity", orgAcme, "orgs/acme", hooks.Spec{URL: base.URL, Events: []string{"push"}, ContentType: hooks.ContentForm, Secret: []byte("old")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.setHooks(tt.key,
				&fakeHook{ID: 11, URL: base.URL, ContentType: "json", Secret: "old", InsecureSSL: "0", Events: []string{"push"}, Active: false},
				&fakeHook{ID: 12, URL: "https://ci.example.org/hook", ContentType: "form", Secret: "theirs", Events: []string{"push"}, Active: true},
			)
			p := f.provider(t)
			if err := p.Update(context.Background(), tt.target, "11", tt.spec); err != nil {
				t.Fatal(err)
			}
			h := f.hook(tt.key, 11)
			want := fakeHook{ID: 11, URL: tt.spec.URL, ContentType: tt.spec.ContentType, Secret: string(tt.spec.Secret), InsecureSSL: "0", Events: tt.spec.Events, Active: true}
			if d := cmp.Diff(want, *h); d != "" {
				t.Errorf("held (-want +got):\n%s", d)
			}
			if n := len(f.got("PATCH /" + tt.key + "/hooks/11")); n != 1 {
				t.Errorf("%d PATCHes", n)
			}
			if got := f.hook(tt.key, 12); got.Secret != "theirs" || got.URL != "https://ci.example.org/hook" {
				t.Errorf("the foreign hook changed: %+v", got)
			}
		})
	}
}

func TestDeleteAndPing(t *testing.T) {
	for _, tt := range []struct {
		target hooks.Target
		key    string
	}{{repoAPI, "repos/acme/api"}, {orgAcme, "orgs/acme"}} {
		t.Run(tt.target.Kind, func(t *testing.T) {
			f := newFake(t)
			f.setHooks(tt.key,
				&fakeHook{ID: 21, URL: "https://reflex.example.com/hooks/ci", ContentType: "json", Events: []string{"push"}, Active: true},
				&fakeHook{ID: 22, URL: "https://ci.example.org/hook", ContentType: "json", Events: []string{"push"}, Active: true},
			)
			p := f.provider(t)
			ctx := context.Background()
			if err := p.Ping(ctx, tt.target, "21"); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{tt.key + "/hooks/21"}, f.pinged); d != "" {
				t.Errorf("pinged (-want +got):\n%s", d)
			}
			if err := p.Delete(ctx, tt.target, "21"); err != nil {
				t.Fatal(err)
			}
			left := f.hooksOf(tt.key)
			if len(left) != 1 || left[0].ID != 22 {
				t.Errorf("left %+v, want the foreign hook alone", left)
			}
			// Gone already: not an error.
			if err := p.Delete(ctx, tt.target, "21"); err != nil {
				t.Errorf("deleting a hook gone: %v", err)
			}
			if err := p.Ping(ctx, tt.target, "21"); err == nil || !strings.Contains(err.Error(), "not found") {
				t.Errorf("pinging a hook gone: %v", err)
			}
			if err := p.Delete(ctx, tt.target, "abc"); err == nil {
				t.Error("deleting hook abc succeeded")
			}
		})
	}
}

func TestTargetsChecked(t *testing.T) {
	f := newFake(t)
	p := f.provider(t)
	for _, tgt := range []hooks.Target{
		{Provider: "github", Kind: hooks.KindRepository, Name: "acme"},
		{Provider: "github", Kind: hooks.KindRepository, Name: "acme/../orgs/x"},
		{Provider: "github", Kind: hooks.KindRepository, Name: "acme/a b"},
		{Provider: "github", Kind: hooks.KindOrganization, Name: "acme/api"},
		{Provider: "github", Kind: hooks.KindProject, Name: "acme/api"},
	} {
		if _, err := p.List(context.Background(), tgt); err == nil {
			t.Errorf("List(%v) succeeded", tgt)
		}
	}
	if n := len(f.got("")); n != 0 {
		t.Errorf("%d requests sent for bad targets", n)
	}
}

func TestErrors(t *testing.T) {
	spec := hooks.Spec{URL: "https://reflex.example.com/hooks/ci", Events: []string{"push"}, ContentType: "json", Secret: []byte("s")}
	tests := []struct {
		name   string
		setup  func(f *fake)
		token  string
		target hooks.Target
		create bool
		want   []string
		limit  bool
	}{
		{
			name:   "bad token",
			token:  "ghp_wrong",
			target: repoAPI,
			want:   []string{"GitHub refused the credentials (401 Bad credentials)", "wrong, expired or revoked"},
		},
		{
			name: "no permission on a repository",
			setup: func(f *fake) {
				f.answerAlways("GET /repos/acme/api/hooks", answer{status: 403, header: map[string]string{"X-Accepted-GitHub-Permissions": "repository_hooks=read"},
					body: `{"message":"Resource not accessible by personal access token"}`})
			},
			target: repoAPI,
			want:   []string{"the token may not (403 Resource not accessible", `"Webhooks" repository permission`, "admin:repo_hook", "GitHub asks for repository_hooks=read"},
		},
		{
			name: "no permission on an organization",
			setup: func(f *fake) {
				f.answerAlways("GET /orgs/acme/hooks", answer{status: 403, header: map[string]string{"X-Accepted-OAuth-Scopes": "admin:org_hook", "X-OAuth-Scopes": "repo"},
					body: `{"message":"Must have admin rights to Repository."}`})
			},
			target: orgAcme,
			want:   []string{"admin:org_hook", `"Webhooks" organization permission`, "(the token has repo)"},
		},
		{
			name:   "no such repository",
			target: hooks.Target{Provider: "github", Kind: hooks.KindRepository, Name: "acme/nope"},
			want:   []string{"repository acme/nope: list hooks: not found, or the token cannot see it"},
		},
		{
			name: "the hook limit",
			setup: func(f *fake) {
				var hs []*fakeHook
				for i := range 20 {
					hs = append(hs, &fakeHook{ID: int64(i + 1), URL: "https://x.example/" + strconv.Itoa(i), ContentType: "json", Events: []string{"push"}, Active: true})
				}
				f.setHooks("repos/acme/api", hs...)
			},
			target: repoAPI,
			create: true,
			want:   []string{`acme/api holds the most hooks GitHub allows (20 per event): Validation Failed: The "push" event cannot have more than 20 hooks`},
			limit:  true,
		},
		{
			name: "a 422 that is no limit",
			setup: func(f *fake) {
				f.answerAlways("POST /repos/acme/api/hooks", answer{status: 422, body: `{"message":"Validation Failed","errors":[{"resource":"Hook","code":"custom","message":"Hook already exists on this repository"}]}`})
			},
			target: repoAPI,
			create: true,
			want:   []string{"GitHub refused it (422 Validation Failed: Hook already exists on this repository)"},
		},
		{
			name: "a server error",
			setup: func(f *fake) {
				f.answerAlways("GET /repos/acme/api/hooks", answer{status: 502, body: `{"message":"Server Error"}`})
			},
			target: repoAPI,
			want:   []string{"repository acme/api: list hooks:", "502"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.setHooks("repos/acme/api")
			f.setHooks("orgs/acme")
			if tt.setup != nil {
				tt.setup(f)
			}
			token := testToken
			if tt.token != "" {
				token = tt.token
			}
			p, err := New(Options{Token: token, APIURL: f.apiURL(), HTTPClient: f.srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			if tt.create {
				_, err = p.Create(context.Background(), tt.target, spec)
			} else {
				_, err = p.List(context.Background(), tt.target)
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			if errors.Is(err, hooks.ErrLimit) != tt.limit {
				t.Errorf("errors.Is(ErrLimit) = %v, want %v", !tt.limit, tt.limit)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error holds a credential: %v", err)
			}
		})
	}
}

func TestNoRedirectToAnotherHost(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the credentials followed a redirect to another host")
		}
		writeJSON(w, http.StatusOK, []any{})
	}))
	defer other.Close()
	f := newFake(t)
	f.answerAlways("GET /repos/acme/api/hooks", answer{status: http.StatusMovedPermanently, header: map[string]string{"Location": other.URL + "/steal"}, body: `{}`})
	p := f.provider(t)
	_, err := p.List(context.Background(), repoAPI)
	if err == nil || !strings.Contains(err.Error(), "refused a redirect") {
		t.Errorf("List: %v, want a refused redirect", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
}

func TestTimeout(t *testing.T) {
	f := newFake(t)
	f.setHooks("repos/acme/api")
	f.delay = 2 * time.Second
	p, err := New(Options{Token: testToken, APIURL: f.apiURL(), HTTPClient: f.srv.Client(), Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = p.List(context.Background(), repoAPI)
	if err == nil {
		t.Fatal("List succeeded past its timeout")
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("List took %s with a 100ms timeout", el)
	}
}
