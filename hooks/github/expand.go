package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/reflexops/reflex/hooks"
)

// Expand resolves a selection into targets:
//   - a repository "owner/name" is taken as it is, unasked;
//   - a glob "owner/pattern" (path.Match, case-sensitive, over the name)
//     lists the owner's repositories, every page: an organization's
//     (GET /orgs/{org}/repos), else a user's (the token's own user:
//     GET /user/repos?affiliation=owner, private ones included; another
//     user: GET /users/{user}/repos, public ones only; with an App: the
//     user's installation's repositories). Archived repositories are
//     skipped: they are read-only, and GitHub refuses their hooks;
//   - an organization is an organization target, for its org-wide hooks;
//   - Installation is every repository the App's installation can see
//     (GET /installation/repositories, every page; archived ones skipped):
//     the configured installation, else the App's only one.
//
// Targets are returned once each (names compared case-insensitively, as
// GitHub does), in the order met.
func (p *Provider) Expand(ctx context.Context, sel hooks.Selection) ([]hooks.Target, error) {
	if len(sel.Projects) > 0 || len(sel.Groups) > 0 {
		return nil, errors.New("github: projects and groups are GitLab's; select repositories, organizations or the App installation")
	}
	var out []hooks.Target
	seen := map[string]bool{}
	add := func(kind, name string) {
		key := kind + " " + strings.ToLower(name)
		if !seen[key] {
			seen[key] = true
			out = append(out, hooks.Target{Provider: p.Name(), Kind: kind, Name: name})
		}
	}
	for _, r := range sel.Repositories {
		owner, pattern, ok := strings.Cut(r, "/")
		if !ok || strings.Contains(pattern, "/") {
			return nil, fmt.Errorf("github: repository %q is not owner/name or owner/pattern", r)
		}
		if hooks.IsGlob(owner) {
			return nil, fmt.Errorf("github: repository %q: the owner cannot be a pattern", r)
		}
		if !hooks.IsGlob(pattern) {
			if _, _, err := splitRepo(r); err != nil {
				return nil, fmt.Errorf("github: %w", err)
			}
			add(hooks.KindRepository, r)
			continue
		}
		if err := checkName("owner", owner); err != nil {
			return nil, fmt.Errorf("github: repository %q: %w", r, err)
		}
		if _, err := path.Match(pattern, ""); err != nil {
			return nil, fmt.Errorf("github: repository %q: a bad pattern: %w", r, err)
		}
		repos, err := p.ownerRepos(ctx, owner)
		if err != nil {
			return nil, err
		}
		matched := 0
		for _, repo := range repos {
			if repo.GetArchived() {
				continue
			}
			if ok, _ := path.Match(pattern, repo.GetName()); ok {
				add(hooks.KindRepository, fullName(repo, owner))
				matched++
			}
		}
		if matched == 0 {
			hooks.Report(ctx, "github: %s matches no repository (archived ones are skipped)", r)
		}
	}
	for _, org := range sel.Organizations {
		if err := checkName("organization", org); err != nil {
			return nil, fmt.Errorf("github: %w", err)
		}
		add(hooks.KindOrganization, org)
	}
	if sel.Installation {
		if p.token != nil {
			return nil, errors.New("github: the installation selection needs GitHub App credentials: a token belongs to no installation; list the repositories instead")
		}
		id, err := p.theInstallation(ctx)
		if err != nil {
			return nil, fmt.Errorf("github: the installation selection: %w", err)
		}
		repos, err := p.installationRepos(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, repo := range repos {
			if !repo.GetArchived() {
				add(hooks.KindRepository, fullName(repo, repo.GetOwner().GetLogin()))
			}
		}
	}
	return out, nil
}

// fullName is a listed repository's "owner/name".
func fullName(r *github.Repository, owner string) string {
	if n := r.GetFullName(); n != "" {
		return n
	}
	return owner + "/" + r.GetName()
}

// ownerRepos lists an owner's repositories, every page: as an
// organization's, else (on a 404) as a user's.
func (p *Provider) ownerRepos(ctx context.Context, owner string) ([]*github.Repository, error) {
	c, err := p.ownerClient(ctx, owner, "", false)
	if err != nil {
		return nil, fmt.Errorf("github: list the repositories of %s: %w", owner, err)
	}
	what := "list the repositories of organization " + owner
	orgOpt := &github.RepositoryListByOrgOptions{Type: "all", ListOptions: github.ListOptions{PerPage: 100}}
	repos, err := p.pages(ctx, what, &orgOpt.ListOptions, func() ([]*github.Repository, *github.Response, error) {
		return c.Repositories.ListByOrg(ctx, owner, orgOpt)
	})
	if status(err) != http.StatusNotFound {
		if err != nil {
			return nil, p.explain(err, hooks.Target{}, what)
		}
		return repos, nil
	}
	what = "list the repositories of user " + owner
	if p.token == nil {
		id, err := p.installationOf(ctx, owner)
		if err != nil {
			return nil, err
		}
		all, err := p.installationRepos(ctx, id)
		if err != nil {
			return nil, err
		}
		var mine []*github.Repository
		for _, r := range all {
			if strings.EqualFold(r.GetOwner().GetLogin(), owner) {
				mine = append(mine, r)
			}
		}
		return mine, nil
	}
	if p.isTokenUser(ctx, owner) {
		opt := &github.RepositoryListByAuthenticatedUserOptions{Affiliation: "owner", ListOptions: github.ListOptions{PerPage: 100}}
		repos, err = p.pages(ctx, what, &opt.ListOptions, func() ([]*github.Repository, *github.Response, error) {
			return c.Repositories.ListByAuthenticatedUser(ctx, opt)
		})
	} else {
		opt := &github.RepositoryListByUserOptions{Type: "owner", ListOptions: github.ListOptions{PerPage: 100}}
		repos, err = p.pages(ctx, what, &opt.ListOptions, func() ([]*github.Repository, *github.Response, error) {
			return c.Repositories.ListByUser(ctx, owner, opt)
		})
	}
	if status(err) == http.StatusNotFound {
		return nil, fmt.Errorf("github: list the repositories of %s: no organization or user of that name, or the token cannot see it: %w", owner, err)
	}
	if err != nil {
		return nil, p.explain(err, hooks.Target{}, what)
	}
	return repos, nil
}

// installationOf returns the id of the installation an owner's client
// uses (looking it up if need be).
func (p *Provider) installationOf(ctx context.Context, owner string) (int64, error) {
	if p.appInstall != 0 {
		return p.appInstall, nil
	}
	if _, err := p.ownerClient(ctx, owner, "", false); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.owners[strings.ToLower(owner)], nil
}

// isTokenUser reports whether owner is the token's own user (GET /user,
// asked once). When that cannot be asked, it is not.
func (p *Provider) isTokenUser(ctx context.Context, owner string) bool {
	p.mu.Lock()
	login := p.login
	p.mu.Unlock()
	if login == nil {
		var u *github.User
		err := p.call(ctx, "ask whose the token is", func() (*github.Response, error) {
			var resp *github.Response
			var err error
			u, resp, err = p.token.Users.Get(ctx, "")
			return resp, err
		})
		if err != nil {
			hooks.Report(ctx, "github: cannot ask whose the token is (%v); listing %s's public repositories", err, owner)
			return false
		}
		l := u.GetLogin()
		login = &l
		p.mu.Lock()
		p.login = login
		p.mu.Unlock()
	}
	return strings.EqualFold(*login, owner)
}

// installationRepos lists every repository an installation can see,
// every page.
func (p *Provider) installationRepos(ctx context.Context, id int64) ([]*github.Repository, error) {
	c := p.installation(id)
	what := fmt.Sprintf("list the repositories of the GitHub App's installation %d", id)
	opt := &github.ListOptions{PerPage: 100}
	repos, err := p.pages(ctx, what, opt, func() ([]*github.Repository, *github.Response, error) {
		l, resp, err := c.Apps.ListRepos(ctx, opt)
		if l == nil {
			return nil, resp, err
		}
		return l.Repositories, resp, err
	})
	if err != nil {
		return nil, p.explain(err, hooks.Target{}, what)
	}
	return repos, nil
}

// pages calls list for every page, moving opt on, and returns all the
// repositories. Its error is the API's, unexplained.
func (p *Provider) pages(ctx context.Context, what string, opt *github.ListOptions, list func() ([]*github.Repository, *github.Response, error)) ([]*github.Repository, error) {
	var out []*github.Repository
	for {
		var page []*github.Repository
		var resp *github.Response
		err := p.call(ctx, what, func() (*github.Response, error) {
			var err error
			page, resp, err = list()
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if resp.NextPage == 0 || resp.NextPage <= max(opt.Page, 1) {
			return out, nil
		}
		opt.Page = resp.NextPage
		hooks.Report(ctx, "github: %s, page %d", what, opt.Page)
	}
}
