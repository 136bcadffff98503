package gitlab

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

// expandFake returns a fake holding group acme (with subgroup acme/sub),
// group acme/sub, and user alice, and their projects.
func expandFake(t *testing.T) *fakeGitLab {
	f := newFake(t)
	f.groups["acme"], f.groups["acme/sub"], f.users["alice"] = true, true, true
	for _, full := range []string{"acme/api", "acme/api-v2", "acme/web", "acme/sub/api-deep", "acme/sub/tools", "alice/dotfiles", "alice/api-play", "other/api"} {
		f.projects = append(f.projects, project{Path: full[strings.LastIndex(full, "/")+1:], PathWithNamespace: full})
	}
	return f
}

func projects(names ...string) []hooks.Target {
	out := make([]hooks.Target, 0, len(names))
	for _, n := range names {
		out = append(out, hooks.Target{Provider: Name, Kind: hooks.KindProject, Name: n})
	}
	return out
}

func TestExpand(t *testing.T) {
	t.Parallel()
	groupQuery := func(page, subgroups string) string {
		return "GET /api/v4/groups/acme/projects?archived=false&include_subgroups=" + subgroups + "&page=" + page + "&per_page=100&simple=true&with_shared=false"
	}
	for _, tc := range []struct {
		name string
		sel  hooks.Selection
		want []hooks.Target
		reqs []string
	}{
		{
			name: "names as they are",
			sel:  hooks.Selection{Projects: []string{"acme/web", "acme/sub/api-deep"}, Groups: []string{"acme", "acme/sub"}},
			want: append([]hooks.Target{{Provider: Name, Kind: hooks.KindGroup, Name: "acme"}, {Provider: Name, Kind: hooks.KindGroup, Name: "acme/sub"}}, projects("acme/sub/api-deep", "acme/web")...),
		},
		{
			name: "repositories and organizations are projects and groups",
			sel:  hooks.Selection{Repositories: []string{"acme/web"}, Organizations: []string{"acme"}, Projects: []string{"acme/web"}},
			want: append([]hooks.Target{{Provider: Name, Kind: hooks.KindGroup, Name: "acme"}}, projects("acme/web")...),
		},
		{
			name: "a group's own projects, every page",
			sel:  hooks.Selection{Projects: []string{"acme/*"}},
			want: projects("acme/api", "acme/api-v2", "acme/web"),
			reqs: []string{groupQuery("1", "false"), groupQuery("2", "false")},
		},
		{
			name: "a pattern",
			sel:  hooks.Selection{Projects: []string{"acme/api*"}},
			want: projects("acme/api", "acme/api-v2"),
			reqs: []string{groupQuery("1", "false"), groupQuery("2", "false")},
		},
		{
			name: "with subgroups",
			sel:  hooks.Selection{Projects: []string{"acme/**"}},
			want: projects("acme/api", "acme/api-v2", "acme/sub/api-deep", "acme/sub/tools", "acme/web"),
			reqs: []string{groupQuery("1", "true"), groupQuery("2", "true"), groupQuery("3", "true")},
		},
		{
			name: "a pattern at any depth",
			sel:  hooks.Selection{Projects: []string{"acme/**/api-*"}},
			want: projects("acme/api-v2", "acme/sub/api-deep"),
			reqs: []string{groupQuery("1", "true"), groupQuery("2", "true"), groupQuery("3", "true")},
		},
		{
			name: "a subgroup",
			sel:  hooks.Selection{Projects: []string{"acme/sub/*"}},
			want: projects("acme/sub/api-deep", "acme/sub/tools"),
			reqs: []string{"GET /api/v4/groups/acme%2Fsub/projects?archived=false&include_subgroups=false&page=1&per_page=100&simple=true&with_shared=false"},
		},
		{
			name: "a user's projects",
			sel:  hooks.Selection{Projects: []string{"alice/*"}},
			want: projects("alice/api-play", "alice/dotfiles"),
			reqs: []string{
				"GET /api/v4/groups/alice/projects?archived=false&include_subgroups=false&page=1&per_page=100&simple=true&with_shared=false",
				"GET /api/v4/users/alice/projects?archived=false&page=1&per_page=100&simple=true",
			},
		},
		{
			name: "a glob and a name overlapping",
			sel:  hooks.Selection{Projects: []string{"acme/web", "acme/w*"}},
			want: projects("acme/web"),
			reqs: []string{groupQuery("1", "false"), groupQuery("2", "false")},
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
		{"a bare glob", hooks.Selection{Projects: []string{"**"}}, "only the last segment"},
		{"a glob inside", hooks.Selection{Projects: []string{"acme/*/api"}}, "only the last segment"},
		{"a bad pattern", hooks.Selection{Projects: []string{"acme/[a"}}, "syntax error in pattern"},
		{"a group glob", hooks.Selection{Groups: []string{"ac*"}}, "full path"},
		{"a bad name", hooks.Selection{Projects: []string{"acme/api/"}}, "not a full path"},
		{"an unknown namespace", hooks.Selection{Projects: []string{"nobody/*"}}, "no group or user nobody"},
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
