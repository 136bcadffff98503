package harbor

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

func projects(names ...string) []hooks.Target {
	out := make([]hooks.Target, 0, len(names))
	for _, n := range names {
		out = append(out, hooks.Target{Provider: Name, Kind: hooks.KindProject, Name: n})
	}
	return out
}

// expandFake returns a fake holding private projects acme (from newFake),
// team-api, team-web, and public ones library (which the account may
// manage) and team-public (which it may not).
func expandFake(t *testing.T) *fakeHarbor {
	f := newFake(t)
	f.addProject("team-api", false)
	f.addProject("library", true)
	f.addProject("team-web", false)
	f.addProject("team-public", true).forbidden = true
	return f
}

func TestExpand(t *testing.T) {
	t.Parallel()
	list := func(page string) string {
		return "GET /api/v2.0/projects?page=" + page + "&page_size=100&with_detail=false"
	}
	probe := func(name string) string {
		return "GET /api/v2.0/projects/" + name + "/webhook/policies?page=1&page_size=1"
	}
	for _, tc := range []struct {
		name string
		sel  hooks.Selection
		want []hooks.Target
		reqs []string
	}{
		{
			name: "names as they are",
			sel:  hooks.Selection{Projects: []string{"team-web", "acme", "team-web"}},
			want: projects("acme", "team-web"),
		},
		{
			name: "a glob over every page",
			sel:  hooks.Selection{Projects: []string{"team-*"}},
			want: projects("team-api", "team-web"),
			reqs: []string{list("1"), list("2"), list("3"), probe("team-public")},
		},
		{
			name: "every project: public ones the account may manage",
			sel:  hooks.Selection{Projects: []string{"*"}},
			want: projects("acme", "library", "team-api", "team-web"),
			reqs: []string{list("1"), list("2"), list("3"), probe("library"), probe("team-public")},
		},
		{
			name: "two globs, one listing",
			sel:  hooks.Selection{Projects: []string{"acme", "team-a*", "?cme"}},
			want: projects("acme", "team-api"),
			reqs: []string{list("1"), list("2"), list("3")},
		},
		{
			name: "none matches",
			sel:  hooks.Selection{Projects: []string{"nothing-*"}},
			want: projects(),
			reqs: []string{list("1"), list("2"), list("3")},
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
		{"repositories", hooks.Selection{Repositories: []string{"acme/api"}}, "not repositories"},
		{"organizations", hooks.Selection{Organizations: []string{"acme"}}, "not organizations"},
		{"groups", hooks.Selection{Groups: []string{"acme"}}, "not organizations or groups"},
		{"a bad name", hooks.Selection{Projects: []string{"Acme"}}, "not a Harbor project name"},
		{"a bad pattern", hooks.Selection{Projects: []string{"team-[a"}}, "syntax error in pattern"},
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

func TestExpandProbeFails(t *testing.T) {
	t.Parallel()
	f := expandFake(t)
	f.answerOnce("GET /api/v2.0/projects/library/webhook/policies", canned{status: 500, body: `{"errors":[{"code":"UNKNOWN","message":"database down"}]}`})
	_, err := f.provider(Options{}).Expand(t.Context(), hooks.Selection{Projects: []string{"lib*"}})
	if err == nil || !strings.Contains(err.Error(), "project library") || !strings.Contains(err.Error(), "database down") {
		t.Errorf("Expand = %v, want the probe's failure", err)
	}
}
