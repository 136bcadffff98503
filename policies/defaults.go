package policies

import (
	"context"
	"errors"

	"github.com/reflexops/reflex/state"
)

// DefaultPolicy names the built-in policy and scope that let every source
// receive its verified webhooks. They are ordinary objects: visible, and
// removable (a removed default is not created again).
const DefaultPolicy = "receive-verified"

// EnsureDefaults creates the built-in default policy and its scope the
// first time Reflex starts on a store, unless scopes exist already (the
// configuration declared its own): a default that allows every verified
// webhook would otherwise widen them.
func EnsureDefaults(ctx context.Context, store *state.Store) error {
	first, err := store.Once(ctx, "default-policy")
	if err != nil || !first {
		return err
	}
	scopes, err := store.Objects(ctx, state.TypeScope, "")
	if err != nil {
		return errors.Join(err, store.Forget(ctx, "default-policy"))
	}
	if len(scopes) > 0 {
		return nil
	}
	pol := state.NewObject(state.TypePolicy, map[string]any{
		"name":        DefaultPolicy,
		"description": "Built in: accept every verified webhook of every source. Delete this policy and its scope to decide with your own.",
		"expression":  "request.verified",
	})
	scope := state.NewObject(state.TypeScope, map[string]any{
		"name":        DefaultPolicy,
		"description": "Built in: applies " + DefaultPolicy + " to every received event.",
		"actions":     []any{string(ActionReceive)},
		"types":       []any{TypeEvent},
		"mode":        "global",
		"policies":    []any{DefaultPolicy},
	})
	err = store.Transact(ctx, []state.Op{{Kind: "create", Object: pol}, {Kind: "create", Object: scope}}, "reflex")
	if err == nil || errors.Is(err, state.ErrExists) {
		return nil // created, or declared already by the configuration
	}
	// Try again at the next start.
	return errors.Join(err, store.Forget(ctx, "default-policy"))
}
