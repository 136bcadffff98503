package github

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/reflexops/reflex/hooks"
)

// List returns every hook of a repository or an organization, every page
// of them, foreign ones included.
func (p *Provider) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	c, err := p.clientFor(ctx, t)
	if err != nil {
		return nil, err
	}
	owner, repo, _ := strings.Cut(t.Name, "/")
	opt := &github.ListOptions{PerPage: 100}
	var out []hooks.Hook
	for {
		var page []*github.Hook
		var resp *github.Response
		err := p.call(ctx, t.String()+": list hooks", func() (*github.Response, error) {
			var err error
			if t.Kind == hooks.KindOrganization {
				page, resp, err = c.Organizations.ListHooks(ctx, owner, opt)
			} else {
				page, resp, err = c.Repositories.ListHooks(ctx, owner, repo, opt)
			}
			return resp, err
		})
		if err != nil {
			return nil, p.explain(err, t, "list hooks")
		}
		for _, h := range page {
			out = append(out, toHook(h))
		}
		if resp.NextPage == 0 || resp.NextPage <= max(opt.Page, 1) {
			return out, nil
		}
		opt.Page = resp.NextPage
		hooks.Report(ctx, "%s: hooks, page %d", t, opt.Page)
	}
}

// Create creates a hook as s says and returns it.
func (p *Provider) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	body, err := hookBody(s)
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: %s: %w", t, opCreate, err)
	}
	c, err := p.clientFor(ctx, t)
	if err != nil {
		return hooks.Hook{}, err
	}
	owner, repo, _ := strings.Cut(t.Name, "/")
	var h *github.Hook
	err = p.call(ctx, t.String()+": "+opCreate, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		if t.Kind == hooks.KindOrganization {
			h, resp, err = c.Organizations.CreateHook(ctx, owner, body)
		} else {
			h, resp, err = c.Repositories.CreateHook(ctx, owner, repo, body)
		}
		return resp, err
	})
	if err != nil {
		return hooks.Hook{}, p.explain(err, t, opCreate)
	}
	if h.GetID() == 0 {
		return hooks.Hook{}, fmt.Errorf("%s: %s: GitHub answered no hook id", t, opCreate)
	}
	return toHook(h), nil
}

// Update makes hook id as s says: URL, events, content type, secret, and
// active. GitHub replaces the whole configuration, the secret with it.
func (p *Provider) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) error {
	what := "update hook " + id
	hookID, err := parseID("hook", id)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", t, what, err)
	}
	body, err := hookBody(s)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", t, what, err)
	}
	c, err := p.clientFor(ctx, t)
	if err != nil {
		return err
	}
	owner, repo, _ := strings.Cut(t.Name, "/")
	err = p.call(ctx, t.String()+": "+what, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		if t.Kind == hooks.KindOrganization {
			_, resp, err = c.Organizations.EditHook(ctx, owner, hookID, body)
		} else {
			_, resp, err = c.Repositories.EditHook(ctx, owner, repo, hookID, body)
		}
		return resp, err
	})
	if err != nil {
		return p.explain(err, t, what)
	}
	return nil
}

// Delete deletes hook id. A hook already gone is not an error.
func (p *Provider) Delete(ctx context.Context, t hooks.Target, id string) error {
	what := "delete hook " + id
	hookID, err := parseID("hook", id)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", t, what, err)
	}
	c, err := p.clientFor(ctx, t)
	if err != nil {
		return err
	}
	owner, repo, _ := strings.Cut(t.Name, "/")
	err = p.call(ctx, t.String()+": "+what, func() (*github.Response, error) {
		if t.Kind == hooks.KindOrganization {
			return c.Organizations.DeleteHook(ctx, owner, hookID)
		}
		return c.Repositories.DeleteHook(ctx, owner, repo, hookID)
	})
	if status(err) == http.StatusNotFound {
		hooks.Report(ctx, "%s: hook %s was gone already", t, id)
		return nil
	}
	if err != nil {
		return p.explain(err, t, what)
	}
	return nil
}

// Ping asks GitHub to send hook id's ping event.
func (p *Provider) Ping(ctx context.Context, t hooks.Target, id string) error {
	what := "ping hook " + id
	hookID, err := parseID("hook", id)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", t, what, err)
	}
	c, err := p.clientFor(ctx, t)
	if err != nil {
		return err
	}
	owner, repo, _ := strings.Cut(t.Name, "/")
	err = p.call(ctx, t.String()+": "+what, func() (*github.Response, error) {
		if t.Kind == hooks.KindOrganization {
			return c.Organizations.PingHook(ctx, owner, hookID)
		}
		return c.Repositories.PingHook(ctx, owner, repo, hookID)
	})
	if err != nil {
		return p.explain(err, t, what)
	}
	return nil
}

// hookBody is the hook a create or update sends: a "web" hook (go-github
// names it), active, posting s's events to s's URL with its secret, its
// certificate checked.
func hookBody(s hooks.Spec) (*github.Hook, error) {
	if s.URL == "" {
		return nil, errors.New("the hook has no URL")
	}
	if len(s.Events) == 0 {
		return nil, errors.New("the hook has no events (GitHub would send push alone)")
	}
	ct := cmp.Or(s.ContentType, hooks.ContentJSON)
	if ct != hooks.ContentJSON && ct != hooks.ContentForm {
		return nil, fmt.Errorf("content type %q is neither %q nor %q", ct, hooks.ContentJSON, hooks.ContentForm)
	}
	return &github.Hook{
		Config: &github.HookConfig{
			URL:         github.String(s.URL),
			ContentType: github.String(ct),
			Secret:      github.String(string(s.Secret)),
			InsecureSSL: github.String("0"),
		},
		Events: slices.Clone(s.Events),
		Active: github.Bool(true),
	}, nil
}

// toHook maps a GitHub hook. A hook without a content type posts forms,
// GitHub's default.
func toHook(h *github.Hook) hooks.Hook {
	out := hooks.Hook{
		ID:          strconv.FormatInt(h.GetID(), 10),
		URL:         h.GetConfig().GetURL(),
		Events:      slices.Sorted(slices.Values(h.Events)),
		ContentType: cmp.Or(h.GetConfig().GetContentType(), hooks.ContentForm),
		Active:      h.GetActive(),
		LastStatus:  lastStatus(h.LastResponse),
	}
	if out.Events == nil {
		out.Events = []string{}
	}
	return out
}

// lastStatus renders a hook's last_response: "200 OK", "404
// misconfigured: Invalid HTTP Response: 404", "timeout: …"; "" when it
// has not been used (status "unused") or GitHub reports none.
func lastStatus(lr map[string]any) string {
	if lr == nil {
		return ""
	}
	code := 0
	if f, ok := lr["code"].(float64); ok && f > 0 && f < math.MaxInt32 {
		code = int(f)
	}
	st, _ := lr["status"].(string)
	msg, _ := lr["message"].(string)
	if code == 0 && (st == "" || st == "unused") && msg == "" {
		return ""
	}
	var parts []string
	if code != 0 {
		parts = append(parts, strconv.Itoa(code))
	}
	switch {
	case code != 0 && msg != "" && (st == "" || st == "active"):
		parts = append(parts, msg)
	case msg != "" && st != "" && !strings.EqualFold(msg, st):
		parts = append(parts, st+": "+msg)
	case st != "":
		parts = append(parts, st)
	default:
		parts = append(parts, msg)
	}
	return strings.Join(parts, " ")
}

// parseID parses a decimal id.
func parseID(what, id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s id %q is not a GitHub id", what, id)
	}
	return n, nil
}

// splitRepo splits and checks "owner/name".
func splitRepo(full string) (owner, repo string, err error) {
	owner, repo, ok := strings.Cut(full, "/")
	if !ok || strings.Contains(repo, "/") {
		return "", "", fmt.Errorf("repository %q is not owner/name", full)
	}
	if err := checkName("owner", owner); err != nil {
		return "", "", fmt.Errorf("repository %q: %w", full, err)
	}
	if err := checkName("repository name", repo); err != nil {
		return "", "", fmt.Errorf("repository %q: %w", full, err)
	}
	return owner, repo, nil
}

// checkName checks an owner's or a repository's name: letters, digits,
// '-', '_' and '.', and no "." or "..", so that it stays one path segment.
func checkName(what, name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 100 {
		return fmt.Errorf("%s %q is not a GitHub name", what, name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("%s %q is not a GitHub name", what, name)
		}
	}
	return nil
}
