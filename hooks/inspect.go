package hooks

import (
	"context"
	"fmt"
)

// Listed is one hook of this Reflex at a declared target.
type Listed struct {
	Target Target `json:"target"`
	Source string `json:"source"`
	Hook   Hook   `json:"hook"`
}

// Hooks lists this Reflex's hooks at the declared targets, with the
// status of their last delivery where the provider reports it. A target
// whose hooks cannot be listed is an error naming it.
func (r *Reconciler) Hooks(ctx context.Context, decls []Declaration) ([]Listed, error) {
	wants, err := r.wants(ctx, decls)
	if err != nil {
		return nil, err
	}
	var out []Listed
	for _, w := range wants {
		hooks, err := r.Providers[w.target.Provider].List(ctx, w.target)
		if err != nil {
			return nil, fmt.Errorf("%s: list hooks: %w", w.target, err)
		}
		for _, h := range scrubbed(hooks, w) {
			if source, ok := r.sourceOf(h.URL); ok {
				out = append(out, Listed{Target: w.target, Source: source, Hook: h})
			}
		}
	}
	return out, nil
}

// Pinged is the outcome of asking for one hook's test delivery.
type Pinged struct {
	Target Target `json:"target"`
	Source string `json:"source"`
	HookID string `json:"hook_id"`
	// Error says why it was not asked for; empty when it was.
	Error string `json:"error,omitempty"`
}

// Ping asks each provider that can for a test delivery of every hook of
// this Reflex at the declared targets.
func (r *Reconciler) Ping(ctx context.Context, decls []Declaration) ([]Pinged, error) {
	listed, err := r.Hooks(ctx, decls)
	if err != nil {
		return nil, err
	}
	out := make([]Pinged, 0, len(listed))
	for _, l := range listed {
		p := Pinged{Target: l.Target, Source: l.Source, HookID: l.Hook.ID}
		if pinger, ok := r.Providers[l.Target.Provider].(Pinger); !ok {
			p.Error = "the provider's API has no test delivery"
		} else if err := pinger.Ping(ctx, l.Target, l.Hook.ID); err != nil {
			p.Error = err.Error()
		}
		out = append(out, p)
	}
	return out, nil
}
