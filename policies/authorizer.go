package policies

import (
	"context"
	"fmt"
	"time"

	"cel.dev/cel-go/interpreter"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/state"
)

// Action is what a request wants to do with its target.
type Action string

// The actions policies decide on. A scope's "admin" stands for read and
// write.
const (
	// ActionReceive: a source's verified webhook is accepted.
	ActionReceive Action = "receive"
	// ActionDeliver: an event delivers to a service (the object).
	ActionDeliver Action = "deliver"
	// ActionRead and ActionWrite: the state API's reads and writes.
	ActionRead  Action = "read"
	ActionWrite Action = "write"
	// ActionTake: an agent (the caller) takes a delivery's job (the
	// object, its deployment record) to run it.
	ActionTake Action = "take"
)

// Actions lists every action, in the order the documentation gives them.
func Actions() []Action {
	return []Action{ActionReceive, ActionDeliver, ActionRead, ActionWrite, ActionTake}
}

// KindSource marks a caller that is a webhook source, not an API key.
const KindSource = "source"

// Request is one authorization question: may the caller perform the action
// on the target?
type Request struct {
	Caller *auth.Caller
	Action Action
	// Type is the target's type: TypeEvent or an object type.
	Type string
	Name string
	// Object is the target object as stored, or as it would be after a
	// write; nil for events.
	Object *state.Object
	// Event is the target event, for receive and deliver.
	Event *event.Event
	// Sensitive is true when the question is about an object's sensitive
	// part: reading it in clear, or writing it.
	Sensitive bool
	// IP is the client's address (through trusted proxies only).
	IP string
	// Headers holds the selected request headers, lower-case names.
	Headers map[string]string
	// Verified is true when the webhook's signature was verified.
	Verified bool
}

func (r Request) target() string {
	if r.Event != nil {
		return r.Event.ID
	}
	return r.Name
}

// attributes are the variables expressions see, each built from the
// request the first time an expression reads it (nil until then): most
// policies read one or two of them, and the event and object documents
// cost the most to build.
type attributes struct {
	r                           *Request
	groups                      map[string][]string
	caller, request, object, ev map[string]any
	now                         time.Time
}

func newAttributes(r *Request, groups map[string][]string) *attributes {
	return &attributes{r: r, groups: groups}
}

// ResolveName returns the variable called name.
func (a *attributes) ResolveName(name string) (any, bool) {
	switch name {
	case "action":
		return string(a.r.Action), true
	case "type":
		return a.r.Type, true
	case "sensitive":
		return a.r.Sensitive, true
	case "caller":
		if a.caller == nil {
			a.caller = a.r.callerAttributes(a.groups)
		}
		return a.caller, true
	case "request":
		if a.request == nil {
			headers := make(map[string]any, len(a.r.Headers))
			for k, v := range a.r.Headers {
				headers[k] = v
			}
			a.request = map[string]any{"ip": a.r.IP, "headers": headers, "verified": a.r.Verified}
		}
		return a.request, true
	case "object":
		if a.object == nil {
			a.object = map[string]any{}
			if a.r.Object != nil {
				doc := a.r.Object.Document(false)
				delete(doc, "sensitive")
				a.object = jsonMap(doc)
			}
		}
		return a.object, true
	case "event":
		if a.ev == nil {
			a.ev = map[string]any{}
			if a.r.Event != nil {
				a.ev = jsonMap(a.r.Event)
			}
		}
		return a.ev, true
	case "now":
		if a.now.IsZero() {
			a.now = time.Now().UTC()
		}
		return a.now, true
	}
	return nil, false
}

// Parent returns nil: the attributes are the whole activation.
func (a *attributes) Parent() interpreter.Activation { return nil }

// callerAttributes describes who asks: an API key and its groups, or a
// webhook source.
func (r *Request) callerAttributes(groups map[string][]string) map[string]any {
	caller := map[string]any{"kind": "apikey", "name": "", "groups": []any{}, "master": false, "source": "", "connector": "", "zone": ""}
	c := r.Caller
	if c == nil {
		return caller
	}
	var gs []any
	for _, g := range c.Groups {
		gs = append(gs, g)
	}
	if c.Kind != KindSource {
		for _, g := range groups[c.Name] {
			gs = append(gs, g)
		}
	} else {
		caller["kind"] = KindSource
	}
	if c.Kind == auth.KindAgent {
		caller["kind"] = auth.KindAgent
	}
	caller["name"], caller["master"], caller["source"], caller["connector"] = c.Name, c.Master, c.Source, c.Connector
	caller["zone"] = c.Zone
	if gs != nil {
		caller["groups"] = gs
	}
	return caller
}

// Decision is the answer to a Request, with the trail that explains it.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
	Action  Action `json:"action"`
	Type    string `json:"type"`
	Target  string `json:"target,omitempty"`
	// Scopes are the scopes that matched the target.
	Scopes []string `json:"scopes"`
	// Policies are the policies evaluated, in order, with their results.
	Policies []PolicyResult `json:"policies"`
	At       time.Time      `json:"at"`
}

func newDecision(r Request) Decision {
	return Decision{Action: r.Action, Type: r.Type, Target: r.target(), Scopes: []string{}, Policies: []PolicyResult{}, At: time.Now().UTC()}
}

// PolicyResult is one evaluated policy.
type PolicyResult struct {
	Name   string `json:"name"`
	Deny   bool   `json:"deny,omitempty"`
	Result bool   `json:"result"`
	Error  string `json:"error,omitempty"`
}

// Authorizer answers authorization questions. Every read and write of the
// state API asks one, for each object it touches; the intake asks one for
// every verified webhook.
type Authorizer interface {
	Authorize(ctx context.Context, r Request) Decision
}

// MasterOnly allows the master key everything and everyone else nothing.
type MasterOnly struct{}

// Authorize implements Authorizer.
func (MasterOnly) Authorize(_ context.Context, r Request) Decision {
	d := newDecision(r)
	if r.Caller != nil && r.Caller.Master {
		d.Allowed, d.Reason = true, "master key"
		return d
	}
	who := "an anonymous caller"
	if r.Caller != nil {
		who = fmt.Sprintf("%q", r.Caller.Name)
	}
	d.Reason = fmt.Sprintf("no policy allows %s to %s %s %q", who, r.Action, r.Type, r.Name)
	return d
}
