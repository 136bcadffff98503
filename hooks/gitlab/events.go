package gitlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/reflexops/reflex/hooks"
)

// knownEvents are the <event>_events flags of GitLab's project and group
// hook APIs, by event name. Create and Update send every one of them,
// true for the declared events and false for the others, so that a
// shorter list turns events off. A declared event not listed here is sent
// too (as <event>_events: true), for GitLab versions newer than the list.
var knownEvents = []string{
	"push", "tag_push", "merge_requests", "issues", "confidential_issues",
	"note", "confidential_note", "job", "pipeline", "wiki_page",
	"deployment", "releases", "feature_flag", "emoji",
	"resource_access_token", "milestone", "vulnerability",
	// Group hooks only.
	"member", "subgroup", "project",
}

// testable are the events GitLab's test API sends sample data of, in the
// order Ping prefers them.
var testable = []string{
	"push", "tag_push", "merge_requests", "issues", "confidential_issues",
	"note", "job", "pipeline", "wiki_page", "releases", "emoji",
	"resource_access_token",
}

// eventsOf returns the events a hook sends: the names of its
// <event>_events flags that are true, sorted.
func eventsOf(fields map[string]json.RawMessage) []string {
	events := []string{}
	for k, v := range fields {
		name, ok := strings.CutSuffix(k, "_events")
		if ok && name != "" && string(v) == "true" {
			events = append(events, name)
		}
	}
	slices.Sort(events)
	return events
}

// hookBody returns the body that creates or updates a hook as s says:
// url, token (the secret, which GitLab sends back in X-Gitlab-Token),
// enable_ssl_verification, and every <event>_events flag.
func hookBody(s hooks.Spec) (map[string]any, error) {
	if s.URL == "" {
		return nil, errors.New("the hook's URL is empty")
	}
	if s.ContentType != "" && s.ContentType != hooks.ContentJSON {
		return nil, fmt.Errorf("GitLab posts JSON only, not %q", s.ContentType)
	}
	switch {
	case len(s.Secret) == 0:
		return nil, errors.New("the hook's secret is empty: GitLab would post unauthenticated deliveries")
	case !utf8.Valid(s.Secret):
		return nil, errors.New("the hook's secret is not UTF-8 text: GitLab's token is a string")
	case strings.ContainsAny(string(s.Secret), "\r\n"):
		return nil, errors.New("the hook's secret holds a line break, which GitLab refuses")
	}
	if len(s.Events) == 0 {
		return nil, errors.New("no events are declared: name at least one, e.g. push")
	}
	body := map[string]any{
		"url":                     s.URL,
		"token":                   string(s.Secret),
		"enable_ssl_verification": true,
	}
	for _, e := range knownEvents {
		body[e+"_events"] = false
	}
	for _, e := range s.Events {
		if err := checkEvent(e); err != nil {
			return nil, err
		}
		body[e+"_events"] = true
	}
	return body, nil
}

// checkEvent checks a declared event's name.
func checkEvent(e string) error {
	if strings.HasSuffix(e, "_events") {
		return fmt.Errorf("event %q: name GitLab's events without _events, e.g. %q", e, strings.TrimSuffix(e, "_events"))
	}
	if e == "" || e[0] < 'a' || e[0] > 'z' {
		return fmt.Errorf("event %q is not a GitLab event name such as push or merge_requests", e)
	}
	for _, r := range e {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return fmt.Errorf("event %q is not a GitLab event name such as push or merge_requests", e)
		}
	}
	return nil
}

// checkEvents checks that GitLab turned on every event s declares: it
// ignores the flags it does not know (a newer event on an older GitLab,
// a group event at a project).
func checkEvents(h hooks.Hook, s hooks.Spec) error {
	var missing []string
	for _, e := range s.Events {
		if !slices.Contains(h.Events, e) {
			missing = append(missing, e)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("GitLab did not turn on event(s) %s: it does not know them for this kind of hook (group-only events are member, subgroup and project)", strings.Join(missing, ", "))
	}
	return nil
}

// testTrigger returns the trigger Ping tests a hook with: the first of
// its events GitLab can test, else push_events.
func testTrigger(events []string) string {
	for _, e := range testable {
		if slices.Contains(events, e) {
			return e + "_events"
		}
	}
	return "push_events"
}
