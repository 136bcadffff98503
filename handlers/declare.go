package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/plan"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// maxDeclaration bounds a declaration sent to plan or apply.
const maxDeclaration = 4 << 20

// declare serves /api/v1/plan and /api/v1/apply: Reflex configured as code.
type declare struct {
	store *state.Store
	authz policies.Authorizer
}

// compute reads the declaration in the body (the configuration file's
// YAML or JSON) and returns the plan, after checking the caller may make
// every change in it.
func (h declare) compute(c *gin.Context) (*plan.Plan, bool) {
	body, err := readBody(c.Request, maxDeclaration)
	if err != nil {
		fail(c, err)
		return nil, false
	}
	cfg, err := config.Parse(body)
	if err != nil {
		fail(c, Errorf(http.StatusBadRequest, "declaration: %v", err))
		return nil, false
	}
	// The encryption and delivery sections are each server's own settings,
	// read from its --config; a declaration's are left alone.
	p, err := plan.Compute(c.Request.Context(), h.store, plan.Desired(cfg, plan.Sealed), c.Query("prune") == "true")
	if errors.Is(err, plan.ErrInvalid) {
		fail(c, Errorf(http.StatusBadRequest, "%v; nothing was changed", err))
		return nil, false
	}
	if err != nil {
		fail(c, err)
		return nil, false
	}
	// Each change is authorized as the object API would: on the live
	// object and on what it becomes, as a sensitive write when it adds,
	// changes or removes a sensitive part; showing the live values of a
	// plan needs read.
	caller := callerOf(c)
	var refused []string
	ask := func(ch plan.Change, action policies.Action, o *state.Object, sensitive bool) {
		if err := guardMaster(caller, action, ch.Type, ch.Name); err != nil {
			refused = append(refused, fmt.Sprintf("%s %s/%s: %s", ch.Op, ch.Type, ch.Name, err))
			return
		}
		d := h.authz.Authorize(c.Request.Context(), policies.Request{Caller: caller, Action: action, Type: ch.Type, Name: ch.Name, Object: o, Sensitive: sensitive})
		if !d.Allowed {
			refused = append(refused, fmt.Sprintf("%s %s/%s: %s", ch.Op, ch.Type, ch.Name, d.Reason))
		}
	}
	for _, ch := range p.Changes {
		cur, next := ch.Current(), ch.Desired()
		touches := (next != nil && next.Sensitive != nil) || (cur != nil && cur.HasSensitive() && (next == nil || next.Sensitive == nil))
		if cur != nil {
			ask(ch, policies.ActionRead, cur, false)
			ask(ch, policies.ActionWrite, cur, touches)
		}
		if next != nil {
			ask(ch, policies.ActionWrite, next, touches)
		}
	}
	if len(refused) > 0 {
		fail(c, Errorf(http.StatusForbidden, "not allowed: %s; nothing was changed", strings.Join(refused, "; ")))
		return nil, false
	}
	// Unmanaged objects are listed only as far as the caller may read them.
	var visible []string
	for _, u := range p.Unmanaged {
		typ, name, _ := strings.Cut(u, "/")
		o, err := h.store.Object(c.Request.Context(), typ, name, 0)
		if err == nil && h.authz.Authorize(c.Request.Context(), policies.Request{Caller: caller, Action: policies.ActionRead, Type: typ, Name: name, Object: o}).Allowed {
			visible = append(visible, u)
		}
	}
	p.Unmanaged = visible
	return p, true
}

// plan answers POST /api/v1/plan[?prune=true]: what apply would change,
// field by field. Nothing is changed.
func (h declare) plan(c *gin.Context) {
	if p, ok := h.compute(c); ok {
		writeJSON(c, http.StatusOK, p)
	}
}

// apply answers POST /api/v1/apply[?prune=true]: the plan's changes, made
// in one atomic write, and the keys of API keys it created (shown once).
func (h declare) apply(c *gin.Context) {
	p, ok := h.compute(c)
	if !ok {
		return
	}
	res, err := plan.Apply(c.Request.Context(), h.store, p, callerOf(c).Name)
	if err != nil {
		fail(c, err)
		return
	}
	for _, ch := range res.Applied {
		audited(c, ch.Op, ch.Type, ch.Name, appliedRevision(ch))
	}
	writeJSON(c, http.StatusOK, gin.H{"status": "applied", "applied": res.Applied, "keys": res.Keys, "unmanaged": p.Unmanaged})
}

// appliedRevision is the revision an applied change produced: 1 for a
// create, the next for an update, and the one removed for a delete.
func appliedRevision(ch plan.Change) int64 {
	switch ch.Op {
	case "create":
		return 1
	case "update":
		return ch.Revision + 1
	}
	return ch.Revision
}
