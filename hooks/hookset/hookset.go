// Package hookset reads the hooks the live sources declare (a source
// object's "hooks") and keeps their secrets: one is generated, and kept
// sealed in the source's sensitive part, for a source that has none.
package hookset

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

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
		doc, ok := o.Content["hooks"].(map[string]any)
		if !ok {
			continue
		}
		out = append(out, hooks.Declaration{
			Source:   o.Name,
			Provider: str(doc["provider"]),
			Selection: hooks.Selection{
				Repositories:  strs(doc["repositories"]),
				Organizations: strs(doc["organizations"]),
				Installation:  doc["installation"] == true,
				Projects:      strs(doc["projects"]),
				Groups:        strs(doc["groups"]),
			},
			Events:      strs(doc["events"]),
			ContentType: str(doc["content_type"]),
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

func str(v any) string { s, _ := v.(string); return s }

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
