// Package hooks keeps the webhooks that external services send to Reflex
// as code: each source declares where its hooks must exist (repositories,
// organizations, projects), and a plan compares that with what each
// provider holds, and an apply makes it so. Only hooks that point at this
// Reflex (their URL starts with its public URL's /hooks/) are ever
// changed or deleted: a foreign hook is never touched.
//
// A provider's API is reached through a Provider (hooks/github,
// hooks/gitlab, …); this package knows none of them.
package hooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Target is one place at a provider where hooks live: a repository, an
// organization, a project or a group.
type Target struct {
	// Provider names the provider, e.g. "github".
	Provider string `json:"provider"`
	// Kind is "repository", "organization", "project" or "group".
	Kind string `json:"kind"`
	// Name is the target's full name, e.g. "acme/api" or "acme".
	Name string `json:"name"`
}

// String returns "provider kind name", as plans print it.
func (t Target) String() string { return t.Provider + " " + t.Kind + " " + t.Name }

// Kinds of target.
const (
	KindRepository   = "repository"
	KindOrganization = "organization"
	KindProject      = "project"
	KindGroup        = "group"
)

// Content types a hook may post.
const (
	ContentJSON = "json"
	ContentForm = "form"
)

// Hook is a webhook as its provider holds it.
type Hook struct {
	// ID is the provider's id of the hook.
	ID string `json:"id"`
	// URL is where the hook posts.
	URL string `json:"url"`
	// Events are the provider's event names the hook sends, sorted.
	Events []string `json:"events"`
	// ContentType is ContentJSON or ContentForm.
	ContentType string `json:"content_type"`
	// Active is false for a hook the provider keeps but does not call.
	Active bool `json:"active"`
	// LastStatus is the outcome of its last delivery where the provider
	// reports one (e.g. "200 OK", "failed: timeout"); empty otherwise.
	LastStatus string `json:"last_status,omitempty"`
}

// Spec is a hook as a source declares it at a target.
type Spec struct {
	// URL is where the hook must post: the public URL's
	// /hooks/{source}.
	URL string
	// Events are the provider's event names, sorted.
	Events []string
	// ContentType is ContentJSON (the default) or ContentForm.
	ContentType string
	// Secret signs the deliveries; never shown.
	Secret []byte
}

// Provider lists and changes the hooks of one provider's targets. Its
// methods bound their own requests in time, and wait out the provider's
// rate limits (reporting the wait through the context's Progress).
type Provider interface {
	// Name names the provider, as Target.Provider does.
	Name() string
	// Expand resolves a selection into targets: names as they are,
	// globs over an organization's repositories, an App installation's
	// repositories.
	Expand(ctx context.Context, sel Selection) ([]Target, error)
	// List returns the hooks of a target, every page of them.
	List(ctx context.Context, t Target) ([]Hook, error)
	// Create creates a hook and returns it.
	Create(ctx context.Context, t Target, s Spec) (Hook, error)
	// Update makes hook id as s says, secret included.
	Update(ctx context.Context, t Target, id string, s Spec) error
	// Delete deletes hook id.
	Delete(ctx context.Context, t Target, id string) error
}

// Replacer is implemented by providers whose API cannot change a hook's
// secret (Gitea's and Forgejo's edits ignore it): a change of secret
// replaces the hook, the new one made before the old one goes, so no
// delivery falls between.
type Replacer interface {
	// Replace makes a hook as s says in place of hook id, and returns the
	// new hook.
	Replace(ctx context.Context, t Target, id string, s Spec) (Hook, error)
}

// Pinger is implemented by providers that can send a hook's test
// delivery on request.
type Pinger interface {
	// Ping asks the provider to send hook id's test delivery.
	Ping(ctx context.Context, t Target, id string) error
}

// Redeliverer is implemented by providers that list a hook's recent
// deliveries and deliver one again on request (GitHub).
type Redeliverer interface {
	// Deliveries returns hook id's deliveries since a time, newest
	// first, every page of them.
	Deliveries(ctx context.Context, t Target, id string, since time.Time) ([]Delivery, error)
	// Redeliver asks the provider to deliver one again.
	Redeliver(ctx context.Context, t Target, id string, d Delivery) error
}

// Delivery is one delivery a provider recorded for a hook.
type Delivery struct {
	// ID is the provider's id of the record, which Redeliver takes.
	ID string `json:"id"`
	// GUID is the delivery id Reflex sees (GitHub: X-GitHub-Delivery).
	GUID string `json:"guid"`
	// Event and Action are the provider's event type and action.
	Event  string `json:"event"`
	Action string `json:"action,omitempty"`
	// StatusCode is what Reflex answered; 0 when it could not be reached.
	StatusCode int `json:"status_code"`
	// Redelivery is true for a delivery made again on request.
	Redelivery bool `json:"redelivery,omitempty"`
	// At is when it was delivered.
	At time.Time `json:"at"`
}

// Failed reports whether the delivery did not reach Reflex, or was not
// accepted by it.
func (d Delivery) Failed() bool { return d.StatusCode < 200 || d.StatusCode >= 300 }

// Selection is where a source wants its hooks at one provider.
type Selection struct {
	// Repositories are "owner/name" names or globs over an owner's
	// repositories ("acme/web-*").
	Repositories []string `json:"repositories,omitempty"`
	// Organizations get organization-wide hooks.
	Organizations []string `json:"organizations,omitempty"`
	// Installation selects every repository the GitHub App installation
	// can see.
	Installation bool `json:"installation,omitempty"`
	// Projects and Groups are GitLab's (projects' full paths, groups').
	Projects []string `json:"projects,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

// ErrLimit wraps a provider's refusal to hold more hooks at a target
// (GitHub: 20 per event per repository).
var ErrLimit = errors.New("the provider holds no more hooks here")

// IsGlob reports whether a name is a pattern rather than a name.
func IsGlob(name string) bool { return strings.ContainsAny(name, "*?[") }

// progressKey is the context key of a Progress.
type progressKey struct{}

// Progress receives a line about long work: a page listed, a rate limit
// waited out.
type Progress func(format string, args ...any)

// WithProgress returns ctx carrying p.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// Report sends a line to the context's Progress, if it has one.
func Report(ctx context.Context, format string, args ...any) {
	if p, ok := ctx.Value(progressKey{}).(Progress); ok && p != nil {
		p(format, args...)
	}
}

// WaitFor waits d (a rate limit's reset), reporting it, or until ctx
// ends. It bounds d to MaxWait: a longer wait is an error naming it.
func WaitFor(ctx context.Context, d time.Duration, why string) error {
	if d > MaxWait {
		return fmt.Errorf("%s: the provider asks to wait %s, more than %s", why, d.Round(time.Second), MaxWait)
	}
	if d <= 0 {
		return nil
	}
	Report(ctx, "%s: waiting %s", why, d.Round(time.Second))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// MaxWait is the longest rate-limit wait a provider waits out.
const MaxWait = 15 * time.Minute
