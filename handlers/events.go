package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/state"
)

// events serves the event history under /api/v1/events.
type events struct{ store *state.Store }

// list answers GET /api/v1/events: a JSON array, newest first. Query:
// source (one source only), limit (page size, default 50, at most 1000) and
// before (an RFC 3339 time: events received strictly before it). When a
// page is full, a Link header names the next one.
func (h events) list(c *gin.Context) {
	f := state.EventFilter{Source: c.Query("source")}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > state.MaxListLimit {
			fail(c, Errorf(http.StatusBadRequest, "limit must be a number from 1 to %d", state.MaxListLimit))
			return
		}
		f.Limit = n
	}
	if v := c.Query("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			fail(c, Errorf(http.StatusBadRequest, "before must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z"))
			return
		}
		f.Before = t
	}
	evs, err := h.store.Events(c.Request.Context(), f)
	if err != nil {
		fail(c, err)
		return
	}
	limit := f.Limit
	if limit == 0 {
		limit = state.DefaultListLimit
	}
	if len(evs) == limit {
		q := c.Request.URL.Query()
		q.Set("before", evs[len(evs)-1].ReceivedAt.Format(time.RFC3339Nano))
		next := url.URL{Path: c.Request.URL.Path, RawQuery: q.Encode()}
		c.Header("Link", "<"+next.String()+`>; rel="next"`)
	}
	c.JSON(http.StatusOK, evs)
}

// get answers GET /api/v1/events/{id}: one event, by the id the intake
// returned. ?source= picks the source when several used the same id;
// ?format=cloudevents answers in CloudEvents 1.0 structured JSON.
func (h events) get(c *gin.Context) {
	ev, err := h.store.Event(c.Request.Context(), c.Param("id"), c.Query("source"))
	if errors.Is(err, state.ErrNotFound) {
		fail(c, Errorf(http.StatusNotFound, "no event %q is stored (it may not be processed yet, or has left the history)", c.Param("id")))
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	switch c.Query("format") {
	case "", "reflex":
		trail, err := h.store.Decisions(c.Request.Context(), ev.Source, ev.ID)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, eventView{Event: ev, Decisions: trail})
	case "cloudevents":
		c.Header("Content-Type", "application/cloudevents+json")
		c.JSON(http.StatusOK, ev.CloudEvent())
	default:
		fail(c, Errorf(http.StatusBadRequest, "format must be reflex or cloudevents"))
	}
}

// eventView is an event with the authorization decisions made about it.
type eventView struct {
	*event.Event
	Decisions []json.RawMessage `json:"decisions,omitempty"`
}

// payload answers GET /api/v1/events/{id}/payload: the provider's raw JSON.
func (h events) payload(c *gin.Context) {
	ctx := c.Request.Context()
	ev, err := h.store.Event(ctx, c.Param("id"), c.Query("source"))
	if err != nil {
		fail(c, err)
		return
	}
	raw, err := h.store.Payload(ctx, ev.ID, ev.Source)
	if err != nil {
		fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", raw)
}
