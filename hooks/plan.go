package hooks

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Declaration is one source's declared hooks at one provider.
type Declaration struct {
	// Source names the Reflex source the hooks post to.
	Source string `json:"source"`
	// Provider names the provider whose API holds them.
	Provider string `json:"provider"`
	// Selection says where.
	Selection Selection `json:"selection"`
	// Events are the provider's event names.
	Events []string `json:"events"`
	// ContentType is ContentJSON (the default) or ContentForm.
	ContentType string `json:"content_type,omitempty"`
}

// Change is one difference between the declared hooks and a provider's.
type Change struct {
	// Op is "create", "update" or "delete".
	Op string `json:"op"`
	// Target is where the hook lives.
	Target Target `json:"target"`
	// Source is the source the hook posts to.
	Source string `json:"source"`
	// HookID is the provider's id of the hook an update or delete
	// changes.
	HookID string `json:"hook_id,omitempty"`
	// Fields lists what an update changes: url, events, content_type,
	// active, secret. The secret itself is never shown.
	Fields []string `json:"fields,omitempty"`
	// Why says why a delete deletes: "no longer declared" or "a
	// duplicate".
	Why string `json:"why,omitempty"`
	// Current is the hook as the provider holds it (update, delete).
	Current *Hook `json:"current,omitempty"`
	// Desired is the hook as declared (create, update); its secret is
	// not shown.
	Desired *DesiredHook `json:"desired,omitempty"`

	spec Spec
}

// DesiredHook is what a create or update makes a hook, as plans show it.
type DesiredHook struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	ContentType string   `json:"content_type"`
}

// Plan is what an apply would change, target by target.
type Plan struct {
	// Changes are the changes, by target, then source.
	Changes []Change `json:"changes"`
	// Targets counts the targets compared.
	Targets int `json:"targets"`
	// Unchanged counts the declared hooks that are as declared.
	Unchanged int `json:"unchanged"`
}

// Reconciler compares and applies declared hooks.
type Reconciler struct {
	// Providers are the providers hooks may be declared at, by name.
	Providers map[string]Provider
	// PublicURL is the base URL providers reach Reflex at, e.g.
	// "https://reflex.example.com": a hook is this Reflex's when its URL
	// starts with PublicURL + "/hooks/".
	PublicURL string
	// Secret returns the secret a source's hooks are signed with.
	Secret func(ctx context.Context, source string) ([]byte, error)
	// Ledger remembers which secret each hook was given, and serializes
	// the applies of one target. Required.
	Ledger Ledger
}

// want is what the declarations want at one target: a spec per source.
type want struct {
	target Target
	specs  map[string]Spec
}

// Plan compares the declarations with what each provider holds.
func (r *Reconciler) Plan(ctx context.Context, decls []Declaration) (*Plan, error) {
	wants, err := r.wants(ctx, decls)
	if err != nil {
		return nil, err
	}
	p := &Plan{Targets: len(wants)}
	for _, w := range wants {
		Report(ctx, "%s: listing hooks", w.target)
		changes, unchanged, err := r.compare(ctx, w)
		if err != nil {
			return nil, err
		}
		p.Changes = append(p.Changes, changes...)
		p.Unchanged += unchanged
	}
	return p, nil
}

// wants expands the declarations into their targets, sorted.
func (r *Reconciler) wants(ctx context.Context, decls []Declaration) ([]*want, error) {
	if err := checkPublicURL(r.PublicURL); err != nil {
		return nil, err
	}
	byTarget := map[Target]*want{}
	for _, d := range decls {
		p, ok := r.Providers[d.Provider]
		if !ok {
			return nil, fmt.Errorf("source %q: hooks at %s: no %s API is configured (hooks.%s in the server's configuration)", d.Source, d.Provider, d.Provider, d.Provider)
		}
		secret, err := r.Secret(ctx, d.Source)
		if err != nil {
			return nil, fmt.Errorf("source %q: its hooks' secret: %w", d.Source, err)
		}
		spec := Spec{URL: r.hookURL(d.Source), Events: sortedEvents(d.Events), ContentType: cmp.Or(d.ContentType, ContentJSON), Secret: secret}
		targets, err := p.Expand(ctx, d.Selection)
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", d.Source, err)
		}
		for _, t := range targets {
			w := byTarget[t]
			if w == nil {
				w = &want{target: t, specs: map[string]Spec{}}
				byTarget[t] = w
			}
			w.specs[d.Source] = spec
		}
	}
	// Where Reflex made hooks that no declaration reaches any more, its
	// hooks are compared too: with nothing wanted, they are deleted.
	made, err := r.Ledger.Targets(ctx)
	if err != nil {
		return nil, fmt.Errorf("the hooks Reflex made: %w", err)
	}
	for _, t := range made {
		if _, ok := r.Providers[t.Provider]; ok && byTarget[t] == nil {
			byTarget[t] = &want{target: t, specs: map[string]Spec{}}
		}
	}
	out := make([]*want, 0, len(byTarget))
	for _, w := range byTarget {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b *want) int { return strings.Compare(a.target.String(), b.target.String()) })
	return out, nil
}

// compare lists a target's hooks and returns the changes that make them
// as wanted, and how many are as wanted already.
func (r *Reconciler) compare(ctx context.Context, w *want) ([]Change, int, error) {
	p := r.Providers[w.target.Provider]
	hooks, err := p.List(ctx, w.target)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: list hooks: %w", w.target, err)
	}
	ours := map[string][]Hook{}
	for _, h := range scrubbed(hooks, w) {
		if source, ok := r.sourceOf(h.URL); ok {
			ours[source] = append(ours[source], h)
		}
	}
	var changes []Change
	unchanged := 0
	for _, source := range slices.Sorted(maps.Keys(w.specs)) {
		spec := w.specs[source]
		have := ours[source]
		desired := &DesiredHook{URL: spec.URL, Events: spec.Events, ContentType: spec.ContentType}
		if len(have) == 0 {
			changes = append(changes, Change{Op: "create", Target: w.target, Source: source, Desired: desired, spec: spec})
			continue
		}
		slices.SortFunc(have, func(a, b Hook) int { return cmp.Compare(a.ID, b.ID) })
		keep := have[0]
		fields, err := r.differs(ctx, w.target, keep, spec)
		if err != nil {
			return nil, 0, err
		}
		if len(fields) > 0 {
			changes = append(changes, Change{Op: "update", Target: w.target, Source: source, HookID: keep.ID, Fields: fields, Current: &keep, Desired: desired, spec: spec})
		} else {
			unchanged++
		}
		for _, dup := range have[1:] {
			changes = append(changes, Change{Op: "delete", Target: w.target, Source: source, HookID: dup.ID, Why: "a duplicate", Current: &dup})
		}
	}
	for _, source := range slices.Sorted(maps.Keys(ours)) {
		if _, wanted := w.specs[source]; wanted {
			continue
		}
		for _, h := range ours[source] {
			changes = append(changes, Change{Op: "delete", Target: w.target, Source: source, HookID: h.ID, Why: "no longer declared", Current: &h})
		}
	}
	return changes, unchanged, nil
}

// differs returns the fields in which a hook differs from its spec.
func (r *Reconciler) differs(ctx context.Context, t Target, h Hook, s Spec) ([]string, error) {
	var fields []string
	if h.URL != s.URL {
		fields = append(fields, "url")
	}
	if !slices.Equal(sortedEvents(h.Events), s.Events) {
		fields = append(fields, "events")
	}
	if h.ContentType != s.ContentType {
		fields = append(fields, "content_type")
	}
	if !h.Active {
		fields = append(fields, "active")
	}
	fp, err := r.Ledger.Fingerprint(ctx, t, h.ID)
	if err != nil {
		return nil, fmt.Errorf("%s: the fingerprint of hook %s's secret: %w", t, h.ID, err)
	}
	if fp != Fingerprint(s.Secret) {
		fields = append(fields, "secret")
	}
	return fields, nil
}

// hookURL returns the URL of a source's hooks.
func (r *Reconciler) hookURL(source string) string {
	return strings.TrimRight(r.PublicURL, "/") + "/hooks/" + url.PathEscape(source)
}

// sourceOf returns the source a hook's URL posts to, when it is this
// Reflex's.
func (r *Reconciler) sourceOf(hookURL string) (string, bool) {
	rest, ok := strings.CutPrefix(hookURL, strings.TrimRight(r.PublicURL, "/")+"/hooks/")
	if !ok || rest == "" {
		return "", false
	}
	source, _, _ := strings.Cut(rest, "/")
	source, _, _ = strings.Cut(source, "?")
	if s, err := url.PathUnescape(source); err == nil {
		source = s
	}
	return source, source != ""
}

// Fingerprint is what the ledger keeps of a secret: enough to tell that
// it changed, nothing to recover it by.
func Fingerprint(secret []byte) string {
	sum := sha256.Sum256(append([]byte("reflex hook secret\x00"), secret...))
	return hex.EncodeToString(sum[:12])
}

// checkPublicURL checks the public URL hooks are given.
func checkPublicURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("hooks.public_url is not set: the base URL providers reach Reflex at, e.g. https://reflex.example.com")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("hooks.public_url %q is not an http(s) base URL", raw)
	}
	return nil
}

// sortedEvents returns a sorted copy of events, without repeats.
func sortedEvents(events []string) []string {
	out := slices.Clone(events)
	slices.Sort(out)
	return slices.Compact(out)
}

// minScrubbed is the shortest secret scrubbed from URLs: generated ones
// are 64 characters.
const minScrubbed = 8

// scrubbed returns hooks with any secret wanted at their target taken out
// of their URLs (raw or escaped), so that a provider that puts the secret
// in the URL (Quay's token) never has it shown in a plan or a list.
func scrubbed(hooks []Hook, w *want) []Hook {
	out := make([]Hook, len(hooks))
	for i, h := range hooks {
		// Only what follows /hooks/ can hold one: the host and the
		// public URL's path are no secret's, and a short secret (a
		// test's) must not eat them.
		if at := strings.Index(h.URL, "/hooks/"); at >= 0 {
			head, rest := h.URL[:at+len("/hooks/")], h.URL[at+len("/hooks/"):]
			for _, spec := range w.specs {
				if len(spec.Secret) < minScrubbed {
					continue
				}
				for _, s := range []string{string(spec.Secret), url.PathEscape(string(spec.Secret)), url.QueryEscape(string(spec.Secret))} {
					rest = strings.ReplaceAll(rest, s, "[secret]")
				}
			}
			h.URL = head + rest
		}
		out[i] = h
	}
	return out
}
