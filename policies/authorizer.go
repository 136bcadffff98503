package policies

import (
	"context"
	"fmt"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/state"
)

// Action is what a request wants to do with its target.
type Action string

// The actions policies decide on.
const (
	ActionReceive Action = "receive"
	ActionDeliver Action = "deliver"
	ActionRead    Action = "read"
	ActionWrite   Action = "write"
)

// Request is one authorization question: may the caller perform the action
// on the object (of the type, with the name)?
type Request struct {
	Caller *auth.Caller
	Action Action
	Type   string
	Name   string
	// Object is the target as stored, or as it would be after a write.
	Object *state.Object
	// Sensitive is true when the question is about the object's sensitive
	// part: reading it in clear, or writing it.
	Sensitive bool
}

// Decision is the answer, with a reason fit for the caller.
type Decision struct {
	Allowed bool
	Reason  string
}

// Authorizer answers authorization questions. Every read and write of the
// state API asks one, for each object it touches.
type Authorizer interface {
	Authorize(ctx context.Context, r Request) Decision
}

// MasterOnly allows the master key everything and everyone else nothing.
type MasterOnly struct{}

// Authorize implements Authorizer.
func (MasterOnly) Authorize(_ context.Context, r Request) Decision {
	if r.Caller != nil && r.Caller.Master {
		return Decision{Allowed: true, Reason: "master key"}
	}
	who := "an anonymous caller"
	if r.Caller != nil {
		who = fmt.Sprintf("API key %q", r.Caller.Name)
	}
	return Decision{Reason: fmt.Sprintf("no policy allows %s to %s %s %q", who, r.Action, r.Type, r.Name)}
}
