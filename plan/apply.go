package plan

import (
	"context"
	"fmt"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/state"
)

// Result is what Apply did.
type Result struct {
	// Applied are the changes made: all of the plan's, or none.
	Applied []Change `json:"applied"`
	// Keys holds the keys of API keys created, "name.secret" by name:
	// shown only this once.
	Keys map[string]string `json:"keys,omitempty"`
}

// Apply makes the plan's changes in one atomic write: every change lands,
// or, when an object changed since the plan was computed (or any write is
// refused), none does and the live state is as it was.
func Apply(ctx context.Context, store *state.Store, p *Plan, by string) (*Result, error) {
	res := &Result{Applied: []Change{}, Keys: map[string]string{}}
	ops := make([]state.Op, 0, len(p.Changes))
	for _, c := range p.Changes {
		o := c.object
		switch c.Op {
		case "create":
			next := o.Copy()
			if o.Type == state.TypeAPIKey {
				key, secrets, err := auth.NewKeySecrets(o.Name, store.Now())
				if err != nil {
					return nil, err
				}
				next.Content["secrets"] = secrets
				res.Keys[o.Name] = key
			}
			ops = append(ops, state.Op{Kind: "create", Object: next})
		case "update":
			next := o.Copy()
			next.ID, next.CreatedAt = c.current.ID, c.current.CreatedAt
			if o.Type == state.TypeAPIKey {
				next.Content["secrets"] = c.current.Content["secrets"]
			}
			ops = append(ops, state.Op{Kind: "update", Object: next, Expected: c.Revision})
		case "delete":
			ops = append(ops, state.Op{Kind: "delete", Object: o, Expected: c.Revision})
		default:
			return nil, fmt.Errorf("plan: unknown change %q", c.Op)
		}
	}
	if err := store.Transact(ctx, ops, by); err != nil {
		return nil, fmt.Errorf("nothing was applied: %w", err)
	}
	res.Applied = p.Changes
	if len(res.Keys) == 0 {
		res.Keys = nil
	}
	return res, nil
}
