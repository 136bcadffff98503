package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/intake"
	"github.com/reflexops/reflex/internal/ratelimit"
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
	// metrics counts what the intake does (refusals.go).
	metrics *intakeMetrics
	// keyClient fetches providers' keys and certificates; nil means
	// keyfetch.DefaultClient.
	keyClient *http.Client
	// rate is the rate limit of sources without their own and of the
	// bucket that names no source has share; limits holds the buckets
	// (limits.go).
	rate   ratelimit.Rate
	limits *ratelimit.Buckets
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
	// Metrics registers the intake's counters; nil registers them
	// nowhere.
	Metrics prometheus.Registerer
	// KeyClient fetches what connectors verify with from the network
	// (published keys, signing certificates) and confirms subscriptions.
	// Default keyfetch.DefaultClient.
	KeyClient *http.Client
	// RateLimit is the rate limit, per replica, of every source without
	// a rate_limit of its own, and of the one bucket all names no source
	// has share. Default: none (server.Run passes --webhook-rate).
	RateLimit ratelimit.Rate
}

// NewHooks returns the HTTP intake for the sources of set, which hands
// verified deliveries to in.
func NewHooks(set *sources.Set, in *intake.Intake, o HooksOptions) *Hooks {
	h := &Hooks{sources: set, intake: in, maxBody: o.MaxBody, now: o.Now, metrics: newIntakeMetrics(o.Metrics), keyClient: o.KeyClient, rate: o.RateLimit}
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
	h.limits = ratelimit.NewBuckets(h.now)
	return h
}

// Receive verifies a delivery, normalizes it and queues its job, in that
// order: nothing is decoded before the signature is checked, and 202 is
// answered only once the job is durably queued. A connector that confirms
// endpoints (connectors.Handshaker) sees the request first; OPTIONS
// requests come here too and are answered only by such a connector.
// Every refusal is logged with its reason and counted per source. A
// source's rate limit is checked first, before the body is read.
func (h *Hooks) Receive(c *gin.Context) {
	defer h.metrics.observe(c, time.Now())
	name := c.Param("source")
	src, err := h.sources.Lookup(name)
	// Before the body is read, so that a limited delivery is cheap.
	if h.rateLimited(c, src, !errors.Is(err, sources.ErrUnknown)) {
		return
	}
	if errors.Is(err, sources.ErrUnknown) {
		// Not counted under the name: anyone can post to any name.
		h.refuse(c, "", "", reasonUnknownSource, Errorf(http.StatusNotFound, "no source named %q is configured", name))
		return
	}
	if err != nil {
		// The detail (which secret reference failed) is in the server's
		// log, not in an answer to an unauthenticated sender.
		h.refuse(c, name, "", reasonUnavailable, &Error{Status: http.StatusServiceUnavailable, RetryAfter: 60, Err: err,
			Message: fmt.Sprintf("source %q cannot verify deliveries on this server; its operator can see why in the server log", name)})
		return
	}
	connector := src.Connector.Name()
	limit := h.maxBody
	if src.MaxBody > 0 {
		limit = min(limit, src.MaxBody)
	}
	body, release, err := readBodyWithin(c.Request, limit, h.budget)
	defer release()
	if err != nil {
		c.Header("Connection", "close")
		h.refuse(c, src.Name, connector, reasonOf(err), err)
		return
	}
	req := &connectors.Request{
		Source: src.Name, Method: c.Request.Method, PathToken: c.Param("token"), Header: c.Request.Header, Body: body, ReceivedAt: h.now(),
	}
	if q := c.Request.URL.RawQuery; q != "" {
		req.Query = c.Request.URL.Query()
	}
	addLogAttrs(c, slog.String("source", src.Name))
	if req.PathToken != "" {
		if t, ok := src.Connector.(connectors.PathTokenTaker); !ok || !t.TakesPathToken() {
			h.refuse(c, src.Name, connector, reasonUnauthorized, Errorf(http.StatusNotFound, "the %s connector takes deliveries at /hooks/%s, with no token after it", connector, src.Name))
			return
		}
	}
	ctx := c.Request.Context()
	if h.keyClient != nil {
		ctx = keyfetch.WithClient(ctx, h.keyClient)
	}
	if hs, ok := src.Connector.(connectors.Handshaker); ok {
		reply, ok, err := hs.Handshake(ctx, req, src.Secrets)
		switch {
		case err != nil:
			h.unverified(src.Name, connector, err)
			h.refuse(c, src.Name, connector, reasonOf(err), err)
			return
		case ok:
			h.answerHandshake(c, reply)
			return
		}
	}
	if req.Method != http.MethodPost {
		h.refuse(c, src.Name, connector, reasonMethod, Errorf(http.StatusMethodNotAllowed, "%s is not allowed on %s: the %s connector takes deliveries by POST", req.Method, loggedPath(c), connector))
		return
	}
	if err := src.Connector.Verify(ctx, req, src.Secrets); err != nil {
		h.unverified(src.Name, connector, err)
		h.refuse(c, src.Name, connector, reasonOf(err), err)
		return
	}
	res, err := src.Connector.Parse(req)
	if err != nil {
		h.refuse(c, src.Name, connector, reasonOf(err), err)
		return
	}
	if res.Ping {
		writeJSON(c, http.StatusOK, answer{Status: "ok", Message: "pong"})
		return
	}
	if res.Batch != nil {
		h.receiveBatch(c, src.Name, src.Connector, res.Batch)
		return
	}
	if !res.Checked {
		if err := connectors.CheckPayload(res.Payload); err != nil {
			h.refuse(c, src.Name, connector, reasonOf(err), err)
			return
		}
	}
	ev := res.Event
	addLogAttrs(c, slog.String("delivery_id", ev.ID), slog.String("event", ev.Type), slog.String("kind", string(ev.Kind)))
	out, err := h.intake.Accept(c.Request.Context(), intake.Delivery{
		Event: ev, Payload: res.Payload, Connector: connector,
		IP: c.ClientIP(), Headers: connectors.PolicyHeaders(src.Connector, c.Request.Header), RequestID: c.GetString(requestIDKey),
	})
	switch {
	case err != nil:
		h.enqueueFailed(c, src.Name, connector, 1)
		fail(c, err)
	case out.Outcome == intake.Duplicate:
		h.tally(c, src.Name, connector, outcomeDuplicate, 1)
		h.logDuplicate(c, connector, ev, http.StatusOK)
		writeJSON(c, http.StatusOK, answer{Status: "duplicate", ID: ev.ID})
	case out.Outcome == intake.Refused:
		// The answer shows the decision: which scopes matched and which
		// policies said what.
		addLogAttrs(c, slog.String("decision", out.Decision.Reason))
		h.count(c, src.Name, connector, reasonPolicy)
		writeJSON(c, http.StatusForbidden, refusal{Status: "failed", Message: "refused by policy: " + out.Decision.Reason, ID: ev.ID, Decision: out.Decision})
	default:
		h.tally(c, src.Name, connector, outcomeAccepted, 1)
		writeJSON(c, http.StatusAccepted, answer{Status: "accepted", ID: ev.ID})
	}
}

// batchItem is the answer about one event of a batch.
type batchItem struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// batchAnswer is the answer to a batch: its outcome, and each event's.
type batchAnswer struct {
	Status  string      `json:"status"`
	Message string      `json:"message"`
	Events  []batchItem `json:"events"`
}

// receiveBatch accepts each event of a batch on its own, in order: each
// is de-duplicated and decided like a delivery of its own, so a batch
// sent again after a failure queues only what was not queued before. The
// answer is 202 when every event was accepted or a duplicate (200 when
// all were duplicates) and 403 when policy refused any; each event's
// outcome is listed. Every payload is checked before any event is queued.
func (h *Hooks) receiveBatch(c *gin.Context, source string, conn connectors.Connector, batch []*connectors.Result) {
	connector := conn.Name()
	var checked []byte // the last payload checked: events of one push share it
	for i, r := range batch {
		if r.Checked || len(checked) > 0 && len(r.Payload) == len(checked) && &r.Payload[0] == &checked[0] {
			continue
		}
		if err := connectors.CheckPayload(r.Payload); err != nil {
			h.refuse(c, source, connector, reasonOf(err), fmt.Errorf("batch[%d]: %w", i, err))
			return
		}
		checked = r.Payload
	}
	headers := connectors.PolicyHeaders(conn, c.Request.Header)
	items := make([]batchItem, len(batch))
	var accepted, duplicates, refused int
	for i, r := range batch {
		out, err := h.intake.Accept(c.Request.Context(), intake.Delivery{
			Event: r.Event, Payload: r.Payload, Connector: connector, IP: c.ClientIP(), Headers: headers, RequestID: c.GetString(requestIDKey),
		})
		if err != nil {
			// The events before this one stay queued; a retry of the
			// batch finds them duplicates.
			h.enqueueFailed(c, source, connector, len(batch)-i)
			fail(c, err)
			return
		}
		items[i] = batchItem{ID: r.Event.ID, Status: "accepted"}
		switch out.Outcome {
		case intake.Duplicate:
			items[i].Status = "duplicate"
			h.tally(c, source, connector, outcomeDuplicate, 1)
			h.logDuplicate(c, connector, r.Event, http.StatusOK)
			duplicates++
		case intake.Refused:
			items[i] = batchItem{ID: r.Event.ID, Status: "refused", Message: "refused by policy: " + out.Decision.Reason}
			h.count(c, source, connector, reasonPolicy)
			refused++
		default:
			h.tally(c, source, connector, outcomeAccepted, 1)
			accepted++
		}
	}
	msg := fmt.Sprintf("%d events: %d accepted, %d duplicates, %d refused by policy", len(batch), accepted, duplicates, refused)
	addLogAttrs(c, slog.Int("batch", len(batch)), slog.Int("accepted", accepted))
	c.Set(outcomeKey, batchOutcome(accepted, refused))
	switch {
	case refused > 0:
		writeJSON(c, http.StatusForbidden, batchAnswer{Status: "failed", Message: msg, Events: items})
	case accepted == 0:
		writeJSON(c, http.StatusOK, batchAnswer{Status: "duplicate", Message: msg, Events: items})
	default:
		writeJSON(c, http.StatusAccepted, batchAnswer{Status: "accepted", Message: msg, Events: items})
	}
}

// answerHandshake writes a connector's answer to an endpoint confirmation.
func (h *Hooks) answerHandshake(c *gin.Context, reply *connectors.Reply) {
	status := http.StatusOK
	msg := "handshake answered"
	if reply != nil {
		for k, vs := range reply.Header {
			for _, v := range vs {
				c.Writer.Header().Add(k, v)
			}
		}
		if reply.Status != 0 {
			status = reply.Status
		}
		if reply.Message != "" {
			msg = reply.Message
		}
	}
	addLogAttrs(c, slog.String("handshake", msg))
	writeJSON(c, status, answer{Status: "ok", Message: msg})
}

// refuse answers a delivery that is not accepted, and logs and counts
// why.
func (h *Hooks) refuse(c *gin.Context, source, connector, reason string, err error) {
	addLogAttrs(c, slog.String("refused", reason))
	h.count(c, source, connector, reason)
	h.logRefusal(c, source, connector, reason, err)
	fail(c, err)
}

// count counts a refusal: by policy (denied), or before the intake
// decided (refused).
func (h *Hooks) count(c *gin.Context, source, connector, reason string) {
	h.metrics.refusals.WithLabelValues(source, connector, reason).Inc()
	outcome := outcomeRefused
	if reason == reasonPolicy {
		outcome = outcomeDenied
	}
	h.tally(c, source, connector, outcome, 1)
}

// batchOutcome is a batch's outcome: denied when policy refused any event,
// a duplicate when none was accepted, else accepted.
func batchOutcome(accepted, refused int) string {
	switch {
	case refused > 0:
		return outcomeDenied
	case accepted == 0:
		return outcomeDuplicate
	}
	return outcomeAccepted
}

// refusal is the answer to a delivery that policy refused.
type refusal struct {
	Status   string            `json:"status"`
	Message  string            `json:"message"`
	ID       string            `json:"id"`
	Decision policies.Decision `json:"decision"`
}
