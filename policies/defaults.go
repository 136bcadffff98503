package policies

import (
	"context"
	"errors"
	"slices"

	"github.com/reflexops/reflex/state"
)

// DefaultPolicy names the built-in policy and scope that let every source
// receive its verified webhooks. They are ordinary objects: visible, and
// removable (a removed default is not created again).
const DefaultPolicy = "receive-verified"

// DefaultTakePolicy names the built-in policy and scope that let an
// agent take the jobs of the zone its key is bound to, and no other.
const DefaultTakePolicy = "take-own-zone"

// builtin is a default policy with the scope that applies it.
type builtin struct {
	// once names the one-time step that creates it.
	once        string
	name        string
	description string
	expression  string
	action      Action
	typ         string
	// wanted tells, from the scopes that exist, whether the default is
	// needed: it must never widen what declared scopes decide.
	wanted func(scopes []*state.Object) bool
}

// builtins are the defaults EnsureDefaults creates.
var builtins = []builtin{
	{
		once: "default-policy", name: DefaultPolicy,
		description: "Built in: accept every verified webhook of every source. Delete this policy and its scope to decide with your own.",
		expression:  "request.verified", action: ActionReceive, typ: TypeEvent,
		wanted: func(scopes []*state.Object) bool { return len(scopes) == 0 },
	},
	{
		once: "default-take-policy", name: DefaultTakePolicy,
		description: "Built in: an agent takes the jobs of the zone its key is bound to. Delete this policy and its scope to decide with your own.",
		expression:  `caller.kind == "agent" && has(object.zone) && object.zone == caller.zone`,
		action:      ActionTake, typ: state.TypeDeploy,
		wanted: func(scopes []*state.Object) bool {
			return !slices.ContainsFunc(scopes, func(s *state.Object) bool {
				return slices.Contains(s.Strings("actions"), string(ActionTake))
			})
		},
	},
}

// EnsureDefaults creates the built-in default policies and their scopes
// the first time Reflex starts on a store: receive-verified unless scopes
// exist already (the configuration declared its own), and take-own-zone
// unless a scope decides the take action already. A default that allowed
// more would otherwise widen what the declared scopes decide.
func EnsureDefaults(ctx context.Context, store *state.Store) error {
	var errs []error
	for _, b := range builtins {
		errs = append(errs, b.ensure(ctx, store))
	}
	return errors.Join(errs...)
}

func (b builtin) ensure(ctx context.Context, store *state.Store) error {
	first, err := store.Once(ctx, b.once)
	if err != nil || !first {
		return err
	}
	scopes, err := store.Objects(ctx, state.TypeScope, "")
	if err != nil {
		return errors.Join(err, store.Forget(ctx, b.once))
	}
	if !b.wanted(scopes) {
		return nil
	}
	pol := state.NewObject(state.TypePolicy, map[string]any{
		"name": b.name, "description": b.description, "expression": b.expression,
	})
	scope := state.NewObject(state.TypeScope, map[string]any{
		"name":        b.name,
		"description": "Built in: applies " + b.name + " to every " + string(b.action) + " of type " + b.typ + ".",
		"actions":     []any{string(b.action)},
		"types":       []any{b.typ},
		"mode":        "global",
		"policies":    []any{b.name},
	})
	err = store.Transact(ctx, []state.Op{{Kind: "create", Object: pol}, {Kind: "create", Object: scope}}, "reflex")
	if err == nil || errors.Is(err, state.ErrExists) {
		return nil // created, or declared already by the configuration
	}
	// Try again at the next start.
	return errors.Join(err, store.Forget(ctx, b.once))
}
