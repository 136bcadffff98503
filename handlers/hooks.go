package handlers

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/jobs"
)

// Hooks is the webhook intake: POST /hooks/{source}.
type Hooks struct {
	sources map[string]config.Source
	intake  *jobs.Intake
	maxBody int64
	now     func() time.Time
}

// NewHooks returns the intake for sources.
func NewHooks(sources []config.Source, intake *jobs.Intake, maxBody int64) *Hooks {
	h := &Hooks{sources: map[string]config.Source{}, intake: intake, maxBody: maxBody, now: time.Now}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	for _, s := range sources {
		h.sources[s.Name] = s
	}
	return h
}

// Receive verifies a delivery, normalizes it and queues its job, in that
// order: nothing is decoded before the signature is checked, and 202 is
// answered only once the job is durably queued.
func (h *Hooks) Receive(c *gin.Context) {
	name := c.Param("source")
	src, ok := h.sources[name]
	if !ok {
		fail(c, Errorf(http.StatusNotFound, "no source named %q is configured", name))
		return
	}
	body, err := readBody(c.Request, h.maxBody)
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
		c.JSON(http.StatusOK, answer{Status: "ok", Message: "pong"})
		return
	}
	ev := res.Event
	addLogAttrs(c, slog.String("delivery_id", ev.ID), slog.String("event", ev.Type), slog.String("kind", string(ev.Kind)))
	outcome, err := h.intake.Enqueue(c.Request.Context(), ev, res.Payload)
	if err != nil {
		fail(c, err)
		return
	}
	if outcome == jobs.Duplicate {
		c.JSON(http.StatusOK, answer{Status: "duplicate", ID: ev.ID})
		return
	}
	c.JSON(http.StatusAccepted, answer{Status: "accepted", ID: ev.ID})
}
