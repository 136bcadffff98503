package gitea

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/reflexops/reflex/hooks"
)

// Gitea's event names, as its API takes them when a hook is created or
// edited. "issues" turns on every issue event (issues_only the issue
// itself, issue_assign, issue_label, issue_milestone, issue_comment);
// "pull_request" every pull request event (pull_request_only,
// pull_request_assign, _label, _milestone, _comment, _review, _sync,
// _review_request).
var (
	// issueEvents are the events "issues" turns on, "issues" aside.
	issueEvents = []string{"issue_assign", "issue_label", "issue_milestone", "issue_comment"}
	// pullEvents are the events "pull_request" turns on, aside from
	// "pull_request" itself.
	pullEvents = []string{
		"pull_request_assign", "pull_request_label", "pull_request_milestone",
		"pull_request_comment", "pull_request_review", "pull_request_sync",
		"pull_request_review_request",
	}
	// pullCore are the pull request events every Gitea since 1.12 lists
	// for "pull_request" (pull_request_review_request came later).
	pullCore = []string{
		"pull_request_assign", "pull_request_label", "pull_request_milestone",
		"pull_request_comment", "pull_request_review", "pull_request_sync",
	}
	// reviewEvents are the names older Gitea and Forgejo list for
	// pull_request_review.
	reviewEvents = []string{"pull_request_review_approved", "pull_request_review_rejected", "pull_request_review_comment"}
)

// normalizeEvents maps the events Gitea lists for a hook back to the
// names it was created with, sorted:
//   - the three review events of older versions are pull_request_review;
//     a lone pull_request_review_comment beside pull_request_comment is
//     that one flag listed twice;
//   - "issues" with every issue event is "issues"; alone it is
//     "issues_only";
//   - "pull_request" with every pull request event is "pull_request";
//     alone it is "pull_request_only".
func normalizeEvents(listed []string) []string {
	set := map[string]bool{}
	for _, e := range listed {
		set[e] = true
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if !set[n] {
				return false
			}
		}
		return true
	}
	drop := func(names ...string) {
		for _, n := range names {
			delete(set, n)
		}
	}
	switch {
	case has(reviewEvents...):
		drop(reviewEvents...)
		set["pull_request_review"] = true
	case has("pull_request_review_comment", "pull_request_comment"):
		drop("pull_request_review_comment")
	}
	if set["issues"] {
		if has(issueEvents...) {
			drop(issueEvents...)
		} else {
			drop("issues")
			set["issues_only"] = true
		}
	}
	if set["pull_request"] {
		if has(pullCore...) {
			drop(pullEvents...)
		} else {
			drop("pull_request")
			set["pull_request_only"] = true
		}
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}

// checkEvents checks declared events: at least one, names, and none that
// "issues" or "pull_request" beside it already holds (Gitea would list
// them as one, and the plan would never settle).
func checkEvents(events []string) error {
	if len(events) == 0 {
		return errors.New("no events are declared: name at least one, e.g. push")
	}
	for _, e := range events {
		if e == "" || strings.ContainsFunc(e, func(r rune) bool { return (r < 'a' || r > 'z') && r != '_' }) {
			return fmt.Errorf("event %q is not a Gitea event name such as push or pull_request", e)
		}
	}
	for group, members := range map[string][]string{
		"issues":       append([]string{"issues_only"}, issueEvents...),
		"pull_request": append([]string{"pull_request_only"}, pullEvents...),
	} {
		if !slices.Contains(events, group) {
			continue
		}
		for _, m := range members {
			if slices.Contains(events, m) {
				return fmt.Errorf("event %q is part of %q: declare one of them", m, group)
			}
		}
	}
	return nil
}

// applied checks that Gitea turned on every event s declares: it ignores
// names it does not know.
func applied(h hooks.Hook, s hooks.Spec) error {
	var missing []string
	for _, e := range s.Events {
		if !slices.Contains(h.Events, e) {
			missing = append(missing, e)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the Gitea API did not turn on event(s) %s: this version does not know them, or (Forgejo) cannot change them on an existing hook", strings.Join(missing, ", "))
	}
	return nil
}

// sortedEvents returns a sorted copy of events, without repeats.
func sortedEvents(events []string) []string {
	out := slices.Clone(events)
	slices.Sort(out)
	return slices.Compact(out)
}
