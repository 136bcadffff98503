package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// heartbeat keeps idle watch streams (and the proxies in between) alive.
const heartbeat = 15 * time.Second

// backlogPage is how many missed changes are read from Redis at a time.
const backlogPage = 500

// watch serves GET /api/v1/watch?types=a,b as Server-Sent Events.
type watch struct {
	objects
	hub  *state.Hub
	auth *auth.Authenticator
	log  *slog.Logger
}

// changeMessage is the data of one change event.
type changeMessage struct {
	Op      string         `json:"op"`
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	Version int64          `json:"revision"`
	Object  map[string]any `json:"object,omitempty"`
}

// serve streams object changes the caller may read. Each event's id is its
// position in the change stream: a client that reconnects with it in
// Last-Event-ID (or ?since=) first receives what it missed. When that is no
// longer kept, a "reset" event tells it to list afresh.
func (h watch) serve(c *gin.Context) {
	types, err := watchedTypes(c.Query("types"))
	if err != nil {
		fail(c, err)
		return
	}
	after := c.GetHeader("Last-Event-ID")
	if after == "" {
		after = c.Query("since")
	}
	ctx := c.Request.Context()
	sub := h.hub.Subscribe()
	defer sub.Close()
	var backlog []state.Change
	reset := false
	for page := after; page != ""; {
		batch, err := h.store.ChangesAfter(ctx, page, backlogPage)
		if errors.Is(err, state.ErrTrimmed) {
			reset = true
			break
		}
		if err != nil {
			fail(c, err)
			return
		}
		backlog = append(backlog, batch...)
		page = ""
		if len(batch) == backlogPage {
			page = batch[len(batch)-1].ID
		}
	}

	startStream(c, "watching")
	if reset {
		fmt.Fprint(c.Writer, "event: reset\ndata: {\"reason\":\"changes since the given id are no longer kept; list the objects again\"}\n\n")
	}
	last := after
	for _, ch := range backlog {
		h.send(c, types, ch)
		last = ch.ID
	}
	c.Writer.Flush()

	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			// A key removed while it watches stops watching.
			if _, err := h.auth.Authenticate(ctx, c.GetHeader("Authorization")); errors.Is(err, auth.ErrUnauthenticated) {
				revoked(c)
				return
			}
			fmt.Fprint(c.Writer, ": keepalive\n\n")
			c.Writer.Flush()
		case ch, ok := <-sub.C:
			if !ok {
				return // too slow, or shutting down: the client resumes
			}
			if !h.current(c, ch) {
				revoked(c)
				return
			}
			if last != "" && state.CompareChangeIDs(ch.ID, last) <= 0 {
				continue // already sent from the backlog
			}
			h.send(c, types, ch)
			last = ch.ID
			c.Writer.Flush()
		}
	}
}

// current keeps the stream's rights those of the caller now: a change of
// the caller's own API key reads the key again (false when it no longer
// authenticates), and a change of policies, scopes or groups is taken
// into account before anything after it is sent.
func (h watch) current(c *gin.Context, ch state.Change) bool {
	ctx := c.Request.Context()
	switch ch.Type {
	case state.TypeAPIKey:
		if ch.Name != callerOf(c).Name {
			return true
		}
		caller, err := h.auth.Fresh(ctx, c.GetHeader("Authorization"))
		if errors.Is(err, auth.ErrUnauthenticated) {
			return false
		}
		if err == nil {
			c.Set(callerKey, caller)
		}
	case state.TypePolicy, state.TypeScope, state.TypeGroup:
		if s, ok := h.authz.(syncer); ok {
			if err := s.Sync(ctx, ch.ID); err != nil {
				// Decisions go on with the rules last loaded; the engine's
				// own follower retries.
				h.log.Warn("watch: cannot reload policies", "error", err)
			}
		}
	}
	return true
}

// syncer is implemented by authorizers that can catch up with the change
// stream on demand (the policy engine).
type syncer interface {
	Sync(ctx context.Context, changeID string) error
}

// revoked ends a stream whose key no longer authenticates.
func revoked(c *gin.Context) {
	fmt.Fprint(c.Writer, "event: revoked\ndata: {\"reason\":\"the API key is no longer valid\"}\n\n")
	c.Writer.Flush()
}

// send writes one change the caller may see.
func (h watch) send(c *gin.Context, types []string, ch state.Change) {
	if len(types) > 0 && !slices.Contains(types, ch.Type) {
		return
	}
	o := ch.Object
	if o == nil {
		o = &state.Object{Type: ch.Type, Name: ch.Name, Version: ch.Version}
	}
	if h.allow(c, policies.ActionRead, o, false) != nil {
		return
	}
	msg := changeMessage{Op: ch.Op, Type: ch.Type, Name: ch.Name, Version: ch.Version}
	if ch.Object != nil {
		msg.Object = h.view(c, ch.Object)
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return
	}
	fmt.Fprintf(c.Writer, "id: %s\nevent: %s\ndata: %s\n\n", ch.ID, ch.Op, data)
}

func watchedTypes(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	types := strings.Split(v, ",")
	for _, t := range types {
		if !state.KnownType(t) {
			return nil, Errorf(http.StatusBadRequest, "types: no object type %q (known: %s)", t, strings.Join(state.Types(), ", "))
		}
	}
	return types, nil
}
