package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/sources"
	"github.com/reflexops/reflex/state"
)

// Hooks is the webhook intake: POST /hooks/{source}.
type Hooks struct {
	sources *sources.Set
	intake  *jobs.Intake
	authz   policies.Authorizer
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

// NewHooks returns the intake for the sources of set, whose deliveries the
// authorizer must allow to receive.
func NewHooks(set *sources.Set, intake *jobs.Intake, authz policies.Authorizer, o HooksOptions) *Hooks {
	h := &Hooks{sources: set, intake: intake, authz: authz, maxBody: o.MaxBody, now: o.Now}
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

// policyHeaders are the request headers policies see (request.headers),
// by lower-case name: never a credential or a signature.
var policyHeaders = []string{
	"User-Agent", "Content-Type", "X-Request-Id", "X-Forwarded-For",
	"X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-Id",
	"X-GitHub-Hook-Installation-Target-Type", "X-GitHub-Hook-Installation-Target-Id",
	"X-GitHub-Enterprise-Host", "X-GitHub-Enterprise-Version",
}

func selectHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(policyHeaders))
	for _, name := range policyHeaders {
		if v := h.Get(name); v != "" {
			out[strings.ToLower(name)] = v
		}
	}
	return out
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
	// Payloads are stored and served as JSON: bytes that are not UTF-8
	// would be served as a document that is not valid JSON.
	if !utf8.Valid(res.Payload) {
		fail(c, fmt.Errorf("%w: the payload is not valid UTF-8", connectors.ErrMalformed))
		return
	}
	ev := res.Event
	addLogAttrs(c, slog.String("delivery_id", ev.ID), slog.String("event", ev.Type), slog.String("kind", string(ev.Kind)))
	ctx := c.Request.Context()
	// A redelivery of an accepted delivery is answered as such, without
	// asking the policies again (a replay must never turn it into a denial).
	if seen, err := h.intake.Seen(ctx, ev); err != nil {
		fail(c, err)
		return
	} else if seen {
		writeJSON(c, http.StatusOK, answer{Status: "duplicate", ID: ev.ID})
		return
	}
	d := h.authz.Authorize(ctx, policies.Request{
		Caller: &auth.Caller{Kind: policies.KindSource, Name: src.Name, Source: src.Name, Connector: src.Connector.Name()},
		Action: policies.ActionReceive, Type: policies.TypeEvent, Name: ev.ID, Event: ev,
		IP: c.ClientIP(), Headers: selectHeaders(c.Request.Header), Verified: true,
	})
	trail, _ := json.Marshal(d)
	if !d.Allowed {
		h.refuse(c, ev, d, trail)
		return
	}
	outcome, err := h.intake.Enqueue(ctx, ev, res.Payload, trail)
	if err != nil {
		fail(c, err)
		return
	}
	if outcome == jobs.Duplicate {
		writeJSON(c, http.StatusOK, answer{Status: "duplicate", ID: ev.ID})
		return
	}
	writeJSON(c, http.StatusAccepted, answer{Status: "accepted", ID: ev.ID})
}

// refuse records a delivery that policy refused and answers 403 with the
// decision: which scopes matched and which policies said what.
func (h *Hooks) refuse(c *gin.Context, ev *event.Event, d policies.Decision, trail []byte) {
	ev.Status = event.StatusDenied
	if err := h.intake.Store.SaveEvent(c.Request.Context(), ev, nil, state.Refused, trail); err != nil {
		fail(c, fmt.Errorf("%w: %v", jobs.ErrUnavailable, err))
		return
	}
	addLogAttrs(c, slog.String("decision", d.Reason))
	writeJSON(c, http.StatusForbidden, refusal{Status: "failed", Message: "refused by policy: " + d.Reason, ID: ev.ID, Decision: d})
}

// refusal is the answer to a delivery that policy refused.
type refusal struct {
	Status   string            `json:"status"`
	Message  string            `json:"message"`
	ID       string            `json:"id"`
	Decision policies.Decision `json:"decision"`
}
