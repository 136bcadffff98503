// Package hookset reads the hooks the live sources declare (a source
// object's "hooks") and keeps their secrets: one is generated, and kept
// sealed in the source's sensitive part, for a source that has none.
package hookset

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/sources"
	"github.com/reflexops/reflex/state"
)

// Set is the live sources' declared hooks.
type Set struct {
	// Store holds the source objects.
	Store *state.Store
	// Sources resolves their secrets.
	Sources *sources.Set
}

// Declarations returns every source's declared hooks, by source name.
func (s *Set) Declarations(ctx context.Context, only ...string) ([]hooks.Declaration, error) {
	objs, err := s.Store.Objects(ctx, state.TypeSource, "")
	if err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	var out []hooks.Declaration
	for _, o := range objs {
		if len(only) > 0 && !slices.Contains(only, o.Name) {
			continue
		}
		doc, ok := o.Content["hooks"]
		if !ok {
			continue
		}
		// The object holds the declaration's JSON form (the schema
		// checked it on the way in).
		var spec config.SourceHooksSpec
		raw, err := json.Marshal(doc)
		if err == nil {
			err = json.Unmarshal(raw, &spec)
		}
		if err != nil {
			return nil, fmt.Errorf("source %q: its hooks: %w", o.Name, err)
		}
		out = append(out, hooks.Declaration{
			Source:   o.Name,
			Provider: spec.Provider,
			Selection: hooks.Selection{
				Repositories:  spec.Repositories,
				Organizations: spec.Organizations,
				Installation:  spec.Installation,
				Projects:      spec.Projects,
				Groups:        spec.Groups,
			},
			Events:      spec.Events,
			ContentType: spec.ContentType,
		})
	}
	return out, nil
}

// ErrNoSecret is what Secret says of a source without a secret when it
// may not make one (a plan): the apply will.
var ErrNoSecret = errors.New("the source has no secret yet; apply generates one")

// Secret returns the secret a source's hooks are given: its newest (the
// last listed). A source without one gets one when generate is true,
// stored sealed in its sensitive part; otherwise it is ErrNoSecret.
func (s *Set) Secret(ctx context.Context, source string, generate bool) ([]byte, error) {
	src, err := s.Sources.Lookup(source)
	if err == nil && len(src.Secrets) > 0 {
		return src.Secrets[len(src.Secrets)-1], nil
	}
	if errors.Is(err, sources.ErrUnknown) {
		return nil, err
	}
	if !generate {
		return nil, ErrNoSecret
	}
	secret, err := NewSecret()
	if err != nil {
		return nil, err
	}
	_, _, err = s.Store.Update(ctx, state.TypeSource, source, 0, "hooks", func(cur *state.Object) (*state.Object, error) {
		next := cur.Copy()
		if err := s.Store.Reveal(next); err != nil {
			return nil, fmt.Errorf("open its sealed secrets: %w", err)
		}
		sens, _ := next.Sensitive.(map[string]any)
		if sens == nil {
			sens = map[string]any{}
		}
		if list, _ := sens["secrets"].([]any); len(list) > 0 {
			return nil, state.ErrNoChange // another apply made one first
		}
		sens["secrets"] = []any{string(secret)}
		next.Sensitive = sens
		return next, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store the generated secret of source %q (sensitive parts need encryption keys in the configuration): %w", source, err)
	}
	if err := s.Sources.Reload(ctx); err != nil {
		return nil, err
	}
	src, err = s.Sources.Lookup(source)
	if err != nil || len(src.Secrets) == 0 {
		return nil, fmt.Errorf("source %q after its secret was generated: %v", source, err)
	}
	return src.Secrets[len(src.Secrets)-1], nil
}

// NewSecret returns a new hook secret: 32 random bytes in hex.
func NewSecret() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return []byte(hex.EncodeToString(b)), nil
}

// Rotation is what a rotation did: the new secret's fingerprint, and
// when the old ones stop verifying.
type Rotation struct {
	Source string `json:"source"`
	// Fingerprint identifies the new secret (never the secret itself).
	Fingerprint string `json:"fingerprint"`
	// RetireAt is when the secrets it replaced are removed.
	RetireAt time.Time `json:"retire_at"`
	// Retiring counts the secrets it replaced.
	Retiring int `json:"retiring"`
}

// Rotate gives a source a new secret, kept sealed beside the old ones,
// which are marked to be removed after grace: until then deliveries
// signed with either verify, so none is refused while the providers'
// hooks are updated (the caller applies them next). Only secrets kept in
// live state rotate: a source whose secrets are references (env:, file:)
// rotates them where they live.
func (s *Set) Rotate(ctx context.Context, source string, grace time.Duration, now time.Time) (*Rotation, error) {
	secret, err := NewSecret()
	if err != nil {
		return nil, err
	}
	rot := &Rotation{Source: source, Fingerprint: hooks.Fingerprint(secret), RetireAt: now.Add(grace).UTC()}
	_, _, err = s.Store.Update(ctx, state.TypeSource, source, 0, "hooks rotate", func(cur *state.Object) (*state.Object, error) {
		if refs := cur.Strings("secrets"); len(refs) > 0 {
			return nil, fmt.Errorf("source %q's secrets are references (%d); rotate them where they live", source, len(refs))
		}
		next := cur.Copy()
		if err := s.Store.Reveal(next); err != nil {
			return nil, fmt.Errorf("open its sealed secrets: %w", err)
		}
		sens, _ := next.Sensitive.(map[string]any)
		if sens == nil {
			sens = map[string]any{}
		}
		old, _ := sens["secrets"].([]any)
		retire, _ := sens["retire"].(map[string]any)
		if retire == nil {
			retire = map[string]any{}
		}
		rot.Retiring = 0
		for _, o := range old {
			if v, ok := o.(string); ok {
				fp := hooks.Fingerprint([]byte(v))
				if _, already := retire[fp]; !already {
					retire[fp] = rot.RetireAt.Format(time.RFC3339)
					rot.Retiring++
				}
			}
		}
		sens["secrets"] = append(slices.Clone(old), string(secret))
		sens["retire"] = retire
		next.Sensitive = sens
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.Sources.Reload(ctx); err != nil {
		return nil, err
	}
	return rot, nil
}

// RetireDue removes, from every source, the secrets whose grace period
// has ended, and returns how many it removed. It never removes a
// source's last secret.
func (s *Set) RetireDue(ctx context.Context, now time.Time) (int, error) {
	objs, err := s.Store.Objects(ctx, state.TypeSource, "")
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, o := range objs {
		if !o.HasSensitive() {
			continue
		}
		n := 0
		_, changed, err := s.Store.Update(ctx, state.TypeSource, o.Name, 0, "hooks retire", func(cur *state.Object) (*state.Object, error) {
			next := cur.Copy()
			if err := s.Store.Reveal(next); err != nil {
				return nil, err
			}
			sens, _ := next.Sensitive.(map[string]any)
			retire, _ := sens["retire"].(map[string]any)
			if len(retire) == 0 {
				return nil, state.ErrNoChange
			}
			list, _ := sens["secrets"].([]any)
			var keep []any
			n = 0
			for _, v := range list {
				str, _ := v.(string)
				fp := hooks.Fingerprint([]byte(str))
				at, _ := retire[fp].(string)
				if t, err := time.Parse(time.RFC3339, at); err == nil && !now.Before(t) {
					delete(retire, fp)
					n++
					continue
				}
				keep = append(keep, v)
			}
			if n == 0 || len(keep) == 0 {
				return nil, state.ErrNoChange
			}
			sens["secrets"], sens["retire"] = keep, retire
			next.Sensitive = sens
			return next, nil
		})
		if err != nil {
			return removed, fmt.Errorf("source %q: %w", o.Name, err)
		}
		if changed {
			removed += n
			if err := s.Sources.Reload(ctx); err != nil {
				return removed, err
			}
		}
	}
	return removed, nil
}

// Accepted reports whether Reflex holds a source's delivery id: an event
// accepted, or refused by policy, under it.
func (s *Set) Accepted(ctx context.Context, source, id string) (bool, error) {
	_, err := s.Store.Event(ctx, id, source)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, state.ErrNotFound):
		return false, nil
	}
	return false, err
}
