package harbor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/restapi"
)

// Name is the provider's name in configuration, unless Options.Name
// gives another.
const Name = "harbor"

// DefaultTimeout bounds each request when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultRetries bounds the rate-limit waits of one request when
// Options.Retries is zero.
const DefaultRetries = 3

// PolicyPrefix starts the name of every webhook policy Reflex creates:
// "reflex-<source>".
const PolicyPrefix = "reflex-"

// Options configure a Provider.
type Options struct {
	// BaseURL is the Harbor instance's URL, e.g.
	// https://harbor.example.com (a path prefix is kept; a trailing
	// /api/v2.0 is dropped). Required. Plain http is refused but for a
	// loopback host.
	BaseURL string
	// Username and Password authenticate every request (HTTP Basic): a
	// robot account, robot$<name> (robot$<project>+<name> for a project
	// robot) and its secret, or a user that is project admin. Required.
	Username string
	Password string
	// Name is the provider's name in configuration, for a second Harbor
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

// Provider is the hooks.Provider of Harbor v2: the webhook policies of
// projects. It is safe for concurrent use.
type Provider struct {
	name     string
	base     string // scheme://host[/prefix], without a trailing slash
	prefix   string // the base's path, escaped
	username string
	password string
	client   *http.Client
	retries  int
	now      func() time.Time
}

var _ hooks.Provider = (*Provider)(nil)

// New returns a Provider for the options.
func New(o Options) (*Provider, error) {
	switch {
	case o.Username == "" || o.Password == "":
		return nil, errors.New("harbor hooks: the username and password are required (a robot account: robot$<name> and its secret)")
	case strings.Contains(o.Username, ":"):
		return nil, errors.New("harbor hooks: the username holds a colon, which HTTP Basic authentication cannot carry")
	case strings.ContainsAny(o.Username+o.Password, "\r\n"):
		return nil, errors.New("harbor hooks: the username or password holds a line break")
	case o.BaseURL == "":
		return nil, errors.New("harbor hooks: the base URL is required, e.g. https://harbor.example.com")
	}
	base, prefix, err := baseURL(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("harbor hooks: %w", err)
	}
	c := restapi.NewHTTPClient(o.HTTPClient, o.Timeout, DefaultTimeout, restapi.Credentials)
	p := &Provider{name: o.Name, base: base, prefix: prefix, username: o.Username, password: o.Password, client: c, retries: restapi.Retries(o.Retries, DefaultRetries), now: time.Now}
	if p.name == "" {
		p.name = Name
	}
	return p, nil
}

// baseURL parses and checks the instance's URL, and returns it and its
// path.
func baseURL(raw string) (string, string, error) {
	u, err := restapi.ParseBase(raw, "https://harbor.example.com", restapi.Credentials)
	if err != nil {
		return "", "", err
	}
	prefix := strings.TrimSuffix(u.EscapedPath(), "/")
	prefix = strings.TrimSuffix(prefix, "/api/v2.0")
	return u.Scheme + "://" + u.Host + prefix, prefix, nil
}

// Name returns the provider's name, "harbor" unless Options.Name says.
func (p *Provider) Name() string { return p.name }

// projectName matches a Harbor project's name: lower-case letters and
// digits, with single '.', '_' or '-' between them.
var projectName = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// checkProject checks a project's name.
func checkProject(name string) error {
	if len(name) > 255 || !projectName.MatchString(name) {
		return fmt.Errorf("%q is not a Harbor project name (lower-case letters, digits, and '.', '_' or '-' between them)", name)
	}
	return nil
}

// policiesPath returns the API path of a project's webhook policies.
func (p *Provider) policiesPath(t hooks.Target) (string, error) {
	if t.Provider != p.name {
		return "", fmt.Errorf("%s is not a target of provider %s", t, p.name)
	}
	if t.Kind != hooks.KindProject {
		return "", fmt.Errorf("%s: Harbor holds webhook policies at projects, not at a %s", t, t.Kind)
	}
	if err := checkProject(t.Name); err != nil {
		return "", fmt.Errorf("%s: %w", t, err)
	}
	return "/api/v2.0/projects/" + url.PathEscape(t.Name) + "/webhook/policies", nil
}

// policyPath returns the API path of one webhook policy.
func (p *Provider) policyPath(t hooks.Target, id string) (string, error) {
	dir, err := p.policiesPath(t)
	if err != nil {
		return "", err
	}
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return "", fmt.Errorf("%s: %q is not a Harbor webhook policy id", t, id)
	}
	return dir + "/" + id, nil
}

// target is a webhook policy's target as Harbor's API shows it.
type target struct {
	Type           string `json:"type"`
	Address        string `json:"address"`
	AuthHeader     string `json:"auth_header"`
	SkipCertVerify bool   `json:"skip_cert_verify"`
	PayloadFormat  string `json:"payload_format,omitempty"`
}

// policy is a webhook policy as Harbor's API shows it.
type policy struct {
	ID         int64    `json:"id"`
	Name       string   `json:"name"`
	Enabled    bool     `json:"enabled"`
	EventTypes []string `json:"event_types"`
	Targets    []target `json:"targets"`
}

// hook maps a webhook policy to a hooks.Hook: its URL is its first http
// target's address ("" when it has none, e.g. a Slack policy's).
func (pol policy) hook() hooks.Hook {
	h := hooks.Hook{
		ID:          strconv.FormatInt(pol.ID, 10),
		Events:      sortedEvents(pol.EventTypes),
		ContentType: hooks.ContentJSON,
		Active:      pol.Enabled,
	}
	for _, t := range pol.Targets {
		if t.Type == "http" {
			h.URL = t.Address
			break
		}
	}
	return h
}

// decodePolicy decodes a webhook policy of Harbor's API.
func decodePolicy(raw json.RawMessage) (policy, error) {
	var pol policy
	if err := json.Unmarshal(raw, &pol); err != nil {
		return policy{}, fmt.Errorf("decode a webhook policy: %w", err)
	}
	if pol.ID <= 0 {
		return policy{}, errors.New("decode a webhook policy: it has no id")
	}
	return pol, nil
}

// List returns every webhook policy of a project, every page of them.
func (p *Provider) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	dir, err := p.policiesPath(t)
	if err != nil {
		return nil, err
	}
	var out []hooks.Hook
	err = p.each(ctx, t.String()+": webhook policies", dir, nil, func(raw json.RawMessage) error {
		pol, err := decodePolicy(raw)
		if err != nil {
			return err
		}
		out = append(out, pol.hook())
		return nil
	})
	if err != nil {
		return nil, p.targetError(t, "list its webhook policies", err)
	}
	return out, nil
}

// eventName matches Harbor's event types, e.g. PUSH_ARTIFACT.
var eventName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// checkSpec checks a spec and returns the policy's target for it.
func checkSpec(s hooks.Spec) (target, error) {
	if _, err := sourceOf(s.URL); err != nil {
		return target{}, err
	}
	switch s.ContentType {
	case "", hooks.ContentJSON:
	default:
		return target{}, fmt.Errorf("the content type %q is not json: Harbor posts JSON only", s.ContentType)
	}
	if len(s.Events) == 0 {
		return target{}, errors.New("no events: Harbor needs at least one event type, e.g. PUSH_ARTIFACT")
	}
	for _, e := range s.Events {
		if !eventName.MatchString(e) {
			return target{}, fmt.Errorf("%q is not a Harbor event type, such as PUSH_ARTIFACT, DELETE_ARTIFACT or SCANNING_COMPLETED", e)
		}
	}
	if err := checkSecret(s.Secret); err != nil {
		return target{}, err
	}
	return target{Type: "http", Address: s.URL, AuthHeader: string(s.Secret), SkipCertVerify: false, PayloadFormat: "Default"}, nil
}

// checkSecret checks that a secret can be the Authorization header Harbor
// sends, whole and as it is.
func checkSecret(secret []byte) error {
	switch {
	case len(secret) == 0:
		return errors.New("the hook's secret is empty: Harbor would send no Authorization header, and the harbor connector refuses such deliveries")
	case !utf8.Valid(secret):
		return errors.New("the hook's secret is not UTF-8 text: Harbor's auth header is a string")
	case strings.TrimSpace(string(secret)) != string(secret):
		return errors.New("the hook's secret starts or ends with white space, which an HTTP header loses")
	case strings.ContainsFunc(string(secret), unicode.IsControl):
		return errors.New("the hook's secret holds a control character, which an HTTP header cannot carry")
	}
	return nil
}

// sourceOf returns the source a hook URL posts to: its last path
// segment, /hooks/{source}. Harbor keeps only a target address's scheme,
// host and path, so a query or a fragment is refused.
func sourceOf(hookURL string) (string, error) {
	u, err := url.Parse(hookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("the hook's URL %q is not an http(s) URL", hookURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("the hook's URL %q has a query, fragment or user: Harbor keeps a target's scheme, host and path only", hookURL)
	}
	if strings.HasSuffix(u.Path, "/") {
		return "", fmt.Errorf("the hook's URL %q ends in a slash, which Harbor drops", hookURL)
	}
	if u.EscapedPath() != u.Path {
		return "", fmt.Errorf("the hook's URL %q has escaped characters in its path, which Harbor keeps decoded", hookURL)
	}
	source := path.Base(u.Path)
	if source == "" || source == "/" || source == "." {
		return "", fmt.Errorf("the hook's URL %q names no source", hookURL)
	}
	return source, nil
}

// policyName returns the name of a source's policy: "reflex-<source>",
// or with a suffix telling its URL apart, for a second try when another
// policy has the name.
func policyName(hookURL string, suffixed bool) string {
	source, _ := sourceOf(hookURL)
	name := PolicyPrefix + source
	if suffixed {
		sum := sha256.Sum256([]byte(hookURL))
		name += "-" + hex.EncodeToString(sum[:4])
	}
	return name
}

// Create creates a webhook policy named "reflex-<source>", enabled, for
// the declared event types, with one http target: the hook's URL, the
// secret as its auth header (which Harbor sends as the Authorization
// header), certificates verified, the Default payload format. When
// another policy of the project has the name (one posting elsewhere,
// e.g. to a former public URL), the name gets a suffix from the URL's
// hash.
func (p *Provider) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	dir, err := p.policiesPath(t)
	if err != nil {
		return hooks.Hook{}, err
	}
	tg, err := checkSpec(s)
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: %w", t, err)
	}
	body := map[string]any{
		"name":        policyName(s.URL, false),
		"description": "Managed by Reflex (hooks as code): edits are undone by the next apply.",
		"enabled":     true,
		"event_types": s.Events,
		"targets":     []target{tg},
	}
	h, err := p.do(ctx, http.MethodPost, p.apiURL(dir, nil), body, nil, s.Secret)
	if e := (*Error)(nil); errors.As(err, &e) && e.StatusCode == http.StatusConflict {
		hooks.Report(ctx, "%s: a webhook policy named %s exists already; naming Reflex's %s", t, body["name"], policyName(s.URL, true))
		body["name"] = policyName(s.URL, true)
		h, err = p.do(ctx, http.MethodPost, p.apiURL(dir, nil), body, nil, s.Secret)
	}
	if err != nil {
		return hooks.Hook{}, p.targetError(t, "create a webhook policy", err)
	}
	id, err := p.createdID(ctx, t, dir, h.Get("Location"), body["name"].(string))
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: created webhook policy %s, but %w", t, body["name"], err)
	}
	return hooks.Hook{ID: id, URL: s.URL, Events: sortedEvents(s.Events), ContentType: hooks.ContentJSON, Active: true}, nil
}

// createdID returns the id of a policy just created: the last segment of
// the Location Harbor answers, else the id of the policy with its name.
func (p *Provider) createdID(ctx context.Context, t hooks.Target, dir, location, name string) (string, error) {
	if location != "" {
		last := location[strings.LastIndex(location, "/")+1:]
		if n, err := strconv.ParseInt(last, 10, 64); err == nil && n > 0 {
			return strconv.FormatInt(n, 10), nil
		}
	}
	id := ""
	err := p.each(ctx, t.String()+": webhook policies", dir, nil, func(raw json.RawMessage) error {
		pol, err := decodePolicy(raw)
		if err == nil && pol.Name == name {
			id = strconv.FormatInt(pol.ID, 10)
		}
		return err
	})
	switch {
	case err != nil:
		return "", fmt.Errorf("its id: %w", err)
	case id == "":
		return "", errors.New("its id: Harbor answered no Location, and lists no policy of that name")
	}
	return id, nil
}

// Update makes webhook policy id as s says: enabled, the declared event
// types, one http target (the URL, the secret as its auth header). It
// reads the policy first and sends it back whole with those fields
// changed, as Harbor's update replaces every field (its creator and
// creation time included).
func (p *Provider) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) error {
	file, err := p.policyPath(t, id)
	if err != nil {
		return err
	}
	tg, err := checkSpec(s)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	var cur map[string]json.RawMessage
	if _, err := p.do(ctx, http.MethodGet, p.apiURL(file, nil), nil, &cur, nil); err != nil {
		return p.targetError(t, "read webhook policy "+id, err)
	}
	if cur == nil {
		return fmt.Errorf("%s: read webhook policy %s: Harbor answered no policy", t, id)
	}
	set := func(k string, v any) {
		data, _ := json.Marshal(v)
		cur[k] = data
	}
	set("enabled", true)
	set("event_types", s.Events)
	set("targets", []target{tg})
	var name string
	if json.Unmarshal(cur["name"], &name) != nil || name == "" {
		set("name", policyName(s.URL, false))
	}
	if _, err := p.do(ctx, http.MethodPut, p.apiURL(file, nil), cur, nil, s.Secret); err != nil {
		return p.targetError(t, "update webhook policy "+id, err)
	}
	return nil
}

// Delete deletes webhook policy id.
func (p *Provider) Delete(ctx context.Context, t hooks.Target, id string) error {
	file, err := p.policyPath(t, id)
	if err != nil {
		return err
	}
	if _, err := p.do(ctx, http.MethodDelete, p.apiURL(file, nil), nil, nil, nil); err != nil {
		return p.targetError(t, "delete webhook policy "+id, err)
	}
	return nil
}

// targetError adds to an error the target and what was done, and for a
// 403 or 404 the permission the credentials need.
func (p *Provider) targetError(t hooks.Target, op string, err error) error {
	switch statusOf(err) {
	case http.StatusForbidden:
		return fmt.Errorf("%s: %s: the account needs the Webhook permission on project %s (list, read, create, update, delete; robot accounts have it since Harbor 2.10), or to be its project admin: %w", t, op, t.Name, err)
	case http.StatusNotFound:
		return fmt.Errorf("%s: %s: no such project or webhook policy, or the account cannot see it: %w", t, op, err)
	}
	return fmt.Errorf("%s: %s: %w", t, op, err)
}

// sortedEvents returns a sorted copy of events, without repeats.
func sortedEvents(events []string) []string {
	out := slices.Clone(events)
	slices.Sort(out)
	return slices.Compact(out)
}
