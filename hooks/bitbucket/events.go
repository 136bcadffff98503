package bitbucket

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/reflexops/reflex/hooks"
)

// maxSecret is the longest secret Bitbucket keeps, in characters.
const maxSecret = 128

// knownEvents are the event keys Bitbucket Cloud's API lists for
// webhook subscriptions (GET /2.0/hook_events/repository and
// /hook_events/workspace; the webhook_subscription schema). A declared
// key not listed here is sent as it is, for keys newer than the list:
// Bitbucket refuses a key it does not know.
var knownEvents = []string{
	"issue:comment_created", "issue:created", "issue:updated",
	"project:updated",
	"pullrequest:approved", "pullrequest:changes_request_created", "pullrequest:changes_request_removed",
	"pullrequest:comment_created", "pullrequest:comment_deleted", "pullrequest:comment_reopened",
	"pullrequest:comment_resolved", "pullrequest:comment_updated", "pullrequest:created",
	"pullrequest:fulfilled", "pullrequest:rejected", "pullrequest:unapproved", "pullrequest:updated",
	"repo:commit_comment_created", "repo:commit_status_created", "repo:commit_status_updated",
	"repo:created", "repo:deleted", "repo:fork", "repo:imported", "repo:push", "repo:transfer", "repo:updated",
}

// reEvent matches an event key's form, "category:action".
var reEvent = regexp.MustCompile(`^[a-z][a-z_]*:[a-z][a-z_]*$`)

// hookBody returns the body that creates or updates a hook as s says:
// description, url, active, events (sorted) and secret, with which
// Bitbucket signs X-Hub-Signature.
func hookBody(s hooks.Spec) (map[string]any, error) {
	if s.URL == "" {
		return nil, errors.New("the hook's URL is empty")
	}
	if s.ContentType != "" && s.ContentType != hooks.ContentJSON {
		return nil, fmt.Errorf("the content type %q: Bitbucket posts JSON only", s.ContentType)
	}
	switch {
	case len(s.Secret) == 0:
		return nil, errors.New("the hook's secret is empty: Bitbucket would sign nothing")
	case !utf8.Valid(s.Secret):
		return nil, errors.New("the hook's secret is not UTF-8 text: Bitbucket's secret is a string")
	case utf8.RuneCount(s.Secret) > maxSecret:
		return nil, fmt.Errorf("the hook's secret is longer than the %d characters Bitbucket keeps", maxSecret)
	}
	if err := checkEvents(s.Events); err != nil {
		return nil, err
	}
	events := slices.Clone(s.Events)
	slices.Sort(events)
	return map[string]any{
		"description": Description,
		"url":         s.URL,
		"active":      true,
		"events":      slices.Compact(events),
		"secret":      string(s.Secret),
	}, nil
}

// checkEvents checks declared event keys: at least one, each of
// Bitbucket's form.
func checkEvents(events []string) error {
	if len(events) == 0 {
		return errors.New("no events are declared: name at least one, e.g. repo:push")
	}
	for _, e := range events {
		if !reEvent.MatchString(e) {
			return fmt.Errorf("event %q is not a Bitbucket event key such as repo:push or pullrequest:created", e)
		}
	}
	return nil
}

// applied checks Bitbucket's answer to a create or update: every
// declared event on, and a secret set.
func applied(h hooks.Hook, secretSet *bool, s hooks.Spec) error {
	var missing []string
	for _, e := range s.Events {
		if !slices.Contains(h.Events, e) {
			missing = append(missing, e)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the Bitbucket API did not turn on event(s) %s", strings.Join(missing, ", "))
	}
	if secretSet != nil && !*secretSet {
		return errors.New("the Bitbucket API reports no secret set: its deliveries would not be signed")
	}
	return nil
}
