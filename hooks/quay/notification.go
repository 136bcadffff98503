package quay

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reflexops/reflex/hooks"
)

// Events are the repository events a Reflex hook at Quay may send: the
// ones the quay connector names (connectors/quay), which it reads from
// the notification URL's event parameter.
var Events = []string{
	"repo_push",
	"build_queued", "build_start", "build_success", "build_failure", "build_cancelled",
	"vulnerability_found",
	"repo_mirror_sync_started", "repo_mirror_sync_success", "repo_mirror_sync_failed",
}

// disabledAfter is the number of failed deliveries in a row after which
// Quay stops sending a notification (data/model/notification.py,
// get_enabled_notification: number_of_failures < 3).
const disabledAfter = 3

// notification is a repository notification as Quay's API shows it.
type notification struct {
	UUID     string         `json:"uuid"`
	Title    string         `json:"title"`
	Event    string         `json:"event"`
	Method   string         `json:"method"`
	Config   map[string]any `json:"config"`
	Failures int            `json:"number_of_failures"`
}

// postsTo returns where a webhook notification posts; "" for another method
// (email, Slack, …), whose config is no webhook URL.
func (n notification) postsTo() string {
	if n.Method != "webhook" {
		return ""
	}
	u, _ := n.Config["url"].(string)
	return u
}

// groupKey returns the URL a notification posts to less its token, when
// it has Reflex's shape (…/hooks/{source}/{token}); "" otherwise.
func (n notification) groupKey() string {
	base, _, ok := splitTokenURL(n.postsTo())
	if !ok {
		return ""
	}
	return base
}

// is reports whether a notification is, exactly, an enabled webhook for
// event posting to hookURL.
func (n notification) is(event, hookURL string) bool {
	return n.Method == "webhook" && n.Event == event && n.postsTo() == hookURL && n.Failures < disabledAfter
}

// status describes a notification's failed deliveries; "" when it has
// none.
func (n notification) status() string {
	switch {
	case n.Failures >= disabledAfter:
		return fmt.Sprintf("%s: disabled after %d failed deliveries", n.Event, n.Failures)
	case n.Failures == 1:
		return n.Event + ": 1 failed delivery"
	case n.Failures > 0:
		return fmt.Sprintf("%s: %d failed deliveries in a row", n.Event, n.Failures)
	}
	return ""
}

// splitTokenURL splits a URL of Reflex's shape for a provider that signs
// nothing, <base>/<token>[?query], where base's path ends in
// /hooks/{source}: it returns base and the query.
func splitTokenURL(raw string) (string, string, bool) {
	if raw == "" || strings.Contains(raw, "#") {
		return "", "", false
	}
	rest, query, _ := strings.Cut(raw, "?")
	i := strings.LastIndexByte(rest, '/')
	if i < 0 || i == len(rest)-1 {
		return "", "", false
	}
	base := rest[:i]
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return "", "", false
	}
	segs := strings.Split(u.EscapedPath(), "/")
	if n := len(segs); n < 3 || segs[n-2] != "hooks" || segs[n-1] == "" {
		return "", "", false
	}
	return base, query, true
}

// isGroupID reports whether a hook id is a group's (a URL) rather than a
// single notification's uuid.
func isGroupID(id string) bool {
	return strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://")
}

// hooksOf maps a repository's notifications to hooks: the webhook
// notifications of Reflex's shape grouped by their URL less its token,
// each group one hook whose ID and URL are that URL, whose events are
// its notifications', active when every one of them is; any other
// notification a hook of its own, its uuid as ID.
func hooksOf(ns []notification) []hooks.Hook {
	var out []hooks.Hook
	at := map[string]int{} // index in out of each group's hook
	for _, n := range ns {
		key := n.groupKey()
		if key == "" {
			out = append(out, hooks.Hook{
				ID: n.UUID, URL: n.postsTo(), Events: []string{n.Event}, ContentType: hooks.ContentJSON,
				Active: n.Failures < disabledAfter, LastStatus: n.status(),
			})
			continue
		}
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			out = append(out, hooks.Hook{ID: key, URL: key, ContentType: hooks.ContentJSON, Active: true})
		}
		h := &out[i]
		h.Events = append(h.Events, n.Event)
		h.Active = h.Active && n.Failures < disabledAfter
		if st := n.status(); st != "" {
			h.LastStatus = strings.TrimPrefix(h.LastStatus+"; "+st, "; ")
		}
	}
	for i := range out {
		out[i].Events = sortedEvents(out[i].Events)
	}
	return out
}

// desired checks a spec and returns, by event, the URL its notification
// posts to: s.URL/<secret, path-escaped>?event=<event>.
func desired(s hooks.Spec) (map[string]string, error) {
	if _, err := sourceOf(s.URL); err != nil {
		return nil, err
	}
	switch s.ContentType {
	case "", hooks.ContentJSON:
	default:
		return nil, fmt.Errorf("the content type %q is not json: Quay posts JSON only", s.ContentType)
	}
	if err := checkSecret(s.Secret); err != nil {
		return nil, err
	}
	if len(s.Events) == 0 {
		return nil, fmt.Errorf("no events: name Quay's, e.g. repo_push (%s)", strings.Join(Events, ", "))
	}
	out := map[string]string{}
	token := url.PathEscape(string(s.Secret))
	for _, e := range s.Events {
		if !slices.Contains(Events, e) {
			return nil, fmt.Errorf("%q is not a Quay repository event Reflex takes (%s)", e, strings.Join(Events, ", "))
		}
		out[e] = s.URL + "/" + token + "?" + url.Values{"event": {e}}.Encode()
	}
	return out, nil
}

// checkSecret checks that a secret can end a URL's path: Quay signs
// nothing, the URL carries it.
func checkSecret(secret []byte) error {
	switch {
	case len(secret) == 0:
		return errors.New("the hook's secret is empty: Quay signs nothing, and the quay connector takes deliveries only at /hooks/{source}/{token}")
	case !utf8.Valid(secret):
		return errors.New("the hook's secret is not UTF-8 text, which a URL carries badly")
	case strings.Contains(string(secret), "/"):
		return errors.New("the hook's secret holds a '/': Reflex's router would read it as two path segments")
	case strings.ContainsFunc(string(secret), unicode.IsControl):
		return errors.New("the hook's secret holds a control character")
	}
	return nil
}

// sourceOf returns the source a hook URL posts to, checking that the URL
// has the shape List recognizes, …/hooks/{source}: http(s), no query,
// fragment or user.
func sourceOf(hookURL string) (string, error) {
	base, _, ok := splitTokenURL(hookURL + "/token")
	u, err := url.Parse(hookURL)
	if !ok || base != hookURL || err != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("the hook's URL %q is not an http(s) URL ending in /hooks/{source}, without a query", hookURL)
	}
	source, err := url.PathUnescape(hookURL[strings.LastIndexByte(hookURL, '/')+1:])
	if err != nil {
		return "", fmt.Errorf("the hook's URL %q: %w", hookURL, err)
	}
	return source, nil
}

// sortedEvents returns a sorted copy of events, without repeats.
func sortedEvents(events []string) []string {
	out := slices.Clone(events)
	slices.Sort(out)
	return slices.Compact(out)
}
