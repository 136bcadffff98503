package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/restapi"
)

// Name is the provider's name in configuration, unless Options.Name
// gives another.
const Name = "gitlab"

// DefaultBaseURL is GitLab.com.
const DefaultBaseURL = "https://gitlab.com"

// DefaultTimeout bounds each request when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultRetries bounds the rate-limit waits of one request when
// Options.Retries is zero.
const DefaultRetries = 3

// ErrDisabled marks a hook that GitLab disabled after failing
// deliveries: it stays disabled until a test delivery (Ping) succeeds.
var ErrDisabled = errors.New("GitLab disabled the hook after failing deliveries")

// Options configure a Provider.
type Options struct {
	// Token is a personal, project or group access token with the api
	// scope, sent in the PRIVATE-TOKEN header. Required.
	Token string
	// BaseURL is the instance's URL, e.g. https://gitlab.example.com, or
	// with a path prefix, https://example.com/gitlab. Default:
	// DefaultBaseURL. Plain http is refused but for a loopback host.
	BaseURL string
	// Name is the provider's name in configuration, for a second GitLab
	// instance. Default: Name.
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

// Provider is the hooks.Provider and hooks.Pinger of GitLab.com and
// self-managed GitLab: project hooks and group hooks. It is safe for
// concurrent use.
type Provider struct {
	name    string
	base    string // scheme://host[/prefix], without a trailing slash
	token   string
	client  *http.Client
	retries int
	now     func() time.Time
}

var (
	_ hooks.Provider = (*Provider)(nil)
	_ hooks.Pinger   = (*Provider)(nil)
)

// New returns a Provider for the options.
func New(o Options) (*Provider, error) {
	if o.Token == "" {
		return nil, errors.New("gitlab hooks: the token is required")
	}
	if strings.ContainsAny(o.Token, " \r\n\t") {
		return nil, errors.New("gitlab hooks: the token holds white space")
	}
	base, err := baseURL(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("gitlab hooks: %w", err)
	}
	c := restapi.NewHTTPClient(o.HTTPClient, o.Timeout, DefaultTimeout, restapi.Token)
	p := &Provider{name: o.Name, base: base, token: o.Token, client: c, retries: restapi.Retries(o.Retries, DefaultRetries), now: time.Now}
	if p.name == "" {
		p.name = Name
	}
	return p, nil
}

// baseURL parses and checks the instance's URL.
func baseURL(raw string) (string, error) {
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := restapi.ParseBase(raw, "https://gitlab.example.com", restapi.Token)
	if err != nil {
		return "", err
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	path = strings.TrimSuffix(path, "/api/v4")
	return u.Scheme + "://" + u.Host + path, nil
}

// Name returns the provider's name, "gitlab" unless Options.Name says.
func (p *Provider) Name() string { return p.name }

// hooksPath returns the API path of a target's hooks.
func (p *Provider) hooksPath(t hooks.Target) (string, error) {
	if t.Provider != p.name {
		return "", fmt.Errorf("%s is not a target of provider %s", t, p.name)
	}
	if err := checkPath(t.Name); err != nil {
		return "", fmt.Errorf("%s: %w", t, err)
	}
	switch t.Kind {
	case hooks.KindProject:
		return "/api/v4/projects/" + url.PathEscape(t.Name) + "/hooks", nil
	case hooks.KindGroup:
		return "/api/v4/groups/" + url.PathEscape(t.Name) + "/hooks", nil
	}
	return "", fmt.Errorf("%s: GitLab holds hooks at projects and groups, not at a %s", t, t.Kind)
}

// hookPath returns the API path of one hook.
func (p *Provider) hookPath(t hooks.Target, id string) (string, error) {
	path, err := p.hooksPath(t)
	if err != nil {
		return "", err
	}
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
		return "", fmt.Errorf("%s: %q is not a GitLab hook id", t, id)
	}
	return path + "/" + id, nil
}

// checkPath checks a project's or group's full path.
func checkPath(name string) error {
	switch {
	case name == "":
		return errors.New("the name is empty")
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//"):
		return fmt.Errorf("%q is not a full path such as group/project", name)
	case strings.ContainsAny(name, " \t\r\n?#%"):
		return fmt.Errorf("%q is not a full path such as group/project", name)
	}
	return nil
}

// apiHook is a hook as GitLab's API shows it; its <event>_events flags
// are read apart.
type apiHook struct {
	ID            int64  `json:"id"`
	URL           string `json:"url"`
	AlertStatus   string `json:"alert_status"`
	DisabledUntil string `json:"disabled_until"`
}

// decodeHook maps a hook of GitLab's API to a hooks.Hook.
func decodeHook(raw json.RawMessage) (hooks.Hook, error) {
	var h apiHook
	if err := json.Unmarshal(raw, &h); err != nil {
		return hooks.Hook{}, fmt.Errorf("decode a hook: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return hooks.Hook{}, fmt.Errorf("decode a hook: %w", err)
	}
	if h.ID <= 0 {
		return hooks.Hook{}, errors.New("decode a hook: it has no id")
	}
	return hooks.Hook{
		ID:          strconv.FormatInt(h.ID, 10),
		URL:         h.URL,
		Events:      eventsOf(fields),
		ContentType: hooks.ContentJSON,
		Active:      h.AlertStatus != "disabled",
		LastStatus:  lastStatus(h),
	}, nil
}

// lastStatus describes a hook's alert_status: "executable",
// "temporarily_disabled until <time>" (GitLab retries it then) or
// "disabled" (until a test delivery succeeds); "" from a GitLab that
// does not report it.
func lastStatus(h apiHook) string {
	switch h.AlertStatus {
	case "temporarily_disabled":
		if h.DisabledUntil == "" {
			return h.AlertStatus
		}
		until := h.DisabledUntil
		if t, err := time.Parse(time.RFC3339Nano, until); err == nil {
			until = t.UTC().Format(time.RFC3339)
		}
		return h.AlertStatus + " until " + until
	default:
		return h.AlertStatus
	}
}

// List returns every hook of a project or group, every page of them.
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

// Create creates a hook: its URL, events, secret token, SSL verification.
func (p *Provider) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	path, err := p.hooksPath(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	body, err := hookBody(s)
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: %w", t, err)
	}
	var raw json.RawMessage
	if _, err := p.do(ctx, http.MethodPost, p.apiURL(path, nil), body, &raw, s.Secret); err != nil {
		return hooks.Hook{}, p.targetError(t, "create a hook", err)
	}
	h, err := decodeHook(raw)
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: create a hook: %w", t, err)
	}
	if err := checkEvents(h, s); err != nil {
		return h, fmt.Errorf("%s: created hook %s, but %w", t, h.ID, err)
	}
	return h, nil
}

// Update makes hook id as s says, its secret token included. A hook that
// GitLab disabled after failing deliveries stays so: the error wraps
// ErrDisabled, and a successful Ping enables it again.
func (p *Provider) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) error {
	path, err := p.hookPath(t, id)
	if err != nil {
		return err
	}
	body, err := hookBody(s)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	var raw json.RawMessage
	if _, err := p.do(ctx, http.MethodPut, p.apiURL(path, nil), body, &raw, s.Secret); err != nil {
		return p.targetError(t, "update hook "+id, err)
	}
	h, err := decodeHook(raw)
	if err != nil {
		return fmt.Errorf("%s: update hook %s: %w", t, id, err)
	}
	if err := checkEvents(h, s); err != nil {
		return fmt.Errorf("%s: updated hook %s, but %w", t, id, err)
	}
	if !h.Active {
		return fmt.Errorf("%s: updated hook %s, but %w: GitLab enables it again after a successful test delivery (ping it once Reflex accepts its deliveries)", t, id, ErrDisabled)
	}
	return nil
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

// Ping asks GitLab to send hook id a test delivery of one of its events
// (push when it sends push events, else the first it sends that GitLab
// can test). A successful one enables a hook GitLab disabled.
func (p *Provider) Ping(ctx context.Context, t hooks.Target, id string) error {
	path, err := p.hookPath(t, id)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if _, err := p.do(ctx, http.MethodGet, p.apiURL(path, nil), nil, &raw, nil); err != nil {
		return p.targetError(t, "read hook "+id, err)
	}
	h, err := decodeHook(raw)
	if err != nil {
		return fmt.Errorf("%s: read hook %s: %w", t, id, err)
	}
	trigger := testTrigger(h.Events)
	if _, err := p.do(ctx, http.MethodPost, p.apiURL(path+"/test/"+trigger, nil), nil, nil, nil); err != nil {
		if statusOf(err) == http.StatusUnprocessableEntity {
			return fmt.Errorf("%s: GitLab's test delivery (%s) to hook %s failed: %w", t, trigger, id, err)
		}
		return p.targetError(t, "test hook "+id, err)
	}
	return nil
}

// targetError adds to an error the target and what was done, and what a
// refusal means: ErrLimit for GitLab's hook limit, the tier and role
// group hooks need for a 403 or 404 on them.
func (p *Provider) targetError(t hooks.Target, op string, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return fmt.Errorf("%s: %s: %w", t, op, err)
	}
	if isLimit(e) {
		return fmt.Errorf("GitLab %s %s holds no more hooks: %w: %w", t.Kind, t.Name, hooks.ErrLimit, err)
	}
	if t.Kind == hooks.KindGroup && (e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%s: %s: group hooks need GitLab Premium or Ultimate and the Owner role on group %s (or the group does not exist): %w", t, op, t.Name, err)
	}
	if t.Kind == hooks.KindProject && e.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %s: the project does not exist, or the token's user is not a Maintainer of it: %w", t, op, err)
	}
	return fmt.Errorf("%s: %s: %w", t, op, err)
}

// isLimit reports whether an error is GitLab's hook limit: "Maximum
// number of project hooks (100) exceeded" (or group hooks): a 422 from
// recent GitLab, a 404 "Project hook {…}" from older ones.
func isLimit(e *Error) bool {
	if e.StatusCode != http.StatusUnprocessableEntity && e.StatusCode != http.StatusNotFound && e.StatusCode != http.StatusBadRequest {
		return false
	}
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "maximum number of") && strings.Contains(m, "hooks")
}
