package quay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/restapi"
)

// Name is the provider's name in configuration, unless Options.Name
// gives another.
const Name = "quay"

// DefaultBaseURL is Quay.io.
const DefaultBaseURL = "https://quay.io"

// DefaultTimeout bounds each request when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultRetries bounds the rate-limit waits of one request when
// Options.Retries is zero.
const DefaultRetries = 3

// Options configure a Provider.
type Options struct {
	// Token is an OAuth access token of a Quay application, with the
	// repo:admin scope, sent as "Authorization: Bearer <token>".
	// Required.
	Token string
	// BaseURL is the registry's URL, e.g. https://quay.example.com (a
	// path prefix is kept; a trailing /api/v1 is dropped). Default:
	// DefaultBaseURL. Plain http is refused but for a loopback host.
	BaseURL string
	// Name is the provider's name in configuration, for a second Quay.
	// Default: Name.
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

// Provider is the hooks.Provider, hooks.Pinger and hooks.Replacer of
// Quay.io and Red Hat Quay: the webhook notifications of repositories. It
// is safe for concurrent use.
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
	_ hooks.Replacer = (*Provider)(nil)
)

// New returns a Provider for the options.
func New(o Options) (*Provider, error) {
	if o.Token == "" {
		return nil, errors.New("quay hooks: the token is required (an OAuth token of a Quay application, with the repo:admin scope)")
	}
	if strings.ContainsAny(o.Token, " \r\n\t") {
		return nil, errors.New("quay hooks: the token holds white space")
	}
	base, err := baseURL(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("quay hooks: %w", err)
	}
	c := restapi.NewHTTPClient(o.HTTPClient, o.Timeout, DefaultTimeout, restapi.Token)
	p := &Provider{name: o.Name, base: base, token: o.Token, client: c, retries: restapi.Retries(o.Retries, DefaultRetries), now: time.Now}
	if p.name == "" {
		p.name = Name
	}
	return p, nil
}

// baseURL parses and checks the registry's URL.
func baseURL(raw string) (string, error) {
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := restapi.ParseBase(raw, "https://quay.example.com", restapi.Token)
	if err != nil {
		return "", err
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	path = strings.TrimSuffix(path, "/api/v1")
	return u.Scheme + "://" + u.Host + path, nil
}

// Name returns the provider's name, "quay" unless Options.Name says.
func (p *Provider) Name() string { return p.name }

// nameSegment matches one segment of a repository's full name.
var nameSegment = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// splitRepo splits a repository's full name, "namespace/name" (the name
// may hold slashes on a Quay with extended repository names).
func splitRepo(full string) (string, string, error) {
	ns, name, ok := strings.Cut(full, "/")
	if !ok {
		return "", "", fmt.Errorf("%q is not a repository such as namespace/name", full)
	}
	for _, seg := range strings.Split(full, "/") {
		if !nameSegment.MatchString(seg) {
			return "", "", fmt.Errorf("%q is not a repository such as namespace/name", full)
		}
	}
	return ns, name, nil
}

// escapeRepo returns a repository's full name as it goes in a path, each
// segment escaped.
func escapeRepo(full string) string {
	segs := strings.Split(full, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// notificationsPath returns the API path of a repository's
// notifications, with its trailing slash.
func (p *Provider) notificationsPath(t hooks.Target) (string, error) {
	if t.Provider != p.name {
		return "", fmt.Errorf("%s is not a target of provider %s", t, p.name)
	}
	if t.Kind != hooks.KindRepository {
		return "", fmt.Errorf("%s: Quay holds notifications at repositories, not at a %s", t, t.Kind)
	}
	if _, _, err := splitRepo(t.Name); err != nil {
		return "", fmt.Errorf("%s: %w", t, err)
	}
	return "/api/v1/repository/" + escapeRepo(t.Name) + "/notification/", nil
}

// uuidLike matches a notification's uuid.
var uuidLike = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// notificationPath returns the API path of one notification.
func (p *Provider) notificationPath(t hooks.Target, uuid string) (string, error) {
	dir, err := p.notificationsPath(t)
	if err != nil {
		return "", err
	}
	if !uuidLike.MatchString(uuid) {
		return "", fmt.Errorf("%s: %q is not a Quay notification uuid", t, uuid)
	}
	return dir + uuid, nil
}

// notifications lists a repository's notifications (Quay's listing has
// no pages).
func (p *Provider) notifications(ctx context.Context, t hooks.Target) ([]notification, error) {
	dir, err := p.notificationsPath(t)
	if err != nil {
		return nil, err
	}
	var body struct {
		Notifications []notification `json:"notifications"`
	}
	if _, err := p.do(ctx, http.MethodGet, p.apiURL(dir, nil), nil, &body, nil); err != nil {
		return nil, p.targetError(t, "list its notifications", err)
	}
	for _, n := range body.Notifications {
		if n.UUID == "" {
			return nil, fmt.Errorf("%s: list its notifications: one has no uuid", t)
		}
	}
	return body.Notifications, nil
}

// List returns a repository's notifications as hooks: Reflex's webhook
// notifications grouped by the URL they post to, less its token (see
// the package documentation), any other one by itself.
func (p *Provider) List(ctx context.Context, t hooks.Target) ([]hooks.Hook, error) {
	ns, err := p.notifications(ctx, t)
	if err != nil {
		return nil, err
	}
	return hooksOf(ns), nil
}

// Create makes the notifications of a hook: one webhook notification per
// declared event, posting to s.URL/<secret>?event=<event>. Notifications
// already there as declared (an earlier apply's) are kept, and the hook's
// others deleted, as Update does. It returns the hook, whose ID is s.URL.
func (p *Provider) Create(ctx context.Context, t hooks.Target, s hooks.Spec) (hooks.Hook, error) {
	if _, err := p.notificationsPath(t); err != nil {
		return hooks.Hook{}, err
	}
	return p.sync(ctx, t, s.URL, s, "create the hook")
}

// Update makes hook id's notifications as s says. Quay cannot edit a
// notification: a notification as declared is kept, a missing one
// created, the others (another event, a former secret, a disabled one)
// deleted once the new ones exist.
func (p *Provider) Update(ctx context.Context, t hooks.Target, id string, s hooks.Spec) error {
	_, err := p.sync(ctx, t, id, s, "update hook "+id)
	return err
}

// Replace makes hook id's notifications as s says, as Update does (the
// new ones made before the old ones go), and returns the hook.
func (p *Provider) Replace(ctx context.Context, t hooks.Target, id string, s hooks.Spec) (hooks.Hook, error) {
	return p.sync(ctx, t, id, s, "replace hook "+id)
}

// Delete deletes hook id's notifications: every notification of the
// group, or the one notification.
func (p *Provider) Delete(ctx context.Context, t hooks.Target, id string) error {
	members, err := p.members(ctx, t, id)
	if err != nil {
		return err
	}
	for _, n := range members {
		if err := p.deleteOne(ctx, t, n.UUID); err != nil {
			return err
		}
	}
	return nil
}

// Ping asks Quay to send a test notification (its sample event) through
// each of hook id's notifications.
func (p *Provider) Ping(ctx context.Context, t hooks.Target, id string) error {
	members, err := p.members(ctx, t, id)
	if err != nil {
		return err
	}
	if len(members) == 0 {
		return fmt.Errorf("%s: hook %s has no notification", t, id)
	}
	for _, n := range members {
		file, err := p.notificationPath(t, n.UUID)
		if err != nil {
			return err
		}
		if _, err := p.do(ctx, http.MethodPost, p.apiURL(file+"/test", nil), nil, nil, nil); err != nil {
			return p.targetError(t, "test notification "+n.UUID+" ("+n.Event+")", err)
		}
	}
	return nil
}

// members returns the notifications of hook id: those of the group whose
// URL less its token is id, or the one whose uuid is id. A uuid no
// notification has is an error; a group without notifications is empty.
func (p *Provider) members(ctx context.Context, t hooks.Target, id string) ([]notification, error) {
	group := isGroupID(id)
	if !group {
		if _, err := p.notificationPath(t, id); err != nil {
			return nil, err
		}
	}
	all, err := p.notifications(ctx, t)
	if err != nil {
		return nil, err
	}
	var out []notification
	for _, n := range all {
		if (group && n.groupKey() == id) || (!group && n.UUID == id) {
			out = append(out, n)
		}
	}
	if !group && len(out) == 0 {
		return nil, fmt.Errorf("%s: no notification %s", t, id)
	}
	return out, nil
}

// sync makes hook id's notifications as s says: for each declared event,
// one enabled webhook notification posting to exactly s.URL/<secret>
// ?event=<event> is kept, or created when none is; then every other
// notification of the hook is deleted. It returns the hook as it now is.
func (p *Provider) sync(ctx context.Context, t hooks.Target, id string, s hooks.Spec, op string) (hooks.Hook, error) {
	want, err := desired(s)
	if err != nil {
		return hooks.Hook{}, fmt.Errorf("%s: %w", t, err)
	}
	members, err := p.members(ctx, t, id)
	if err != nil {
		return hooks.Hook{}, err
	}
	kept := map[string]bool{}
	var missing []string
	for _, e := range sortedEvents(s.Events) {
		found := false
		for _, n := range members {
			if !kept[n.UUID] && n.is(e, want[e]) {
				kept[n.UUID], found = true, true
				break
			}
		}
		if !found {
			missing = append(missing, e)
		}
	}
	for _, e := range missing {
		if err := p.createOne(ctx, t, e, want[e], s); err != nil {
			return hooks.Hook{}, fmt.Errorf("%s: %w", op, err)
		}
	}
	for _, n := range members {
		if !kept[n.UUID] {
			if err := p.deleteOne(ctx, t, n.UUID); err != nil {
				return hooks.Hook{}, fmt.Errorf("%s: %w", op, err)
			}
		}
	}
	return hooks.Hook{ID: s.URL, URL: s.URL, Events: sortedEvents(s.Events), ContentType: hooks.ContentJSON, Active: true}, nil
}

// createOne creates one webhook notification.
func (p *Provider) createOne(ctx context.Context, t hooks.Target, event, hookURL string, s hooks.Spec) error {
	dir, err := p.notificationsPath(t)
	if err != nil {
		return err
	}
	source, _ := sourceOf(s.URL)
	body := map[string]any{
		"event":       event,
		"method":      "webhook",
		"config":      map[string]string{"url": hookURL},
		"eventConfig": map[string]any{},
		"title":       fmt.Sprintf("Reflex: %s (%s)", source, event),
	}
	var n notification
	if _, err := p.do(ctx, http.MethodPost, p.apiURL(dir, nil), body, &n, s.Secret); err != nil {
		return p.targetError(t, "create the "+event+" notification", err)
	}
	if n.UUID == "" {
		return fmt.Errorf("%s: create the %s notification: Quay answered no uuid", t, event)
	}
	return nil
}

// deleteOne deletes one notification.
func (p *Provider) deleteOne(ctx context.Context, t hooks.Target, uuid string) error {
	file, err := p.notificationPath(t, uuid)
	if err != nil {
		return err
	}
	if _, err := p.do(ctx, http.MethodDelete, p.apiURL(file, nil), nil, nil, nil); err != nil {
		return p.targetError(t, "delete notification "+uuid, err)
	}
	return nil
}

// targetError adds to an error the target and what was done, and for a
// 403 or 404 the scope and role the token needs.
func (p *Provider) targetError(t hooks.Target, op string, err error) error {
	switch statusOf(err) {
	case http.StatusForbidden:
		return fmt.Errorf("%s: %s: the token needs the repo:admin scope, and its user admin rights on repository %s: %w", t, op, t.Name, err)
	case http.StatusNotFound:
		return fmt.Errorf("%s: %s: no such repository, or the token's user cannot see it: %w", t, op, err)
	}
	return fmt.Errorf("%s: %s: %w", t, op, err)
}
