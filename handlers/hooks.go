package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/intake"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/sources"
)

// Hooks is the webhook intake: POST /hooks/{source}.
type Hooks struct {
	sources *sources.Set
	intake  *intake.Intake
	maxBody int64
	budget  *BodyBudget
	now     func() time.Time
}

// HooksOptions configures the intake. Zero values take the documented
// defaults.
type HooksOptions struct {
	// MaxBody is the largest body any source accepts; a source's own
	// max_body may only lower it. Default DefaultMaxBody.
	MaxBody int64
	// Budget bounds the body bytes held at once across requests. Default
	// DefaultBodyBudget; a negative value bounds nothing.
	Budget int64
	// Now is the intake's clock. Default time.Now.
	Now func() time.Time
}

// NewHooks returns the HTTP intake for the sources of set, which hands
// verified deliveries to in.
func NewHooks(set *sources.Set, in *intake.Intake, o HooksOptions) *Hooks {
	h := &Hooks{sources: set, intake: in, maxBody: o.MaxBody, now: o.Now}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	switch {
	case o.Budget == 0:
		h.budget = NewBodyBudget(DefaultBodyBudget)
	case o.Budget > 0:
		h.budget = NewBodyBudget(o.Budget)
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// Receive verifies a delivery, normalizes it and queues its job, in that
// order: nothing is decoded before the signature is checked, and 202 is
// answered only once the job is durably queued.
func (h *Hooks) Receive(c *gin.Context) {
	name := c.Param("source")
	src, err := h.sources.Lookup(name)
	if errors.Is(err, sources.ErrUnknown) {
		fail(c, Errorf(http.StatusNotFound, "no source named %q is configured", name))
		return
	}
	if err != nil {
		// The detail (which secret reference failed) is in the server's
		// log, not in an answer to an unauthenticated sender.
		fail(c, &Error{Status: http.StatusServiceUnavailable, RetryAfter: 60, Err: err,
			Message: fmt.Sprintf("source %q cannot verify deliveries on this server; its operator can see why in the server log", name)})
		return
	}
	limit := h.maxBody
	if src.MaxBody > 0 {
		limit = min(limit, src.MaxBody)
	}
	body, release, err := readBodyWithin(c.Request, limit, h.budget)
	defer release()
	if err != nil {
		c.Header("Connection", "close")
		fail(c, err)
		return
	}
	req := &connectors.Request{Source: src.Name, Header: c.Request.Header, Body: body, ReceivedAt: h.now()}
	addLogAttrs(c, slog.String("source", src.Name))
	if err := src.Connector.Verify(req, src.Secrets); err != nil {
		fail(c, err)
		return
	}
	res, err := src.Connector.Parse(req)
	if err != nil {
		fail(c, err)
		return
	}
	if res.Ping {
		writeJSON(c, http.StatusOK, answer{Status: "ok", Message: "pong"})
		return
	}
	if err := connectors.CheckPayload(res.Payload); err != nil {
		fail(c, err)
		return
	}
	ev := res.Event
	addLogAttrs(c, slog.String("delivery_id", ev.ID), slog.String("event", ev.Type), slog.String("kind", string(ev.Kind)))
	out, err := h.intake.Accept(c.Request.Context(), intake.Delivery{
		Event: ev, Payload: res.Payload, Connector: src.Connector.Name(),
		IP: c.ClientIP(), Headers: connectors.PolicyHeaders(src.Connector, c.Request.Header),
	})
	switch {
	case err != nil:
		fail(c, err)
	case out.Outcome == intake.Duplicate:
		writeJSON(c, http.StatusOK, answer{Status: "duplicate", ID: ev.ID})
	case out.Outcome == intake.Refused:
		// The answer shows the decision: which scopes matched and which
		// policies said what.
		addLogAttrs(c, slog.String("decision", out.Decision.Reason))
		writeJSON(c, http.StatusForbidden, refusal{Status: "failed", Message: "refused by policy: " + out.Decision.Reason, ID: ev.ID, Decision: out.Decision})
	default:
		writeJSON(c, http.StatusAccepted, answer{Status: "accepted", ID: ev.ID})
	}
}

// refusal is the answer to a delivery that policy refused.
type refusal struct {
	Status   string            `json:"status"`
	Message  string            `json:"message"`
	ID       string            `json:"id"`
	Decision policies.Decision `json:"decision"`
}
