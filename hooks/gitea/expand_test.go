package gitea

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

// expandFake returns a fake holding organization acme and user alice,
// and their repositories.
func expandFake(t *testing.T) *fakeGitea {
	f := newFake(t)
	f.owners["acme"], f.owners["alice"] = "orgs", "users"
	f.repos["acme"] = []repository{
		{Name: "api", FullName: "acme/api"}, {Name: "web-app", FullName: "acme/web-app"},
		{Name: "web-old", FullName: "acme/web-old", Archived: true}, {Name: "web-site", FullName: "acme/web-site"},
		{Name: "Web-Caps", FullName: "acme/Web-Caps"},
	}
	f.repos["alice"] = []repository{{Name: "dotfiles", FullName: "alice/dotfiles"}, {Name: "web-play", FullName: "alice/web-play"}}
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
	orgPages := []string{
		"GET /api/v1/orgs/acme/repos?limit=50&page=1",
		"GET /api/v1/orgs/acme/repos?limit=50&page=2",
		"GET /api/v1/orgs/acme/repos?limit=50&page=3",
	}
	for _, tc := range []struct {
		name string
		sel  hooks.Selection
		want []hooks.Target
		reqs []string
	}{
		{
			name: "names as they are",
			sel:  hooks.Selection{Repositories: []string{"acme/web-app", "acme/api", "acme/api"}, Organizations: []string{"acme"}},
			want: append([]hooks.Target{{Provider: Name, Kind: hooks.KindOrganization, Name: "acme"}}, repos("acme/api", "acme/web-app")...),
		},
		{
			name: "an organization's repositories, every page, archived skipped",
			sel:  hooks.Selection{Repositories: []string{"acme/web-*"}},
			want: repos("acme/web-app", "acme/web-site"),
			reqs: orgPages,
		},
		{
			name: "every repository",
			sel:  hooks.Selection{Repositories: []string{"acme/*"}},
			want: repos("acme/Web-Caps", "acme/api", "acme/web-app", "acme/web-site"),
			reqs: orgPages,
		},
		{
			name: "a user's repositories",
			sel:  hooks.Selection{Repositories: []string{"alice/web-?lay"}},
			want: repos("alice/web-play"),
			reqs: []string{"GET /api/v1/orgs/alice/repos?limit=50&page=1", "GET /api/v1/users/alice/repos?limit=50&page=1"},
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
	}{
		{"installation", hooks.Selection{Installation: true}, "GitHub's"},
		{"projects", hooks.Selection{Projects: []string{"acme/api"}}, "GitLab's"},
		{"groups", hooks.Selection{Groups: []string{"acme"}}, "GitLab's"},
		{"an owner glob", hooks.Selection{Repositories: []string{"ac*/api"}}, "the owner named exactly"},
		{"a deeper glob", hooks.Selection{Repositories: []string{"acme/a/*"}}, "the owner named exactly"},
		{"a bad pattern", hooks.Selection{Repositories: []string{"acme/[a"}}, "syntax error in pattern"},
		{"an organization glob", hooks.Selection{Organizations: []string{"ac*"}}, "name organizations exactly"},
		{"a bad name", hooks.Selection{Repositories: []string{"acme"}}, "not a repository"},
		{"an unknown owner", hooks.Selection{Repositories: []string{"nobody/*"}}, "no organization or user nobody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := expandFake(t)
			_, err := f.provider(Options{}).Expand(t.Context(), tc.sel)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Expand = %v, want %q", err, tc.want)
			}
		})
	}
}
