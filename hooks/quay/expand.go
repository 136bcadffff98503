package quay

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/restapi"
)

// Expand resolves a selection into repository targets:
//   - Repositories "namespace/name" as they are;
//   - a glob in the name, "namespace/web-*", over the namespace's
//     repositories (GET /api/v1/repository?namespace=…, every page, by
//     next_page), path.Match on the repository's name ('*' does not cross
//     a '/' of an extended name); a repository marked for deletion is
//     skipped. The namespace is named exactly.
//
// Quay's notifications live at repositories: Organizations, Projects,
// Groups and an App installation are refused.
func (p *Provider) Expand(ctx context.Context, sel hooks.Selection) ([]hooks.Target, error) {
	switch {
	case sel.Installation:
		return nil, fmt.Errorf("%s: an App installation is GitHub's: select repositories", p.name)
	case len(sel.Organizations) > 0:
		return nil, fmt.Errorf("%s: Reflex sets notifications at Quay repositories, not organizations: select repositories, e.g. %q", p.name, sel.Organizations[0]+"/*")
	case len(sel.Projects) > 0 || len(sel.Groups) > 0:
		return nil, fmt.Errorf("%s: projects and groups are GitLab's: select repositories", p.name)
	}
	names, err := restapi.ExpandNames(ctx, p.name, "repositories", sel.Repositories, checkRepo, p.glob)
	if err != nil {
		return nil, err
	}
	return restapi.Targets(p.name, hooks.KindRepository, names), nil
}

// repository is a repository as Quay's listing shows it.
type repository struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	State     string `json:"state"`
}

// glob returns the full names of the repositories "namespace/pattern"
// matches.
func (p *Provider) glob(ctx context.Context, pattern string) ([]string, error) {
	ns, name, ok := strings.Cut(pattern, "/")
	if !ok || hooks.IsGlob(ns) {
		return nil, fmt.Errorf(`a glob is "namespace/pattern", the namespace named exactly`)
	}
	if _, _, err := splitRepo(ns + "/x"); err != nil {
		return nil, fmt.Errorf("%q is not a Quay namespace", ns)
	}
	if _, err := path.Match(name, ""); err != nil {
		return nil, fmt.Errorf("the pattern %q: %w", name, err)
	}
	repos, err := p.repositories(ctx, ns)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range repos {
		if r.State == "MARKED_FOR_DELETION" || r.Namespace != ns {
			continue
		}
		full := ns + "/" + r.Name
		if _, _, err := splitRepo(full); err != nil {
			continue
		}
		if ok, _ := path.Match(name, r.Name); ok {
			out = append(out, full)
		}
	}
	return out, nil
}

// repositories lists a namespace's repositories, every page: Quay
// answers {"repositories": […], "next_page": token} while more remain.
func (p *Provider) repositories(ctx context.Context, ns string) ([]repository, error) {
	var out []repository
	next := ""
	for page := 1; ; page++ {
		if page > restapi.MaxPages {
			return nil, fmt.Errorf("namespace %s: more than %d pages of repositories", ns, restapi.MaxPages)
		}
		if page > 1 {
			hooks.Report(ctx, "%s: namespace %s: repositories: page %d", p.name, ns, page)
		}
		q := url.Values{"namespace": {ns}}
		if next != "" {
			q.Set("next_page", next)
		}
		var body struct {
			Repositories []repository `json:"repositories"`
			NextPage     string       `json:"next_page"`
		}
		if _, err := p.do(ctx, http.MethodGet, p.apiURL("/api/v1/repository", q), nil, &body, nil); err != nil {
			return nil, fmt.Errorf("list namespace %s's repositories: %w", ns, err)
		}
		out = append(out, body.Repositories...)
		switch {
		case body.NextPage == "":
			return out, nil
		case body.NextPage == next:
			return nil, fmt.Errorf("namespace %s: Quay's next page is the page just read", ns)
		}
		next = body.NextPage
	}
}

// checkRepo checks a repository's full name.
func checkRepo(name string) error {
	_, _, err := splitRepo(name)
	return err
}
