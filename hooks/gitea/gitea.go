package gitea

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/restapi"
)

// Name is the provider's name in configuration, unless Options.Name
// gives another.
const Name = "gitea"

// DefaultTimeout bounds each request when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultRetries bounds the rate-limit waits of one request when
// Options.Retries is zero.
const DefaultRetries = 3

// Hook types Reflex creates: Gitea's own, or Forgejo's.
const (
	TypeGitea   = "gitea"
	TypeForgejo = "forgejo"
)

// ErrSecretUnchangeable marks an update whose only purpose can be a new
// secret, which Gitea's and Forgejo's API cannot give a hook: the hook
// must be replaced (Provider.Replace).
var ErrSecretUnchangeable = errors.New("the Gitea API cannot change a hook's secret")

// Options configure a Provider.
type Options struct {
	// Token is an access token, sent as "Authorization: token <token>".
	// Required.
	Token string
	// BaseURL is the instance's URL, e.g. https://gitea.example.com or
	// https://codeberg.org (a path prefix is kept). Required. Plain http is
	// refused but for a loopback host.
	BaseURL string
	// HookType is the type of the hooks Reflex creates: TypeGitea (the
	// default) or TypeForgejo. Both sign deliveries alike.
	HookType string
	// Name is the provider's name in configuration, e.g. "forgejo" or
	// "codeberg", for more than one instance. Default: Name.
	Name string
	// HTTPClient supplies the transport requests go through (tests); its
	// Timeout is used when Timeout is zero. Its redirects are limited to
	// GETs on the base URL's host whatever its CheckRedirect says.
	HTTPClient *http.Client
	// Timeout bounds each request. Default: DefaultTimeout.
	Timeout time.Duration
	// Retries bounds how many rate-limit waits one request waits out.
	// Default: DefaultRetries; negative: none.
	Retries int
}

// Provider is the hooks.Provider and hooks.Pinger of Gitea and Forgejo:
// repository hooks and organization hooks. It is safe for concurrent
// use.
type Provider struct {
	name     string
	base     string // scheme://host[/prefix], without a trailing slash
	token    string
	hookType string
	client   *http.Client
	retries  int
	now      func() time.Time
}

var (
	_ hooks.Provider = (*Provider)(nil)
	_ hooks.Pinger   = (*Provider)(nil)
)

// New returns a Provider for the options.
func New(o Options) (*Provider, error) {
	if o.Token == "" {
		return nil, errors.New("gitea hooks: the token is required")
	}
	if strings.ContainsAny(o.Token, " \r\n\t") {
		return nil, errors.New("gitea hooks: the token holds white space")
	}
	if o.BaseURL == "" {
		return nil, errors.New("gitea hooks: the base URL is required, e.g. https://gitea.example.com or https://codeberg.org")
	}
	base, err := baseURL(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("gitea hooks: %w", err)
	}
	hookType := o.HookType
	switch hookType {
	case "":
		hookType = TypeGitea
	case TypeGitea, TypeForgejo:
	default:
		return nil, fmt.Errorf("gitea hooks: the hook type %q is neither %q nor %q", o.HookType, TypeGitea, TypeForgejo)
	}
	c := restapi.NewHTTPClient(o.HTTPClient, o.Timeout, DefaultTimeout, restapi.Token)
	p := &Provider{name: o.Name, base: base, token: o.Token, hookType: hookType, client: c, retries: restapi.Retries(o.Retries, DefaultRetries), now: time.Now}
	if p.name == "" {
		p.name = Name
	}
	return p, nil
}

// baseURL parses and checks the instance's URL.
func baseURL(raw string) (string, error) {
	u, err := restapi.ParseBase(raw, "https://gitea.example.com", restapi.Token)
	if err != nil {
		return "", err
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	path = strings.TrimSuffix(path, "/api/v1")
	return u.Scheme + "://" + u.Host + path, nil
}

// Name returns the provider's name, "gitea" unless Options.Name says.
func (p *Provider) Name() string { return p.name }

// hooksPath returns the API path of a target's hooks.
func (p *Provider) hooksPath(t hooks.Target) (string, error) {
	if t.Provider != p.name {
		return "", fmt.Errorf("%s is not a target of provider %s", t, p.name)
	}
	switch t.Kind {
	case hooks.KindRepository:
		owner, repo, err := splitRepo(t.Name)
		if err != nil {
			return "", fmt.Errorf("%s: %w", t, err)
		}
		return "/api/v1/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/hooks", nil
	case hooks.KindOrganization:
		if err := checkName(t.Name); err != nil {
			return "", fmt.Errorf("%s: %w", t, err)
		}
		return "/api/v1/orgs/" + url.PathEscape(t.Name) + "/hooks", nil
	}
	return "", fmt.Errorf("%s: Gitea holds hooks at repositories and organizations, not at a %s", t, t.Kind)
}

// hookPath returns the API path of one hook.
func (p *Provider) hookPath(t hooks.Target, id string) (string, error) {
	path, err := p.hooksPath(t)
	if err != nil {
		return "", err
	}
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
		return "", fmt.Errorf("%s: %q is not a Gitea hook id", t, id)
	}
	return path + "/" + id, nil
}

// splitRepo splits "owner/name".
func splitRepo(full string) (string, string, error) {
	owner, repo, ok := strings.Cut(full, "/")
	if !ok || checkName(owner) != nil || checkName(repo) != nil {
		return "", "", fmt.Errorf("%q is not a repository such as owner/name", full)
	}
	return owner, repo, nil
}

// checkName checks an owner's or a repository's name.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\ \t\r\n?#%") {
		return fmt.Errorf("%q is not a Gitea name", name)
	}
	return nil
}

// apiHook is a hook as Gitea's API shows it. Its "url" is the hook's
// settings page; where it posts is config.url.
type apiHook struct {
	ID     int64             `json:"id"`
	Type   string            `json:"type"`
	Config map[string]string `json:"config"`
	Events []string          `json:"events"`
	Active bool              `json:"active"`
}

// hook maps a hook of Gitea's API to a hooks.Hook.
func (h apiHook) hook() hooks.Hook {
	return hooks.Hook{
		ID:          strconv.FormatInt(h.ID, 10),
		URL:         h.Config["url"],
		Events:      normalizeEvents(h.Events),
		ContentType: h.Config["content_type"],
		Active:      h.Active,
	}
}

// decodeHook decodes a hook of Gitea's API.
func decodeHook(raw json.RawMessage) (hooks.Hook, error) {
	var h apiHook
	if err := json.Unmarshal(raw, &h); err != nil {
		return hooks.Hook{}, fmt.Errorf("decode a hook: %w", err)
	}
	if h.ID <= 0 {
		return hooks.Hook{}, errors.New("decode a hook: it has no id")
	}
	return h.hook(), nil
}

// List returns every hook of a repository or organization, every page
// of them.
func (p *Provider) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	path, err := p.hooksPath(t)
	if err != nil {
		return nil, err
	}
	var out []hooks.Hook
	err = p.each(ctx, t.String()+": hooks", path, nil, func(raw json.RawMessage) error {
		h, err := decodeHook(raw)
		if err != nil {
			return err
		}
		out = append(out, h)
		return nil
	})
	if err != nil {
		return nil, p.targetError(t, "list its hooks", err)
	}
	return out, nil
}

// config returns a hook's config as s says, checking the spec.
func config(s hooks.Spec) (map[string]string, error) {
	if s.URL == "" {
		return nil, errors.New("the hook's URL is empty")
	}
	ct := s.ContentType
	switch ct {
	case "":
		ct = hooks.ContentJSON
	case hooks.ContentJSON, hooks.ContentForm:
	default:
		return nil, fmt.Errorf("the content type %q is neither json nor form", ct)
	}
	switch {
	case len(s.Secret) == 0:
		return nil, errors.New("the hook's secret is empty: Gitea would sign nothing")
	case !utf8.Valid(s.Secret):
		return nil, errors.New("the hook's secret is not UTF-8 text: Gitea's secret is a string")
	}
	if err := checkEvents(s.Events); err != nil {
		return nil, err
	}
	return map[string]string{"url": s.URL, "content_type": ct, "secret": string(s.Secret)}, nil
}

// Create creates a hook of the provider's type: its URL, content type,
// secret, events, active, on every branch.
func (p *Provider) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	path, err := p.hooksPath(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	cfg, err := config(s)
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: %w", t, err)
	}
	body := map[string]any{"type": p.hookType, "config": cfg, "events": s.Events, "active": true, "branch_filter": "*"}
	var raw json.RawMessage
	if _, err := p.do(ctx, http.MethodPost, p.apiURL(path, nil), body, &raw, s.Secret); err != nil {
		return hooks.Hook{}, p.targetError(t, "create a hook", err)
	}
	h, err := decodeHook(raw)
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: create a hook: %w", t, err)
	}
	if err := applied(h, s); err != nil {
		return h, fmt.Errorf("%s: created hook %s, but %w", t, h.ID, err)
	}
	return h, nil
}

// Update makes hook id's URL, content type, events and active as s says.
// Gitea and Forgejo ignore a new secret in an update: when nothing else
// differs, so that the update can only be for the secret, Update changes
// nothing and its error wraps ErrSecretUnchangeable (Replace gives the
// hook a new secret).
func (p *Provider) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) error {
	path, err := p.hookPath(t, id)
	if err != nil {
		return err
	}
	cfg, err := config(s)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	var raw json.RawMessage
	if _, err := p.do(ctx, http.MethodGet, p.apiURL(path, nil), nil, &raw, nil); err != nil {
		return p.targetError(t, "read hook "+id, err)
	}
	cur, err := decodeHook(raw)
	if err != nil {
		return fmt.Errorf("%s: read hook %s: %w", t, id, err)
	}
	if cur.URL == s.URL && cur.ContentType == cfg["content_type"] && cur.Active && slices.Equal(cur.Events, sortedEvents(s.Events)) {
		return fmt.Errorf("%s: hook %s: %w: only a new hook has a new secret", t, id, ErrSecretUnchangeable)
	}
	body := map[string]any{"config": cfg, "events": s.Events, "active": true, "branch_filter": "*"}
	raw = nil
	if _, err := p.do(ctx, http.MethodPatch, p.apiURL(path, nil), body, &raw, s.Secret); err != nil {
		return p.targetError(t, "update hook "+id, err)
	}
	h, err := decodeHook(raw)
	if err != nil {
		return fmt.Errorf("%s: update hook %s: %w", t, id, err)
	}
	if err := applied(h, s); err != nil {
		return fmt.Errorf("%s: updated hook %s, but %w", t, id, err)
	}
	return nil
}

// Replace gives hook id a new secret the only way Gitea's API allows: it
// creates a hook as s says, then deletes hook id, and returns the new
// hook. When the delete fails, the new hook is returned with the error.
func (p *Provider) Replace(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	path, err := p.hookPath(t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	h, err := p.Create(ctx, t, s)
	if err != nil {
		return h, err
	}
	if _, err := p.do(ctx, http.MethodDelete, p.apiURL(path, nil), nil, nil, nil); err != nil {
		return h, p.targetError(t, fmt.Sprintf("created hook %s in place of hook %s, but delete hook %s", h.ID, id, id), err)
	}
	return h, nil
}

// Delete deletes hook id.
func (p *Provider) Delete(ctx context.Context, t hooks.Target, id string) error {
	path, err := p.hookPath(t, id)
	if err != nil {
		return err
	}
	if _, err := p.do(ctx, http.MethodDelete, p.apiURL(path, nil), nil, nil, nil); err != nil {
		return p.targetError(t, "delete hook "+id, err)
	}
	return nil
}

// Ping asks Gitea to send a repository hook a test delivery (a push of
// the default branch's last commit). Gitea has none for organization
// hooks.
func (p *Provider) Ping(ctx context.Context, t hooks.Target, id string) error {
	path, err := p.hookPath(t, id)
	if err != nil {
		return err
	}
	if t.Kind != hooks.KindRepository {
		return fmt.Errorf("%s: Gitea's API tests repository hooks only", t)
	}
	if _, err := p.do(ctx, http.MethodPost, p.apiURL(path+"/tests", nil), nil, nil, nil); err != nil {
		return p.targetError(t, "test hook "+id, err)
	}
	return nil
}

// targetError adds to an error the target and what was done, and for a
// 403 or 404 the scope and role the token needs.
func (p *Provider) targetError(t hooks.Target, op string, err error) error {
	switch st := statusOf(err); {
	case st == http.StatusForbidden && t.Kind == hooks.KindOrganization:
		return fmt.Errorf("%s: %s: the token needs the write:organization scope, and its user to own organization %s: %w", t, op, t.Name, err)
	case st == http.StatusForbidden:
		return fmt.Errorf("%s: %s: the token needs the write:repository scope, and its user admin rights on %s: %w", t, op, t.Name, err)
	case st == http.StatusNotFound && t.Kind == hooks.KindOrganization:
		return fmt.Errorf("%s: %s: no such organization or hook, or the token's user does not own the organization: %w", t, op, err)
	case st == http.StatusNotFound:
		return fmt.Errorf("%s: %s: no such repository or hook, or the token's user is no admin of the repository: %w", t, op, err)
	}
	return fmt.Errorf("%s: %s: %w", t, op, err)
}
