package github

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/hooks"
)

func repoT(name string) hooks.Target {
	return hooks.Target{Provider: "github", Kind: hooks.KindRepository, Name: name}
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name  string
		sel   hooks.Selection
		want  []hooks.Target
		asked []string // the list requests, in order
	}{
		{
			name: "names as they are, unasked",
			sel:  hooks.Selection{Repositories: []string{"acme/api", "Acme/API", "bob/dots"}},
			want: []hooks.Target{repoT("acme/api"), repoT("bob/dots")},
		},
		{
			name: "a glob over an organization, every page, archived skipped",
			sel:  hooks.Selection{Repositories: []string{"acme/web-*"}},
			want: []hooks.Target{repoT("acme/web-app"), repoT("acme/web-site")},
			asked: []string{
				"GET /orgs/acme/repos?per_page=100&type=all",
				"GET /orgs/acme/repos?page=2&per_page=100&type=all",
				"GET /orgs/acme/repos?page=3&per_page=100&type=all",
			},
		},
		{
			name:  "a glob over the token's own user: private ones too",
			sel:   hooks.Selection{Repositories: []string{"octo/*"}},
			want:  []hooks.Target{repoT("octo/dotfiles"), repoT("octo/private-notes")},
			asked: []string{"GET /orgs/octo/repos?per_page=100&type=all", "GET /user", "GET /user/repos?affiliation=owner&per_page=100"},
		},
		{
			name:  "a glob over another user",
			sel:   hooks.Selection{Repositories: []string{"bob/[a-c]*"}},
			want:  []hooks.Target{repoT("bob/blog")},
			asked: []string{"GET /orgs/bob/repos?per_page=100&type=all", "GET /user", "GET /users/bob/repos?per_page=100&type=owner"},
		},
		{
			name: "organizations",
			sel:  hooks.Selection{Organizations: []string{"acme", "ACME", "globex"}},
			want: []hooks.Target{{Provider: "github", Kind: hooks.KindOrganization, Name: "acme"}, {Provider: "github", Kind: hooks.KindOrganization, Name: "globex"}},
		},
		{
			name: "a glob matching nothing",
			sel:  hooks.Selection{Repositories: []string{"acme/zzz*"}},
			want: nil,
			asked: []string{
				"GET /orgs/acme/repos?per_page=100&type=all",
				"GET /orgs/acme/repos?page=2&per_page=100&type=all",
				"GET /orgs/acme/repos?page=3&per_page=100&type=all",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.orgs["acme"] = []fakeRepo{{"acme", "web-app", false}, {"acme", "api", false}, {"acme", "web-old", true}, {"acme", "web-site", false}, {"acme", "docs", false}}
			f.users["octo"] = []fakeRepo{{"octo", "dotfiles", false}, {"octo", "private-notes", false}}
			f.users["bob"] = []fakeRepo{{"bob", "blog", false}, {"bob", "dots", false}}
			p := f.provider(t)
			var pr progress
			got, err := p.Expand(pr.ctx(context.Background()), tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Expand (-want +got):\n%s", d)
			}
			var asked []string
			for _, r := range f.got("") {
				asked = append(asked, r.Method+" "+r.Path+queryString(r))
			}
			if d := cmp.Diff(tt.asked, asked); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
			if tt.want == nil && !pr.has("matches no repository") {
				t.Errorf("an empty glob was not reported: %q", pr.String())
			}
		})
	}
}

func queryString(r request) string {
	if len(r.Query) == 0 {
		return ""
	}
	return "?" + r.Query.Encode()
}

func TestExpandRefuses(t *testing.T) {
	tests := []struct {
		name string
		sel  hooks.Selection
		want string
	}{
		{"installation with a token", hooks.Selection{Installation: true}, "needs GitHub App credentials"},
		{"GitLab's projects", hooks.Selection{Projects: []string{"acme/api"}}, "GitLab's"},
		{"no owner", hooks.Selection{Repositories: []string{"api"}}, "not owner/name"},
		{"a pattern owner", hooks.Selection{Repositories: []string{"ac*/api"}}, "owner cannot be a pattern"},
		{"a bad pattern", hooks.Selection{Repositories: []string{"acme/[x"}}, "bad pattern"},
		{"a path in a name", hooks.Selection{Repositories: []string{"acme/../x"}}, "not owner/name"},
		{"a bad organization", hooks.Selection{Organizations: []string{"acme/api"}}, "not a GitHub name"},
		{"an unknown owner", hooks.Selection{Repositories: []string{"nobody/*"}}, "no organization or user of that name, or the token cannot see it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			p := f.provider(t)
			_, err := p.Expand(context.Background(), tt.sel)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Expand: %v, want an error with %q", err, tt.want)
			}
		})
	}
}
