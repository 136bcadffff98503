package harbor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/restapi"
)

// Expand resolves a selection into project targets:
//   - Projects by name, as they are;
//   - a glob ("team-*", "*"), path.Match over the names of the projects
//     the account sees (GET /api/v2.0/projects, every page). A public
//     project is seen by every account, and may not be the account's to
//     manage: a public project the glob matches is kept only when the
//     account may list its webhook policies (one request each); the
//     others are skipped, and reported.
//
// Harbor holds webhook policies at projects only: Repositories,
// Organizations, Groups and an App installation are refused.
func (p *Provider) Expand(ctx context.Context, sel hooks.Selection) ([]hooks.Target, error) {
	switch {
	case sel.Installation:
		return nil, fmt.Errorf("%s: an App installation is GitHub's: select projects", p.name)
	case len(sel.Repositories) > 0:
		return nil, fmt.Errorf("%s: Harbor holds webhook policies at projects, not repositories: select projects (a repository's project is the part of its name before the first /)", p.name)
	case len(sel.Organizations) > 0 || len(sel.Groups) > 0:
		return nil, fmt.Errorf("%s: Harbor holds webhook policies at projects: select projects, not organizations or groups", p.name)
	}
	var all []project
	listed := false
	glob := func(ctx context.Context, name string) ([]string, error) {
		if _, err := path.Match(name, ""); err != nil {
			return nil, fmt.Errorf("the pattern: %w", err)
		}
		if !listed {
			var err error
			if all, err = p.projects(ctx); err != nil {
				return nil, err
			}
			listed = true
		}
		return p.match(ctx, name, all)
	}
	check := func(name string) error {
		if err := checkProject(name); err != nil {
			return fmt.Errorf("project: %w", err)
		}
		return nil
	}
	names, err := restapi.ExpandNames(ctx, p.name, "projects", sel.Projects, check, glob)
	if err != nil {
		return nil, err
	}
	return restapi.Targets(p.name, hooks.KindProject, names), nil
}

// project is a project as Harbor's project listing shows it.
type project struct {
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata"`
}

// projects lists the projects the account sees, every page.
func (p *Provider) projects(ctx context.Context) ([]project, error) {
	var out []project
	err := p.each(ctx, "projects", "/api/v2.0/projects", url.Values{"with_detail": {"false"}}, func(raw json.RawMessage) error {
		var pr project
		if err := json.Unmarshal(raw, &pr); err != nil {
			return fmt.Errorf("decode a project: %w", err)
		}
		out = append(out, pr)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the projects: %w", err)
	}
	return out, nil
}

// match returns the names of the projects a pattern matches, a public
// project only when the account may list its webhook policies.
func (p *Provider) match(ctx context.Context, pattern string, all []project) ([]string, error) {
	var out []string
	for _, pr := range all {
		if ok, _ := path.Match(pattern, pr.Name); !ok || checkProject(pr.Name) != nil {
			continue
		}
		if pr.Metadata["public"] == "true" {
			ok, err := p.mayManage(ctx, pr.Name)
			if err != nil {
				return nil, err
			}
			if !ok {
				hooks.Report(ctx, "%s: projects %q: skipped public project %s, whose webhook policies the account may not list", p.name, pattern, pr.Name)
				continue
			}
		}
		out = append(out, pr.Name)
	}
	return out, nil
}

// mayManage reports whether the account may list a project's webhook
// policies: false when Harbor answers 403.
func (p *Provider) mayManage(ctx context.Context, name string) (bool, error) {
	q := url.Values{"page": {"1"}, "page_size": {"1"}}
	_, err := p.do(ctx, http.MethodGet, p.apiURL("/api/v2.0/projects/"+url.PathEscape(name)+"/webhook/policies", q), nil, nil, nil)
	switch statusOf(err) {
	case 0:
		if err != nil {
			return false, fmt.Errorf("project %s: %w", name, err)
		}
		return true, nil
	case http.StatusForbidden:
		return false, nil
	}
	return false, fmt.Errorf("project %s: list its webhook policies: %w", name, err)
}
