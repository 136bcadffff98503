package gitea

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
//   - Repositories "owner/name" as they are;
//   - a glob in the name, "owner/web-*", over the owner's repositories:
//     an organization's (GET /orgs/{org}/repos), else a user's (GET
//     /users/{user}/repos), every page, archived ones skipped, matched on
//     the repository's name (path.Match, case-sensitive);
//   - Organizations as organization targets, as they are.
//
// Projects and Groups are GitLab's, and an App installation GitHub's:
// they are refused.
func (p *Provider) Expand(ctx context.Context, sel hooks.Selection) ([]hooks.Target, error) {
	switch {
	case sel.Installation:
		return nil, fmt.Errorf("%s: an App installation is GitHub's: select repositories or organizations", p.name)
	case len(sel.Projects) > 0 || len(sel.Groups) > 0:
		return nil, fmt.Errorf("%s: projects and groups are GitLab's: select repositories or organizations", p.name)
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
			return nil, fmt.Errorf("%s: organization %q: name organizations exactly; globs select repositories", p.name, name)
		}
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("%s: organization: %w", p.name, err)
		}
		add(hooks.KindOrganization, name)
	}
	slices.SortFunc(out, func(a, b hooks.Target) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// repository is a repository as Gitea's listings show it.
type repository struct {
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Archived bool   `json:"archived"`
}

// glob returns the full names of the repositories "owner/pattern"
// matches.
func (p *Provider) glob(ctx context.Context, pattern string) ([]string, error) {
	owner, name, ok := strings.Cut(pattern, "/")
	if !ok || hooks.IsGlob(owner) || strings.Contains(name, "/") {
		return nil, fmt.Errorf(`a glob is "owner/pattern", the owner named exactly`)
	}
	if err := checkName(owner); err != nil {
		return nil, err
	}
	if _, err := path.Match(name, ""); err != nil {
		return nil, fmt.Errorf("the pattern %q: %w", name, err)
	}
	var repos []repository
	collect := func(raw json.RawMessage) error {
		var r repository
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("decode a repository: %w", err)
		}
		repos = append(repos, r)
		return nil
	}
	err := p.each(ctx, "organization "+owner+": repositories", "/api/v1/orgs/"+url.PathEscape(owner)+"/repos", nil, collect)
	if statusOf(err) == http.StatusNotFound {
		repos = nil
		err = p.each(ctx, "user "+owner+": repositories", "/api/v1/users/"+url.PathEscape(owner)+"/repos", nil, collect)
		if statusOf(err) == http.StatusNotFound {
			return nil, fmt.Errorf("no organization or user %s is visible to the token: %w", owner, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list %s's repositories: %w", owner, err)
	}
	var names []string
	for _, r := range repos {
		if r.Archived || r.FullName == "" {
			continue
		}
		if ok, _ := path.Match(name, r.Name); ok {
			names = append(names, r.FullName)
		}
	}
	return names, nil
}

// checkRepo checks a repository's full name.
func checkRepo(name string) error {
	_, _, err := splitRepo(name)
	return err
}
