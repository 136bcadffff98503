package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/state"
)

// The live feed follows what arrives: new events in the history and how
// their processing ends, deliveries the history does not keep (the intake
// log: duplicates, refusals), and, for the operators' page, changes to
// deliveries and agents. It reads Redis once a second whoever follows,
// three small reads, so a follower costs the same on every replica and
// sees what every replica received.
const (
	// feedEvery is how often a follower reads the history and the
	// intake log.
	feedEvery = time.Second
	// feedSlack is how far back each read of the history looks from the
	// newest receive time seen, for events whose record was written a
	// little after they arrived.
	feedSlack = 2 * time.Second
	// feedBatch bounds one read.
	feedBatch = 500
	// feedRemembered bounds the events a follower remembers, to report
	// each once and again when its status changes.
	feedRemembered = 2000
)

// outcomeOfEvent is what the intake did with a stored event.
func outcomeOfEvent(ev *event.Event) string {
	if ev.Status == event.StatusDenied {
		return outcomeDenied
	}
	return outcomeAccepted
}

// feedItem is one thing the feed reports.
type feedItem struct {
	// Type is "event" (new, or its status changed), "intake" (a
	// duplicate or refusal), "deployment" or "agent" (an object change).
	Type    string             `json:"type"`
	Outcome string             `json:"outcome,omitempty"`
	Event   *event.Event       `json:"event,omitempty"`
	Intake  *state.IntakeEntry `json:"intake,omitempty"`
	Change  *state.Change      `json:"-"`
}

// feedFilter keeps the items an operator asked for; empty fields keep
// everything.
type feedFilter struct {
	Source     string `form:"source"`
	Outcome    string `form:"outcome"`
	Repository string `form:"repository"`
	Kind       string `form:"kind"`
}

// keeps tells whether the filter keeps an item about a delivery.
func (f feedFilter) keeps(source, outcome, repository, kind string) bool {
	return (f.Source == "" || f.Source == source) && (f.Outcome == "" || f.Outcome == outcome) &&
		(f.Repository == "" || strings.EqualFold(f.Repository, repository)) && (f.Kind == "" || f.Kind == kind)
}

func (f feedFilter) keepsEvent(ev *event.Event) bool {
	repo := ""
	if ev.Repository != nil {
		repo = ev.Repository.Name
	}
	return f.keeps(ev.Source, outcomeOfEvent(ev), repo, string(ev.Kind))
}

func (f feedFilter) keepsIntake(e *state.IntakeEntry) bool {
	return f.keeps(e.Source, e.Outcome, e.Repository, string(e.Kind))
}

// check refuses an outcome the feed does not know.
func (f feedFilter) check() error {
	switch f.Outcome {
	case "", outcomeAccepted, outcomeDenied, outcomeDuplicate, outcomeRefused:
		return nil
	}
	return Errorf(http.StatusBadRequest, "outcome must be accepted, denied, duplicate or refused, not %q", f.Outcome)
}

// feed follows the history and the intake log.
type feed struct {
	store *state.Store
	hub   *state.Hub
}

// seenEvent is what a follower remembers of an event it reported.
type seenEvent struct {
	status event.Status
	at     time.Time
	// before marks an event received before the follower started, which
	// it never reports.
	before bool
}

// follow calls emit with every item the filter keeps from now on, until
// ctx ends or emit fails, and keepalive when nothing happened for a
// while. With objects, it reports deliveries' and agents' changes too.
func (f feed) follow(ctx context.Context, filter feedFilter, objects bool, emit func(feedItem) error, keepalive func() error) error {
	_, position, err := f.store.IntakeAfter(ctx, "", 0)
	if err != nil {
		return err
	}
	since := f.store.Now().Add(-feedSlack)
	seen := map[string]seenEvent{}
	// What the slack finds now arrived before the follower: it is
	// remembered, not reported.
	before, err := f.store.EventsSince(ctx, since, feedBatch)
	if err != nil {
		return err
	}
	for _, ev := range before {
		seen[keyspace.EventMember(ev.Source, ev.ID)] = seenEvent{status: ev.Status, at: ev.ReceivedAt, before: true}
	}
	var changes <-chan state.Change
	if objects && f.hub != nil {
		sub := f.hub.Subscribe()
		defer sub.Close()
		changes = sub.C
	}
	tick := time.NewTicker(feedEvery)
	defer tick.Stop()
	quiet := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case ch, ok := <-changes:
			if !ok {
				return nil // too slow, or shutting down: the client resumes
			}
			if ch.Type == state.TypeDeploy || ch.Type == state.TypeAgent {
				if err := emit(feedItem{Type: ch.Type, Change: &ch}); err != nil {
					return err
				}
			}
		case <-tick.C:
			n, err := f.poll(ctx, filter, &since, seen, &position, emit)
			if err != nil {
				return err
			}
			if quiet++; n > 0 {
				quiet = 0
			}
			if time.Duration(quiet)*feedEvery >= heartbeat {
				quiet = 0
				if err := keepalive(); err != nil {
					return err
				}
			}
		}
	}
}

// poll reads what arrived since the last poll, and the events reported
// before whose processing had not ended, and emits what changed; it
// returns how many items it emitted.
func (f feed) poll(ctx context.Context, filter feedFilter, since *time.Time, seen map[string]seenEvent, position *string, emit func(feedItem) error) (int, error) {
	fresh, err := f.store.EventsSince(ctx, *since, feedBatch)
	if err != nil {
		return 0, err
	}
	var open []string
	for m, s := range seen {
		if s.at.Before(*since) && !settled(s.status) && !s.before {
			open = append(open, m)
		}
	}
	if len(open) > feedBatch {
		open = open[:feedBatch]
	}
	again, err := f.store.EventsOf(ctx, open)
	if err != nil {
		return 0, err
	}
	emitted := 0
	for _, ev := range append(fresh, again...) {
		m := keyspace.EventMember(ev.Source, ev.ID)
		if s, ok := seen[m]; ok && (s.status == ev.Status || s.before) {
			continue
		}
		seen[m] = seenEvent{status: ev.Status, at: ev.ReceivedAt}
		if newest := ev.ReceivedAt.Add(-feedSlack); newest.After(*since) {
			*since = newest
		}
		if filter.keepsEvent(ev) {
			if err := emit(feedItem{Type: "event", Outcome: outcomeOfEvent(ev), Event: ev}); err != nil {
				return emitted, err
			}
			emitted++
		}
	}
	forget(seen, *since)
	entries, next, err := f.store.IntakeAfter(ctx, *position, feedBatch)
	if err != nil {
		return emitted, err
	}
	*position = next
	for i := range entries {
		if e := &entries[i]; filter.keepsIntake(e) {
			if err := emit(feedItem{Type: "intake", Outcome: e.Outcome, Intake: e}); err != nil {
				return emitted, err
			}
			emitted++
		}
	}
	return emitted, nil
}

// settled tells whether an event's processing has ended.
func settled(s event.Status) bool {
	return s != event.StatusQueued && s != event.StatusRetrying && s != ""
}

// forget drops the oldest settled events a follower remembers once it
// remembers too many.
func forget(seen map[string]seenEvent, since time.Time) {
	if len(seen) <= feedRemembered {
		return
	}
	for m, s := range seen {
		if s.at.Before(since) && (settled(s.status) || s.before) {
			delete(seen, m)
		}
	}
	for m := range seen { // still too many: the oldest go unreported
		if len(seen) <= feedRemembered {
			break
		}
		delete(seen, m)
	}
}

// bindFilter reads a request's filter (into v, whose feed filter is f)
// and answers 400 when it is not one; it reports whether it was.
func bindFilter(c *gin.Context, v any, f *feedFilter) bool {
	if err := c.ShouldBindQuery(v); err != nil {
		fail(c, Errorf(http.StatusBadRequest, "bad filter: %v", err))
		return false
	}
	if err := f.check(); err != nil {
		fail(c, err)
		return false
	}
	return true
}

// startStream answers a request with an event stream that outlives the
// server's write timeout, opened by a comment saying what it does.
func startStream(c *gin.Context, what string) {
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	fmt.Fprintf(c.Writer, ": %s\n\n", what)
	c.Writer.Flush()
}

// writeSSE writes one server-sent event whose data is v as JSON.
func writeSSE(c *gin.Context, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(c.Writer, "event: %s\ndata: %s\n\n", name, data); err != nil {
		return err
	}
	c.Writer.Flush()
	return nil
}

// sseKeepalive writes an SSE comment, which keeps proxies from closing an
// idle stream.
func sseKeepalive(c *gin.Context) func() error {
	return func() error {
		if _, err := fmt.Fprint(c.Writer, ": keepalive\n\n"); err != nil {
			return err
		}
		c.Writer.Flush()
		return nil
	}
}

// tail answers GET /api/v1/events/feed: the events and refusals that
// arrive from now on, as server-sent events ("event" and "intake", each
// a feedItem), filtered by ?source=, outcome=, repository= and kind=. It
// needs read on events.
func (f feed) tail(c *gin.Context) {
	var filter feedFilter
	if !bindFilter(c, &filter, &filter) {
		return
	}
	startStream(c, "following")
	err := f.follow(c.Request.Context(), filter, false, func(it feedItem) error {
		return writeSSE(c, it.Type, it)
	}, sseKeepalive(c))
	if err != nil && c.Request.Context().Err() == nil {
		_ = writeSSE(c, "error", answer{Status: "failed", Message: "the feed stopped: " + err.Error()})
	}
}
