package gitlab

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
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
//   - Projects (and Repositories, taken as projects) by full path,
//     "group/sub/project", as they are;
//   - a glob in a project path's last segment over a group's projects:
//     "acme/*" and "acme/api-*" over acme's own projects, "acme/**" over
//     acme's and every subgroup's, "acme/**/api-*" matching the last
//     segment at any depth; a user's namespace ("alice/*") when no group
//     has the name. Archived projects are skipped; projects shared with
//     the group are not its own;
//   - Groups (and Organizations, taken as groups) as group targets, by
//     full path, as they are.
func (p *Provider) Expand(ctx context.Context, sel hooks.Selection) ([]hooks.Target, error) {
	if sel.Installation {
		return nil, fmt.Errorf("%s: an App installation is GitHub's: select projects or groups", p.name)
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
	check := func(name string) error {
		if err := checkPath(name); err != nil {
			return fmt.Errorf("project: %w", err)
		}
		return nil
	}
	names, err := restapi.ExpandNames(ctx, p.name, "projects", slices.Concat(sel.Projects, sel.Repositories), check, p.glob)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		add(hooks.KindProject, n)
	}
	for _, name := range slices.Concat(sel.Groups, sel.Organizations) {
		if hooks.IsGlob(name) {
			return nil, fmt.Errorf("%s: group %q: name groups by their full path; globs select projects", p.name, name)
		}
		if err := checkPath(name); err != nil {
			return nil, fmt.Errorf("%s: group: %w", p.name, err)
		}
		add(hooks.KindGroup, name)
	}
	slices.SortFunc(out, func(a, b hooks.Target) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// project is a project as GitLab's project listings show it.
type project struct {
	Path              string `json:"path"`
	PathWithNamespace string `json:"path_with_namespace"`
	Archived          bool   `json:"archived"`
}

// glob returns the full paths of the projects a pattern matches.
func (p *Provider) glob(ctx context.Context, pattern string) ([]string, error) {
	dir, last := path.Split(pattern)
	dir = strings.TrimSuffix(dir, "/")
	all := last == "**"
	subgroups := all
	if rest, ok := strings.CutSuffix(dir, "/**"); ok {
		dir, subgroups = rest, true
	}
	if dir == "" || hooks.IsGlob(dir) {
		return nil, errors.New(`only the last segment may be a pattern: "group/*", "group/api-*", "group/**" or "group/**/api-*"`)
	}
	if err := checkPath(dir); err != nil {
		return nil, err
	}
	if _, err := path.Match(last, ""); err != nil {
		return nil, fmt.Errorf("the pattern %q: %w", last, err)
	}
	projects, err := p.namespaceProjects(ctx, dir, subgroups)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, pr := range projects {
		if pr.Archived || pr.PathWithNamespace == "" {
			continue
		}
		if ok, _ := path.Match(last, pr.Path); all || ok {
			names = append(names, pr.PathWithNamespace)
		}
	}
	return names, nil
}

// namespaceProjects lists a group's own projects (and its subgroups'),
// every page, or a user's when no group has the name.
func (p *Provider) namespaceProjects(ctx context.Context, namespace string, subgroups bool) ([]project, error) {
	var out []project
	collect := func(raw json.RawMessage) error {
		var pr project
		if err := json.Unmarshal(raw, &pr); err != nil {
			return fmt.Errorf("decode a project: %w", err)
		}
		out = append(out, pr)
		return nil
	}
	q := url.Values{
		"include_subgroups": {fmt.Sprint(subgroups)},
		"with_shared":       {"false"},
		"archived":          {"false"},
		"simple":            {"true"},
	}
	err := p.each(ctx, "group "+namespace+": projects", "/api/v4/groups/"+url.PathEscape(namespace)+"/projects", q, collect)
	if err == nil || statusOf(err) != http.StatusNotFound || strings.Contains(namespace, "/") {
		if err != nil {
			return nil, fmt.Errorf("list group %s's projects: %w", namespace, err)
		}
		return out, nil
	}
	out = nil
	q = url.Values{"archived": {"false"}, "simple": {"true"}}
	if err := p.each(ctx, "user "+namespace+": projects", "/api/v4/users/"+url.PathEscape(namespace)+"/projects", q, collect); err != nil {
		if statusOf(err) == http.StatusNotFound {
			return nil, fmt.Errorf("no group or user %s is visible to the token: %w", namespace, err)
		}
		return nil, fmt.Errorf("list user %s's projects: %w", namespace, err)
	}
	return out, nil
}
