package bitbucket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/restapi"
)

// Name is the provider's name in configuration, unless Options.Name
// gives another.
const Name = "bitbucket"

// DefaultBaseURL is Bitbucket Cloud's REST API.
const DefaultBaseURL = "https://api.bitbucket.org/2.0"

// DefaultTimeout bounds each request when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultRetries bounds the rate-limit waits of one request when
// Options.Retries is zero.
const DefaultRetries = 3

// Description is the description of the hooks Reflex creates, as
// Bitbucket's settings page shows them.
const Description = "Reflex"

// Options configure a Provider. Exactly one credential is given:
// Username and Token, or AccessToken.
type Options struct {
	// BaseURL is the API's URL. Default: DefaultBaseURL. "/2.0" is added
	// to a URL whose path does not end with it. Plain http is refused but
	// for a loopback host.
	BaseURL string
	// Username and Token are sent with HTTP Basic authentication. With an
	// API token (Atlassian account, "API token with scopes") Username is
	// the account's email address; with an app password it is the
	// Bitbucket username.
	Username string
	Token    string
	// AccessToken is a repository, project or workspace access token,
	// sent as "Authorization: Bearer <token>".
	AccessToken string
	// Name is the provider's name in configuration. Default: Name.
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

// Provider is the hooks.Provider of Bitbucket Cloud: repository hooks
// and workspace hooks (organization targets). It is safe for concurrent
// use.
type Provider struct {
	name        string
	base        string // scheme://host/…/2.0, without a trailing slash
	username    string
	token       string
	accessToken string
	client      *http.Client
	retries     int
	now         func() time.Time
}

var _ hooks.Provider = (*Provider)(nil)

// New returns a Provider for the options.
func New(o Options) (*Provider, error) {
	switch {
	case o.AccessToken != "" && (o.Token != "" || o.Username != ""):
		return nil, errors.New("bitbucket hooks: give either an access token, or a username with an API token or app password, not both")
	case o.AccessToken == "" && o.Token == "":
		return nil, errors.New("bitbucket hooks: a credential is required: an access token, or a username with an API token or app password")
	case o.Token != "" && o.Username == "":
		return nil, errors.New("bitbucket hooks: the token needs its username (an API token: the Atlassian account's email; an app password: the Bitbucket username)")
	case strings.ContainsAny(o.Token+o.AccessToken, " \r\n\t"):
		return nil, errors.New("bitbucket hooks: the token holds white space")
	case strings.ContainsFunc(o.Username, func(r rune) bool { return r == ':' || unicode.IsSpace(r) || unicode.IsControl(r) }):
		return nil, errors.New("bitbucket hooks: the username holds a colon or white space")
	}
	base, err := baseURL(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("bitbucket hooks: %w", err)
	}
	c := restapi.NewHTTPClient(o.HTTPClient, o.Timeout, DefaultTimeout, restapi.Credentials)
	p := &Provider{
		name: o.Name, base: base, username: o.Username, token: o.Token, accessToken: o.AccessToken,
		client: c, retries: restapi.Retries(o.Retries, DefaultRetries), now: time.Now,
	}
	if p.name == "" {
		p.name = Name
	}
	return p, nil
}

// baseURL parses and checks the API's URL, and makes its path end with
// /2.0.
func baseURL(raw string) (string, error) {
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := restapi.ParseBase(raw, DefaultBaseURL, restapi.Credentials)
	if err != nil {
		return "", err
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	if !strings.HasSuffix(path, "/2.0") {
		path += "/2.0"
	}
	return u.Scheme + "://" + u.Host + path, nil
}

// Name returns the provider's name, "bitbucket" unless Options.Name says.
func (p *Provider) Name() string { return p.name }

// hooksPath returns the API path (escaped, after the base URL) of a
// target's hooks.
func (p *Provider) hooksPath(t hooks.Target) (string, error) {
	if t.Provider != p.name {
		return "", fmt.Errorf("%s is not a target of provider %s", t, p.name)
	}
	switch t.Kind {
	case hooks.KindRepository:
		workspace, slug, err := splitRepo(t.Name)
		if err != nil {
			return "", fmt.Errorf("%s: %w", t, err)
		}
		return "/repositories/" + url.PathEscape(workspace) + "/" + url.PathEscape(slug) + "/hooks", nil
	case hooks.KindOrganization:
		if err := checkName(t.Name); err != nil {
			return "", fmt.Errorf("%s: %w", t, err)
		}
		return "/workspaces/" + url.PathEscape(t.Name) + "/hooks", nil
	}
	return "", fmt.Errorf("%s: Bitbucket holds hooks at repositories and workspaces (organization targets), not at a %s", t, t.Kind)
}

// reUUID matches a hook's id: a UUID in braces.
var reUUID = regexp.MustCompile(`^\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}$`)

// hookPath returns the API path of one hook, its braces escaped.
func (p *Provider) hookPath(t hooks.Target, id string) (string, error) {
	path, err := p.hooksPath(t)
	if err != nil {
		return "", err
	}
	if !reUUID.MatchString(id) {
		return "", fmt.Errorf("%s: %q is not a Bitbucket hook id, a UUID in braces", t, id)
	}
	return path + "/" + url.PathEscape(id), nil
}

// splitRepo splits "workspace/slug".
func splitRepo(full string) (string, string, error) {
	workspace, slug, ok := strings.Cut(full, "/")
	if !ok || checkName(workspace) != nil || checkName(slug) != nil {
		return "", "", fmt.Errorf("%q is not a repository such as workspace/repo-slug", full)
	}
	return workspace, slug, nil
}

// checkName checks a workspace's or a repository's slug (or UUID in
// braces).
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsFunc(name, func(r rune) bool {
		return strings.ContainsRune("/\\?#%", r) || unicode.IsSpace(r) || unicode.IsControl(r)
	}) {
		return fmt.Errorf("%q is not a Bitbucket workspace or repository slug", name)
	}
	return nil
}

// apiHook is a webhook subscription as Bitbucket's API shows it.
type apiHook struct {
	UUID      string   `json:"uuid"`
	URL       string   `json:"url"`
	Active    bool     `json:"active"`
	Events    []string `json:"events"`
	SecretSet *bool    `json:"secret_set"`
}

// decodeHook decodes a webhook subscription.
func decodeHook(raw json.RawMessage) (hooks.Hook, *bool, error) {
	var h apiHook
	if err := json.Unmarshal(raw, &h); err != nil {
		return hooks.Hook{}, nil, fmt.Errorf("decode a hook: %w", err)
	}
	if h.UUID == "" {
		return hooks.Hook{}, nil, errors.New("decode a hook: it has no uuid")
	}
	events := slices.Clone(h.Events)
	if events == nil {
		events = []string{}
	}
	slices.Sort(events)
	return hooks.Hook{
		ID:          h.UUID,
		URL:         h.URL,
		Events:      slices.Compact(events),
		ContentType: hooks.ContentJSON,
		Active:      h.Active,
	}, h.SecretSet, nil
}

// List returns every hook of a repository or workspace, every page of
// them.
func (p *Provider) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	path, err := p.hooksPath(t)
	if err != nil {
		return nil, err
	}
	var out []hooks.Hook
	err = p.each(ctx, t.String()+": hooks", path, func(raw json.RawMessage) error {
		h, _, err := decodeHook(raw)
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

// Create creates a hook: its description, URL, events and secret,
// active.
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
	if _, err := p.do(ctx, http.MethodPost, p.base+path, body, &raw, s.Secret); err != nil {
		return hooks.Hook{}, p.targetError(t, "create a hook", hookError(err, s.Events))
	}
	h, secretSet, err := decodeHook(raw)
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: create a hook: %w", t, err)
	}
	if err := applied(h, secretSet, s); err != nil {
		return h, fmt.Errorf("%s: created hook %s, but %w", t, h.ID, err)
	}
	return h, nil
}

// Update makes hook id as s says: its description, URL, events, active,
// and its secret (Bitbucket replaces it when one is sent).
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
	if _, err := p.do(ctx, http.MethodPut, p.base+path, body, &raw, s.Secret); err != nil {
		return p.targetError(t, "update hook "+id, hookError(err, s.Events))
	}
	h, secretSet, err := decodeHook(raw)
	if err != nil {
		return fmt.Errorf("%s: update hook %s: %w", t, id, err)
	}
	if err := applied(h, secretSet, s); err != nil {
		return fmt.Errorf("%s: updated hook %s, but %w", t, id, err)
	}
	return nil
}

// Delete deletes hook id.
func (p *Provider) Delete(ctx context.Context, t hooks.Target, id string) error {
	path, err := p.hookPath(t, id)
	if err != nil {
		return err
	}
	if _, err := p.do(ctx, http.MethodDelete, p.base+path, nil, nil, nil); err != nil {
		return p.targetError(t, "delete hook "+id, err)
	}
	return nil
}

// targetError adds to an error the target and what was done; for a
// 401, 403 or 404 what the credentials need; for Bitbucket's refusal of
// one more hook, hooks.ErrLimit.
func (p *Provider) targetError(t hooks.Target, op string, err error) error {
	workspace, _, _ := strings.Cut(t.Name, "/")
	switch st := statusOf(err); {
	case isLimit(err):
		return fmt.Errorf("the Bitbucket %s %s holds no more hooks: %w: %w", kindName(t.Kind), t.Name, hooks.ErrLimit, err)
	case st == http.StatusUnauthorized:
		return fmt.Errorf("%s: %s: %s: %w", t, op, p.authHint(), err)
	case st == http.StatusForbidden && t.Kind == hooks.KindOrganization:
		return fmt.Errorf("%s: %s: workspace hooks need the credentials' account to be an owner (admin) of workspace %s, and %s: %w", t, op, t.Name, p.scopeHint(), err)
	case st == http.StatusForbidden:
		return fmt.Errorf("%s: %s: repository hooks need admin rights on %s, and %s: %w", t, op, t.Name, p.scopeHint(), err)
	case st == http.StatusNotFound && t.Kind == hooks.KindOrganization:
		return fmt.Errorf("%s: %s: no such workspace or hook, or workspace %s is not visible to the credentials: %w", t, op, t.Name, err)
	case st == http.StatusNotFound:
		return fmt.Errorf("%s: %s: no such repository or hook, or %s is not visible to the credentials (an access token sees its own repository, project or workspace %s only): %w", t, op, t.Name, workspace, err)
	}
	return fmt.Errorf("%s: %s: %w", t, op, err)
}

// kindName names a target's kind as Bitbucket does.
func kindName(kind string) string {
	if kind == hooks.KindOrganization {
		return "workspace"
	}
	return kind
}

// authHint says what a 401 means for the credentials in use.
func (p *Provider) authHint() string {
	if p.accessToken != "" {
		return "Bitbucket refused the access token (invalid, expired or revoked)"
	}
	return "Bitbucket refused the username and token: an API token is invalid, expired or revoked, or its username is not the Atlassian account's email (an app password's is the Bitbucket username; app passwords stop working on 9 June 2026)"
}

// scopeHint says which permissions the credentials in use need for
// hooks.
func (p *Provider) scopeHint() string {
	if p.accessToken != "" {
		return `the access token needs the scope "Webhooks: Read and write" (webhook), perhaps "Repositories: Admin", plus the read scope of each event's kind (e.g. "Pull requests: Read" for pullrequest:* events)`
	}
	return `the token needs, as an API token, the scopes read:webhook:bitbucket, write:webhook:bitbucket and delete:webhook:bitbucket, or as an app password "Webhooks: Read and write"; plus the read scope of each event's kind (e.g. read:pullrequest:bitbucket, "Pull requests: Read", for pullrequest:* events)`
}

// isLimit reports whether an error is Bitbucket refusing one more hook
// at a target (UNCONFIRMED wording: a 4xx whose message speaks of a
// limit, maximum or too many hooks).
func isLimit(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.StatusCode {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusConflict, http.StatusUnprocessableEntity:
	default:
		return false
	}
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "hook") && (strings.Contains(m, "limit") || strings.Contains(m, "maximum") || strings.Contains(m, "too many"))
}

// hookError adds to a create's or update's error the declared events
// that are not among the keys Bitbucket lists, when it refused the
// request as bad: the likely cause.
func hookError(err error, events []string) error {
	if statusOf(err) != http.StatusBadRequest {
		return err
	}
	var unknown []string
	for _, e := range events {
		if !slices.Contains(knownEvents, e) {
			unknown = append(unknown, e)
		}
	}
	if len(unknown) == 0 {
		return err
	}
	return fmt.Errorf("%w (event(s) %s are not among the keys Bitbucket lists at GET /2.0/hook_events/repository)", err, strings.Join(unknown, ", "))
}
