// Package plan compares a declared installation (the configuration file's
// sources, policies, scopes, groups and API keys) with the live state, and
// applies the difference in one atomic write.
package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors/registry"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/triggers"
)

// ManagedTypes are the object types a configuration file declares, in the
// order a plan lists them.
var ManagedTypes = []string{state.TypeSource, state.TypePolicy, state.TypeScope, state.TypeGroup, state.TypeAPIKey, state.TypeTrigger}

// ErrInvalid wraps a declaration that cannot be applied; its message lists
// every problem.
var ErrInvalid = errors.New("invalid declaration")

// Change is one difference between the declaration and the live state.
type Change struct {
	// Op is "create", "update" or "delete".
	Op   string `json:"op"`
	Type string `json:"type"`
	Name string `json:"name"`
	// Revision is the live revision an update or delete applies to.
	Revision int64 `json:"revision,omitempty"`
	// Fields lists what changes, field by field.
	Fields []FieldChange `json:"fields,omitempty"`

	object  *state.Object // the declared object; the live one for a delete
	current *state.Object // the live object, for an update or delete
}

// Desired returns what the object becomes (nil for a delete).
func (c Change) Desired() *state.Object {
	if c.Op == "delete" {
		return nil
	}
	return c.object
}

// Current returns the live object the change applies to (nil for a
// create).
func (c Change) Current() *state.Object { return c.current }

// FieldChange is one field's old and new value (JSON). A sensitive part is
// never shown: only that it changes.
type FieldChange struct {
	Field string          `json:"field"`
	From  json.RawMessage `json:"from,omitempty"`
	To    json.RawMessage `json:"to,omitempty"`
}

// Plan is the set of changes that makes the live state match a
// declaration.
type Plan struct {
	Changes []Change `json:"changes"`
	// Unmanaged lists live objects the declaration does not mention,
	// "type/name"; --prune would delete them.
	Unmanaged []string `json:"unmanaged,omitempty"`
}

// Literals says where a declaration's literal source secrets go.
type Literals int

// Where literal source secrets go.
const (
	// Sealed puts them in the source's sensitive part, encrypted: for a
	// declaration sent over the API.
	Sealed Literals = iota
	// Local leaves them with the server whose own configuration file
	// declares them, and records a "config:<n>" reference (the n-th
	// secret of that source in the file) that such a server resolves.
	Local
)

// ConfirmPasswordRef is the reference a source's literal confirmation
// password gets when it stays in the server's configuration file.
const ConfirmPasswordRef = "config:confirm_password"

// Desired turns a configuration into the objects it declares. References
// (env:, file:) stay visible, resolved by each server; literal source
// secrets go where lit says.
func Desired(cfg *config.Config, lit Literals) []*state.Object {
	var out []*state.Object
	for _, s := range cfg.Sources {
		content := map[string]any{"name": s.Name, "connector": s.Connector}
		if s.MaxBody != "" {
			content["max_body"] = s.MaxBody
		}
		if s.RateLimit != nil {
			content["rate_limit"] = jsonClean(map[string]any{"per_second": s.RateLimit.PerSecond, "burst": s.RateLimit.Burst})
		}
		if len(s.Settings) > 0 {
			content["settings"] = jsonClean(s.Settings)
		}
		if s.Hooks != nil {
			content["hooks"] = hooksContent(s.Hooks)
		}
		var refs, literals []any
		for i, sec := range s.Secrets {
			switch {
			case strings.HasPrefix(sec, "env:") || strings.HasPrefix(sec, "file:"):
				refs = append(refs, sec)
			case lit == Local:
				refs = append(refs, fmt.Sprintf("config:%d", i))
			default:
				literals = append(literals, sec)
			}
		}
		if refs != nil {
			content["secrets"] = refs
		}
		sensitive := map[string]any{}
		if literals != nil {
			sensitive["secrets"] = literals
		}
		switch pw := s.ConfirmPassword; {
		case pw == "":
		case strings.HasPrefix(pw, "env:") || strings.HasPrefix(pw, "file:"):
			content["confirm_password"] = pw
		case lit == Local:
			content["confirm_password"] = ConfirmPasswordRef
		default:
			sensitive["confirm_password"] = pw
		}
		o := state.NewObject(state.TypeSource, content)
		if len(sensitive) > 0 {
			o.Sensitive = sensitive
		}
		out = append(out, o)
	}
	for typ, list := range map[string][]map[string]any{
		state.TypePolicy: cfg.Policies, state.TypeScope: cfg.Scopes, state.TypeGroup: cfg.Groups, state.TypeAPIKey: cfg.APIKeys,
		state.TypeTrigger: cfg.Triggers,
	} {
		for _, doc := range list {
			out = append(out, state.NewObject(typ, jsonClean(doc)))
		}
	}
	slices.SortFunc(out, func(a, b *state.Object) int {
		if c := slices.Index(ManagedTypes, a.Type) - slices.Index(ManagedTypes, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// jsonClean gives a YAML-decoded document the shape JSON decoding gives
// (float64 numbers, []any lists, map[string]any objects).
func jsonClean(doc map[string]any) map[string]any {
	raw, err := json.Marshal(doc)
	if err != nil {
		return doc
	}
	var out map[string]any
	if json.Unmarshal(raw, &out) != nil {
		return doc
	}
	return out
}

// Validate checks every declared object as a write would (schema and
// expressions), that sources name known connectors, that no object is
// declared twice, and that every policy a scope names will exist. live
// holds the live objects by type; nil checks the declaration alone.
func Validate(desired []*state.Object, live map[string][]*state.Object, prune bool) error {
	var problems []string
	seen := map[string]bool{}
	policiesAfter := map[string]bool{}
	for _, o := range desired {
		key := o.Type + "/" + o.Name
		if seen[key] {
			problems = append(problems, key+": declared twice")
		}
		seen[key] = true
		content := o.Content
		if o.Type == state.TypeAPIKey {
			if _, ok := content["secrets"]; ok {
				problems = append(problems, key+": secrets: an API key is declared without its secrets")
			}
		}
		if err := state.Validate(o.Type, content); err != nil {
			problems = append(problems, key+": "+strings.TrimPrefix(err.Error(), state.ErrInvalid.Error()+": "))
			continue
		}
		if err := errors.Join(policies.Check(o), triggers.Check(o)); err != nil {
			problems = append(problems, key+": "+strings.TrimPrefix(err.Error(), state.ErrInvalid.Error()+": "))
		}
		if o.Type == state.TypeSource {
			settings, _ := content["settings"].(map[string]any)
			if _, err := registry.Configure(fmt.Sprint(content["connector"]), settings); err != nil {
				problems = append(problems, key+": "+err.Error())
			}
		}
		if o.Type == state.TypePolicy {
			policiesAfter[o.Name] = true
		}
	}
	if !prune {
		for _, p := range live[state.TypePolicy] {
			policiesAfter[p.Name] = true
		}
	}
	for _, o := range desired {
		if o.Type != state.TypeScope {
			continue
		}
		list, _ := o.Content["policies"].([]any)
		for _, p := range list {
			if name, _ := p.(string); !policiesAfter[name] {
				where := "neither declared nor live"
				if live == nil {
					where = "not declared in the file"
				}
				problems = append(problems, fmt.Sprintf("scope/%s: policies: %q is %s", o.Name, name, where))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// Compute compares the declaration with the live state. With prune, live
// objects of the managed types that the declaration does not mention are
// deleted (never the master API key).
func Compute(ctx context.Context, store *state.Store, desired []*state.Object, prune bool) (*Plan, error) {
	live := map[string][]*state.Object{}
	for _, typ := range ManagedTypes {
		objs, err := store.Objects(ctx, typ, "")
		if err != nil {
			return nil, err
		}
		live[typ] = objs
	}
	if err := Validate(desired, live, prune); err != nil {
		return nil, err
	}
	p := &Plan{Changes: []Change{}}
	declared := map[string]bool{}
	for _, d := range desired {
		declared[d.Type+"/"+d.Name] = true
		i := slices.IndexFunc(live[d.Type], func(o *state.Object) bool { return o.Name == d.Name })
		if i < 0 {
			p.Changes = append(p.Changes, Change{Op: "create", Type: d.Type, Name: d.Name, Fields: diff(store, &state.Object{Type: d.Type, Content: map[string]any{}}, d), object: d})
			continue
		}
		cur := live[d.Type][i]
		if fields := diff(store, cur, d); len(fields) > 0 {
			p.Changes = append(p.Changes, Change{Op: "update", Type: d.Type, Name: d.Name, Revision: cur.Version, Fields: fields, object: d, current: cur})
		}
	}
	for _, typ := range ManagedTypes {
		for _, o := range live[typ] {
			if declared[typ+"/"+o.Name] || (typ == state.TypeAPIKey && o.Name == "master") {
				continue
			}
			if prune {
				p.Changes = append(p.Changes, Change{Op: "delete", Type: typ, Name: o.Name, Revision: o.Version, object: o, current: o})
			} else {
				p.Unmanaged = append(p.Unmanaged, typ+"/"+o.Name)
			}
		}
	}
	return p, nil
}

// diff lists the fields that differ between the live object and the
// declared one. An API key's secrets are Reflex's, not the file's.
func diff(store *state.Store, cur, want *state.Object) []FieldChange {
	var out []FieldChange
	keys := map[string]bool{}
	for k := range cur.Content {
		keys[k] = true
	}
	for k := range want.Content {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		if k != "name" && !(want.Type == state.TypeAPIKey && k == "secrets") {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		from, _ := marshal(cur.Content[k])
		to, _ := marshal(want.Content[k])
		if !bytes.Equal(from, to) {
			out = append(out, FieldChange{Field: k, From: from, To: to})
		}
	}
	if sensitiveDiffers(store, cur, want) {
		out = append(out, FieldChange{Field: "sensitive"})
	}
	return out
}

func sensitiveDiffers(store *state.Store, cur, want *state.Object) bool {
	switch {
	case !cur.HasSensitive() && want.Sensitive == nil:
		return false
	case !cur.HasSensitive() || want.Sensitive == nil:
		return true
	}
	if err := store.Reveal(cur); err != nil {
		return true
	}
	a, _ := json.Marshal(cur.Sensitive)
	b, _ := json.Marshal(want.Sensitive)
	return !bytes.Equal(a, b)
}

func marshal(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// hooksContent is a source's hooks declaration as its object holds it:
// its JSON form, with the fields that are set.
func hooksContent(h *config.SourceHooksSpec) map[string]any {
	raw, err := json.Marshal(h)
	if err != nil {
		return nil
	}
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil {
		return nil
	}
	return doc
}
