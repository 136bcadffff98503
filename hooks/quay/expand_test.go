package quay

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

func repositories(names ...string) []hooks.Target {
	out := make([]hooks.Target, 0, len(names))
	for _, n := range names {
		out = append(out, hooks.Target{Provider: Name, Kind: hooks.KindRepository, Name: n})
	}
	return out
}

// expandFake returns a fake holding namespace acme's repositories api
// (from newFake), web, api-v2, team/tools (an extended name), old (marked
// for deletion), and other/api.
func expandFake(t *testing.T) *fakeQuay {
	f := newFake(t)
	f.addRepo("acme", "web", "NORMAL")
	f.addRepo("acme", "api-v2", "MIRROR")
	f.addRepo("acme", "team/tools", "NORMAL")
	f.addRepo("acme", "old", "MARKED_FOR_DELETION")
	f.addRepo("other", "api", "NORMAL")
	return f
}

func TestExpand(t *testing.T) {
	t.Parallel()
	pages := []string{
		"GET /api/v1/repository?namespace=acme",
		"GET /api/v1/repository?namespace=acme&next_page=page-token-2",
		"GET /api/v1/repository?namespace=acme&next_page=page-token-4",
	}
	for _, tc := range []struct {
		name string
		sel  hooks.Selection
		want []hooks.Target
		reqs []string
	}{
		{
			name: "names as they are",
			sel:  hooks.Selection{Repositories: []string{"acme/web", "other/api", "acme/team/tools", "acme/web"}},
			want: repositories("acme/team/tools", "acme/web", "other/api"),
		},
		{
			name: "a namespace's repositories, every page",
			sel:  hooks.Selection{Repositories: []string{"acme/*"}},
			want: repositories("acme/api", "acme/api-v2", "acme/web"),
			reqs: pages,
		},
		{
			name: "a pattern",
			sel:  hooks.Selection{Repositories: []string{"acme/api*"}},
			want: repositories("acme/api", "acme/api-v2"),
			reqs: pages,
		},
		{
			name: "within an extended name",
			sel:  hooks.Selection{Repositories: []string{"acme/team/*"}},
			want: repositories("acme/team/tools"),
			reqs: pages,
		},
		{
			name: "marked for deletion",
			sel:  hooks.Selection{Repositories: []string{"acme/ol?"}},
			want: repositories(),
			reqs: pages,
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
		{"organizations", hooks.Selection{Organizations: []string{"acme"}}, `not organizations: select repositories, e.g. "acme/*"`},
		{"projects", hooks.Selection{Projects: []string{"acme/api"}}, "GitLab's"},
		{"a namespace glob", hooks.Selection{Repositories: []string{"ac*/api"}}, "the namespace named exactly"},
		{"a bare glob", hooks.Selection{Repositories: []string{"*"}}, "the namespace named exactly"},
		{"a bad pattern", hooks.Selection{Repositories: []string{"acme/[a"}}, "syntax error in pattern"},
		{"a bad name", hooks.Selection{Repositories: []string{"acme"}}, "not a repository"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := expandFake(t)
			_, err := f.provider(Options{}).Expand(t.Context(), tc.sel)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Expand = %v, want %q", err, tc.want)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

func TestExpandNextPageLoop(t *testing.T) {
	t.Parallel()
	f := expandFake(t)
	f.answerOnce("GET /api/v1/repository", canned{status: 200, body: `{"repositories":[],"next_page":"same"}`})
	f.answerOnce("GET /api/v1/repository", canned{status: 200, body: `{"repositories":[],"next_page":"same"}`})
	_, err := f.provider(Options{}).Expand(t.Context(), hooks.Selection{Repositories: []string{"acme/*"}})
	if err == nil || !strings.Contains(err.Error(), "the page just read") {
		t.Errorf("Expand = %v, want the loop refused", err)
	}
}
