package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/state"
)

// events serves the event history under /api/v1/events.
type events struct{ store *state.Store }

// list answers GET /api/v1/events: a JSON array, newest first. Query:
// source (one source only), limit (page size, default 50, at most 1000),
// before (an RFC 3339 time: start with events received strictly before
// it), cursor (the next page, as the Link header names it) and format
// (reflex, or cloudevents for a CloudEvents batch). When more events
// follow, a Link header names the next page.
func (h events) list(c *gin.Context) {
	f := state.EventFilter{Source: c.Query("source"), Cursor: c.Query("cursor")}
	var err error
	if f.Limit, err = pageLimit(c); err != nil {
		fail(c, err)
		return
	}
	if v := c.Query("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			fail(c, Errorf(http.StatusBadRequest, "before must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z"))
			return
		}
		f.Before = t
	}
	cloudEvents, err := wantsCloudEvents(c)
	if err != nil {
		fail(c, err)
		return
	}
	page, err := h.store.Events(c.Request.Context(), f)
	if err != nil {
		fail(c, err)
		return
	}
	linkNext(c, page.Next)
	if !cloudEvents {
		writeJSON(c, http.StatusOK, page.Events)
		return
	}
	batch := make([]event.CloudEvent, len(page.Events))
	for i, ev := range page.Events {
		batch[i] = ev.CloudEvent()
	}
	c.Header("Content-Type", "application/cloudevents-batch+json")
	writeJSON(c, http.StatusOK, batch)
}

// wantsCloudEvents reads ?format= (reflex or cloudevents); without it, an
// Accept of application/cloudevents-batch+json asks for CloudEvents too.
func wantsCloudEvents(c *gin.Context) (bool, error) {
	switch c.Query("format") {
	case "cloudevents":
		return true, nil
	case "reflex":
		return false, nil
	case "":
		return strings.Contains(c.GetHeader("Accept"), "application/cloudevents-batch+json"), nil
	}
	return false, Errorf(http.StatusBadRequest, "format must be reflex or cloudevents")
}

// get answers GET /api/v1/events/{id}: one event, by the id the intake
// returned. ?source= picks the source when several used the same id;
// ?format=cloudevents answers in CloudEvents 1.0 structured JSON.
func (h events) get(c *gin.Context) {
	ev, err := h.store.Event(c.Request.Context(), c.Param("id"), c.Query("source"))
	if err != nil {
		fail(c, eventError(c.Param("id"), err))
		return
	}
	switch c.Query("format") {
	case "", "reflex":
		trail, err := h.store.Decisions(c.Request.Context(), ev.Source, ev.ID)
		if err != nil {
			fail(c, err)
			return
		}
		writeJSON(c, http.StatusOK, eventView{Event: ev, Decisions: trail})
	case "cloudevents":
		c.Header("Content-Type", "application/cloudevents+json")
		writeJSON(c, http.StatusOK, ev.CloudEvent())
	default:
		fail(c, Errorf(http.StatusBadRequest, "format must be reflex or cloudevents"))
	}
}

// eventError is the answer for an event that cannot be read: a 404 that
// says why an id may be missing, or err as it is.
func eventError(id string, err error) error {
	if errors.Is(err, state.ErrNotFound) {
		return Errorf(http.StatusNotFound, "no event %q is stored (it may not be processed yet, or has left the history)", id)
	}
	return err
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
