package bitbucket

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/restapi"
)

// Expand resolves a selection into targets:
//   - Repositories "workspace/repo-slug" as they are;
//   - a glob in the slug, "workspace/web-*", over the workspace's
//     repositories (GET /2.0/repositories/{workspace}, every page),
//     matched on each repository's slug (path.Match, case-sensitive);
//   - Organizations, which are workspaces, as organization targets: the
//     workspace's own hooks, which Bitbucket fires for every repository
//     in it.
//
// Projects and Groups are GitLab's, and an App installation GitHub's:
// they are refused.
func (p *Provider) Expand(ctx context.Context, sel hooks.Selection) ([]hooks.Target, error) {
	switch {
	case sel.Installation:
		return nil, fmt.Errorf("%s: an App installation is GitHub's: select repositories or organizations (workspaces)", p.name)
	case len(sel.Projects) > 0 || len(sel.Groups) > 0:
		return nil, fmt.Errorf("%s: projects and groups are GitLab's: select repositories or organizations (workspaces)", p.name)
	}
	seen := map[hooks.Target]bool{}
	var out []hooks.Target
	add := func(kind, name string) {
		t := hooks.Target{Provider: p.name, Kind: kind, Name: name}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	names, err := restapi.ExpandNames(ctx, p.name, "repositories", sel.Repositories, checkRepo, p.glob)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		add(hooks.KindRepository, n)
	}
	for _, name := range sel.Organizations {
		if hooks.IsGlob(name) {
			return nil, fmt.Errorf("%s: workspace %q: name workspaces exactly; globs select repositories", p.name, name)
		}
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("%s: workspace: %w", p.name, err)
		}
		add(hooks.KindOrganization, name)
	}
	slices.SortFunc(out, func(a, b hooks.Target) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// repository is a repository as Bitbucket's listings show it.
type repository struct {
	Slug string `json:"slug"`
}

// glob returns the names ("workspace/slug") of the repositories
// "workspace/pattern" matches.
func (p *Provider) glob(ctx context.Context, pattern string) ([]string, error) {
	workspace, name, ok := strings.Cut(pattern, "/")
	if !ok || hooks.IsGlob(workspace) || strings.Contains(name, "/") {
		return nil, fmt.Errorf(`a glob is "workspace/pattern", the workspace named exactly`)
	}
	if err := checkName(workspace); err != nil {
		return nil, err
	}
	if _, err := path.Match(name, ""); err != nil {
		return nil, fmt.Errorf("the pattern %q: %w", name, err)
	}
	var names []string
	err := p.each(ctx, "workspace "+workspace+": repositories", "/repositories/"+url.PathEscape(workspace), func(raw json.RawMessage) error {
		var r repository
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("decode a repository: %w", err)
		}
		if ok, _ := path.Match(name, r.Slug); ok && r.Slug != "" {
			names = append(names, workspace+"/"+r.Slug)
		}
		return nil
	})
	switch st := statusOf(err); {
	case err == nil:
		return names, nil
	case st == http.StatusNotFound:
		return nil, fmt.Errorf("no workspace %s is visible to the credentials: %w", workspace, err)
	case st == http.StatusUnauthorized:
		return nil, fmt.Errorf("list workspace %s's repositories: %s: %w", workspace, p.authHint(), err)
	case st == http.StatusForbidden:
		return nil, fmt.Errorf(`list workspace %s's repositories: the credentials need read access to its repositories (API token: read:repository:bitbucket; app password or access token: "Repositories: Read"; a repository access token cannot list a workspace): %w`, workspace, err)
	}
	return nil, fmt.Errorf("list workspace %s's repositories: %w", workspace, err)
}

// checkRepo checks a repository's full name.
func checkRepo(name string) error {
	_, _, err := splitRepo(name)
	return err
}
