package github

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

const appID = 4242

// appProvider returns a Provider on the fake as the App, with
// installation id inst (0: looked up).
func (f *fake) appProvider(t *testing.T, pemKey []byte, inst int64) *Provider {
	t.Helper()
	p, err := New(Options{App: &AppAuth{AppID: appID, PrivateKey: pemKey, InstallationID: inst}, APIURL: f.apiURL(), HTTPClient: f.srv.Client(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// calls returns "METHOD path auth" of the requests, the JWT shown as JWT.
func (f *fake) calls() []string {
	var out []string
	for _, r := range f.got("") {
		auth := r.Auth
		if strings.HasPrefix(auth, "Bearer ") && strings.Count(auth, ".") == 2 {
			auth = "JWT"
		}
		out = append(out, r.Method+" "+r.Path+" "+auth)
	}
	return out
}

// TestAppTokenReusedThenRefreshed runs the App flow end to end: the
// installation is found with the App's JWT (which the fake checks: RS256
// under the App's key, iss the App id, issued a minute back, expiring
// within 10 minutes), its token is fetched once and reused, and fetched
// anew once it nears expiry. ghinstallation refreshes a token a minute
// before its expires_at, so the fake hands out tokens for 63 s: the
// refresh falls 2-3 s on, the first two calls come well before it, and
// the test sleeps past it for the third.
func TestAppTokenReusedThenRefreshed(t *testing.T) {
	f := newFake(t)
	pemKey := f.withApp(appID, 63*time.Second)
	f.installations["repos/acme/api"] = 77
	f.setHooks("repos/acme/api", &fakeHook{ID: 1, URL: "https://x.example/", ContentType: "json", Events: []string{"push"}, Active: true})
	f.setHooks("repos/acme/web")
	p := f.appProvider(t, pemKey, 0)
	ctx := context.Background()

	if _, err := p.List(ctx, repoAPI); err != nil {
		t.Fatalf("List: %v (refused: %v)", err, f.authErrors)
	}
	if _, err := p.List(ctx, repoT("acme/web")); err != nil {
		t.Fatal(err)
	}
	if len(f.issued) != 1 {
		t.Fatalf("%d tokens issued for two calls, want 1 reused", len(f.issued))
	}
	tok1 := "token " + f.issued[0]
	want := []string{
		"GET /repos/acme/api/installation JWT",
		"POST /app/installations/77/access_tokens JWT",
		"GET /repos/acme/api/hooks " + tok1,
		"GET /repos/acme/web/hooks " + tok1, // the owner's installation, known
	}
	if d := cmp.Diff(want, f.calls()); d != "" {
		t.Fatalf("requests (-want +got):\n%s", d)
	}

	f.mu.Lock()
	refreshAt := f.tokens[f.issued[0]].Add(-time.Minute)
	f.mu.Unlock()
	time.Sleep(time.Until(refreshAt) + 200*time.Millisecond)
	if _, err := p.List(ctx, repoAPI); err != nil {
		t.Fatal(err)
	}
	if len(f.issued) != 2 {
		t.Fatalf("%d tokens issued, want a second once the first neared expiry", len(f.issued))
	}
	want = append(want,
		"POST /app/installations/77/access_tokens JWT",
		"GET /repos/acme/api/hooks token "+f.issued[1],
	)
	if d := cmp.Diff(want, f.calls()); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	if len(f.authErrors) > 0 {
		t.Errorf("requests refused: %v", f.authErrors)
	}
}

func TestAppInstallationLookups(t *testing.T) {
	tests := []struct {
		name string
		do   func(p *Provider) (any, error)
		want any
		reqs []string
	}{
		{
			name: "an organization's hooks",
			do:   func(p *Provider) (any, error) { return p.List(context.Background(), orgAcme) },
			want: []hooks.Hook(nil),
			reqs: []string{"GET /orgs/acme/installation", "POST /app/installations/77/access_tokens", "GET /orgs/acme/hooks"},
		},
		{
			name: "a glob over a user's repositories",
			do: func(p *Provider) (any, error) {
				return p.Expand(context.Background(), hooks.Selection{Repositories: []string{"bob/b*"}})
			},
			want: []hooks.Target{repoT("bob/blog")},
			reqs: []string{
				"GET /orgs/bob/installation", "GET /users/bob/installation",
				"POST /app/installations/88/access_tokens", "GET /orgs/bob/repos",
				"GET /installation/repositories", "GET /installation/repositories",
			},
		},
		{
			name: "a glob over an organization's repositories",
			do: func(p *Provider) (any, error) {
				return p.Expand(context.Background(), hooks.Selection{Repositories: []string{"acme/*"}})
			},
			want: []hooks.Target{repoT("acme/api")},
			reqs: []string{"GET /orgs/acme/installation", "POST /app/installations/77/access_tokens", "GET /orgs/acme/repos"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			pemKey := f.withApp(appID, time.Hour)
			f.installations["orgs/acme"] = 77
			f.installations["users/bob"] = 88
			f.instRepos[88] = []fakeRepo{{"bob", "blog", false}, {"bob", "bin", true}, {"bob", "dots", false}}
			f.orgs["acme"] = []fakeRepo{{"acme", "api", false}}
			f.setHooks("orgs/acme")
			p := f.appProvider(t, pemKey, 0)
			got, err := tt.do(p)
			if err != nil {
				t.Fatalf("%v (refused: %v)", err, f.authErrors)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("result (-want +got):\n%s", d)
			}
			var reqs []string
			for _, r := range f.got("") {
				reqs = append(reqs, r.Method+" "+r.Path)
			}
			if d := cmp.Diff(tt.reqs, reqs); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
		})
	}
}

func TestAppInstallationSelection(t *testing.T) {
	f := newFake(t)
	pemKey := f.withApp(appID, time.Hour)
	f.installations["orgs/acme"] = 77
	f.instRepos[77] = []fakeRepo{{"acme", "api", false}, {"acme", "old", true}, {"acme", "web", false}, {"acme", "docs", false}}
	ctx := context.Background()
	want := []hooks.Target{repoT("acme/api"), repoT("acme/web"), repoT("acme/docs")}

	// The App's only installation, found.
	p := f.appProvider(t, pemKey, 0)
	got, err := p.Expand(ctx, hooks.Selection{Installation: true})
	if err != nil {
		t.Fatalf("%v (refused: %v)", err, f.authErrors)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Expand (-want +got):\n%s", d)
	}
	if n := len(f.got("GET /installation/repositories")); n != 2 {
		t.Errorf("%d pages of the installation's repositories asked, want 2", n)
	}
	if n := len(f.got("GET /app/installations")); n != 1 {
		t.Errorf("the App's installations asked %d times", n)
	}

	// The configured installation: nothing looked up.
	f.requests = nil
	p = f.appProvider(t, pemKey, 77)
	if got, err = p.Expand(ctx, hooks.Selection{Installation: true}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Expand (-want +got):\n%s", d)
	}
	if n := len(f.got("GET /app/installations")); n != 0 {
		t.Errorf("the installations were listed with one configured")
	}

	// Two installations: which one?
	f.installations["users/bob"] = 88
	p = f.appProvider(t, pemKey, 0)
	_, err = p.Expand(ctx, hooks.Selection{Installation: true})
	if err == nil || !strings.Contains(err.Error(), "has 2 installations (acme (77), bob (88))") {
		t.Errorf("Expand with two installations: %v", err)
	}
}

func TestAppErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fake) []byte
		want  string
	}{
		{
			name:  "not installed on the repository",
			setup: func(f *fake) []byte { return f.withApp(appID, time.Hour) },
			want:  "the GitHub App 4242 is not installed on acme/api",
		},
		{
			name: "a wrong App id",
			setup: func(f *fake) []byte {
				pemKey := f.withApp(appID, time.Hour)
				f.installations["repos/acme/api"] = 77
				f.appID = 999 // the JWT's iss is then wrong
				return pemKey
			},
			want: "GitHub refused the credentials (401 Bad credentials): the App id or private key is wrong",
		},
		{
			name: "no token for the installation",
			setup: func(f *fake) []byte {
				pemKey := f.withApp(appID, time.Hour)
				f.installations["repos/acme/api"] = 77
				f.answerAlways("POST /app/installations/77/access_tokens", answer{status: 403, body: `{"message":"This installation has been suspended"}`})
				return pemKey
			},
			want: "the GitHub App 4242's installation token could not be had",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			pemKey := tt.setup(f)
			f.setHooks("repos/acme/api")
			p := f.appProvider(t, pemKey, 0)
			_, err := p.List(context.Background(), repoAPI)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("List: %v\nwant an error with %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("the error holds the key")
			}
		})
	}
}
