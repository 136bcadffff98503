package bitbucket

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

// expandFake returns a fake holding workspace acme's repositories and
// workspace empty.
func expandFake(t *testing.T) *fakeBitbucket {
	f := newFake(t)
	f.repos["acme"] = []string{"api", "api-v2", "web", "web-admin", "tools"}
	f.repos["empty"] = []string{}
	return f
}

func repos(names ...string) []hooks.Target {
	out := make([]hooks.Target, 0, len(names))
	for _, n := range names {
		out = append(out, hooks.Target{Provider: Name, Kind: hooks.KindRepository, Name: n})
	}
	return out
}

func TestExpand(t *testing.T) {
	t.Parallel()
	acmePages := []string{
		"GET /2.0/repositories/acme?pagelen=100",
		"GET /2.0/repositories/acme?page=2&pagelen=100",
		"GET /2.0/repositories/acme?page=3&pagelen=100",
	}
	for _, tc := range []struct {
		name string
		sel  hooks.Selection
		want []hooks.Target
		reqs []string
	}{
		{
			name: "names as they are",
			sel:  hooks.Selection{Repositories: []string{"acme/web", "other/api", "acme/web"}},
			want: repos("acme/web", "other/api"),
		},
		{
			name: "workspaces",
			sel:  hooks.Selection{Organizations: []string{"acme", "other"}, Repositories: []string{"acme/api"}},
			want: append([]hooks.Target{{Provider: Name, Kind: hooks.KindOrganization, Name: "acme"}, {Provider: Name, Kind: hooks.KindOrganization, Name: "other"}}, repos("acme/api")...),
		},
		{
			name: "every repository, every page",
			sel:  hooks.Selection{Repositories: []string{"acme/*"}},
			want: repos("acme/api", "acme/api-v2", "acme/tools", "acme/web", "acme/web-admin"),
			reqs: acmePages,
		},
		{
			name: "a pattern, with a name it also matches",
			sel:  hooks.Selection{Repositories: []string{"acme/web*", "acme/web"}},
			want: repos("acme/web", "acme/web-admin"),
			reqs: acmePages,
		},
		{
			name: "a character class",
			sel:  hooks.Selection{Repositories: []string{"acme/api-v[0-9]"}},
			want: repos("acme/api-v2"),
			reqs: acmePages,
		},
		{
			name: "none matches",
			sel:  hooks.Selection{Repositories: []string{"empty/*", "acme/nothing-*"}},
			want: nil,
			reqs: append([]string{"GET /2.0/repositories/empty?pagelen=100"}, acmePages...),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := expandFake(t)
			got, err := f.provider(Options{}).Expand(t.Context(), tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Expand (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.reqs, f.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpandRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sel  hooks.Selection
		want string
		reqs int
	}{
		{"installation", hooks.Selection{Installation: true}, "GitHub's", 0},
		{"projects", hooks.Selection{Projects: []string{"acme/api"}}, "GitLab's", 0},
		{"groups", hooks.Selection{Groups: []string{"acme"}}, "GitLab's", 0},
		{"a workspace glob", hooks.Selection{Organizations: []string{"ac*"}}, "name workspaces exactly", 0},
		{"a bad workspace", hooks.Selection{Organizations: []string{"ac me"}}, "not a Bitbucket workspace", 0},
		{"a bad repository", hooks.Selection{Repositories: []string{"acme"}}, "workspace/repo-slug", 0},
		{"a glob in the workspace", hooks.Selection{Repositories: []string{"ac*/api"}}, "the workspace named exactly", 0},
		{"a glob with depth", hooks.Selection{Repositories: []string{"acme/a/*"}}, "the workspace named exactly", 0},
		{"a bad pattern", hooks.Selection{Repositories: []string{"acme/[a"}}, "syntax error in pattern", 0},
		{"an unknown workspace", hooks.Selection{Repositories: []string{"nobody/*"}}, "no workspace nobody is visible to the credentials", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := expandFake(t)
			got, err := f.provider(Options{}).Expand(t.Context(), tc.sel)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Expand = %v, %v; want %q", got, err, tc.want)
			}
			if n := len(f.requests()); n != tc.reqs {
				t.Errorf("%d requests, want %d", n, tc.reqs)
			}
		})
	}
}

func TestExpandListingForbidden(t *testing.T) {
	t.Parallel()
	f := expandFake(t)
	f.answerOnce("GET /2.0/repositories/acme", canned{status: 403, body: `{"type":"error","error":{"message":"Your credentials lack one or more required privilege scopes."}}`})
	_, err := f.provider(Options{}).Expand(t.Context(), hooks.Selection{Repositories: []string{"acme/*"}})
	for _, want := range []string{"403", "read:repository:bitbucket", "Repositories: Read", "lack one or more required privilege scopes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Expand = %v, want %q", err, want)
		}
	}
}
