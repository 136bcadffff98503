package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// decisions serves the decision trails and the policy test; it reads
// objects as the object API does.
type decisions struct {
	objects
}

// list answers GET /api/v1/decisions/{event-id}: the authorization
// decisions made about the event, oldest first, one page at a time
// (limit, cursor).
func (h decisions) list(c *gin.Context) {
	ctx := c.Request.Context()
	limit, err := pageLimit(c)
	if err != nil {
		fail(c, err)
		return
	}
	ev, err := h.store.Event(ctx, c.Param("id"), c.Query("source"))
	if err != nil {
		fail(c, err)
		return
	}
	page, err := h.store.DecisionsPage(ctx, ev.Source, ev.ID, c.Query("cursor"), limit)
	if err != nil {
		fail(c, err)
		return
	}
	linkNext(c, page.Next)
	writeJSON(c, http.StatusOK, page.Decisions)
}

// testRequest is the body of POST /api/v1/decisions/test.
type testRequest struct {
	Action policies.Action `json:"action"`
	// EventID names a stored event; Event gives one (normalized) instead.
	EventID string       `json:"event_id"`
	Source  string       `json:"source"`
	Event   *event.Event `json:"event"`
	// Type and Name name an object target, read from the live state; with
	// an event, the object a delivery of the event would go to (a service).
	Type string `json:"type"`
	Name string `json:"name"`
	// Caller is who asks: an API key ({"name":…}) or, for events, the
	// event's source by default.
	Caller    *auth.Caller      `json:"caller"`
	IP        string            `json:"ip"`
	Headers   map[string]string `json:"headers"`
	Verified  *bool             `json:"verified"`
	Sensitive bool              `json:"sensitive"`
}

// actionList names the actions a decision can be about: "a, b or c".
func actionList() string {
	names := make([]string, 0, len(policies.Actions()))
	for _, a := range policies.Actions() {
		names = append(names, string(a))
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// test answers POST /api/v1/decisions/test: the decision the policies in
// force would make, with its trail. Nothing is recorded or changed. An
// event with an object (type and name) is decided as a delivery of the
// event to the object is: the event is the target, the object the
// decision's object.
func (h decisions) test(c *gin.Context) {
	body, err := readBody(c.Request, maxObjectBody)
	if err != nil {
		fail(c, err)
		return
	}
	var t testRequest
	if err := json.Unmarshal(body, &t); err != nil {
		fail(c, Errorf(http.StatusBadRequest, "the body must be a JSON test request: %v", err))
		return
	}
	switch {
	case t.Action == "":
		fail(c, Errorf(http.StatusBadRequest, "action is required: %s", actionList()))
		return
	case !slices.Contains(policies.Actions(), t.Action):
		fail(c, Errorf(http.StatusBadRequest, "action %q is not one of %s", t.Action, actionList()))
		return
	case (t.Type == "") != (t.Name == ""):
		fail(c, Errorf(http.StatusBadRequest, "type and name go together: they name an object"))
		return
	}
	ctx := c.Request.Context()
	r := policies.Request{Action: t.Action, Caller: t.Caller, IP: t.IP, Headers: t.Headers, Sensitive: t.Sensitive, Verified: t.Verified == nil || *t.Verified}
	if t.Type != "" {
		// The object is read as the asking caller may read it: a test
		// must not tell what exists, or what it holds, to anyone else.
		o, err := h.store.Object(ctx, t.Type, t.Name, 0)
		switch {
		case errors.Is(err, state.ErrNotFound):
			err = h.missing(c, policies.ActionRead, t.Type, t.Name, err)
		case err == nil:
			err = h.allow(c, policies.ActionRead, o, false)
		}
		if err != nil {
			fail(c, err)
			return
		}
		r.Type, r.Name, r.Object = t.Type, t.Name, o
	}
	switch {
	case t.EventID != "" || t.Event != nil:
		ev := t.Event
		if t.EventID != "" {
			if ev, err = h.store.Event(ctx, t.EventID, t.Source); err != nil {
				fail(c, err)
				return
			}
		}
		if t.Source != "" {
			ev.Source = t.Source
		}
		// As delivery.Decider asks: the event is the target, the object
		// (when named) stays the decision's object.
		r.Type, r.Name, r.Event = policies.TypeEvent, ev.ID, ev
		if r.Caller == nil {
			r.Caller = &auth.Caller{Kind: policies.KindSource, Name: ev.Source, Source: ev.Source, Connector: ev.Connector}
		}
	case r.Object != nil:
	default:
		fail(c, Errorf(http.StatusBadRequest, "name the target: event_id, event, or type and name"))
		return
	}
	if r.Caller == nil {
		fail(c, Errorf(http.StatusBadRequest, `caller is required for an object target, e.g. {"name":"ci"}`))
		return
	}
	if err := h.resolveCaller(c, &r); err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, h.authz.Authorize(ctx, r))
}

// resolveCaller makes the caller of a test the one its API key makes, so
// the decision is the real one: an existing key's kind, zone and groups,
// when the asker may read the key. A caller named after no key the asker
// may read is taken as stated, but is never the master key.
func (h decisions) resolveCaller(c *gin.Context, r *policies.Request) error {
	given := r.Caller
	if given.Kind == policies.KindSource {
		return nil
	}
	o, err := h.store.Object(c.Request.Context(), state.TypeAPIKey, given.Name, 0)
	switch {
	case err == nil && h.allow(c, policies.ActionRead, o, false) == nil:
		r.Caller = auth.CallerOf(o)
		return nil
	case err != nil && !errors.Is(err, state.ErrNotFound):
		return err
	}
	stated := *given
	stated.Master = false
	r.Caller = &stated
	return nil
}
