package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/triggers"
	"github.com/reflexops/reflex/wire"
)

// Explanation answers "why did (or didn't) it fire?" for one stored
// event: each trigger evaluated on it now, beside what processing did with
// the trigger; every policy decision recorded about the event; and the
// deliveries it produced.
type Explanation struct {
	Event  EventSummary `json:"event"`
	Status event.Status `json:"status"`
	// EvaluatedAt is when the triggers were evaluated: at the time of the
	// question, as the triggers and their services were then.
	EvaluatedAt time.Time `json:"evaluated_at"`
	// Note says what the answer is made of, in one or two sentences.
	Note string `json:"note"`
	// Decisions are the policy decisions recorded about the event, oldest
	// first: the receive decision of the intake, and a deliver decision
	// for each trigger that fired while the event was processed.
	Decisions []ExplainedDecision `json:"decisions"`
	// Triggers are the triggers of the live state, sorted by name, then
	// any trigger that processing named and that no longer exists.
	Triggers []ExplainedTrigger `json:"triggers"`
	// Deliveries are the delivery records the event produced that the
	// caller may read.
	Deliveries []ExplainedDelivery `json:"deliveries"`
	// TriggerErrors are the problems processing met, as it recorded them.
	TriggerErrors []string `json:"trigger_errors,omitempty"`
}

// EventSummary is what an explanation shows of its event.
type EventSummary struct {
	ID          string     `json:"id"`
	Source      string     `json:"source"`
	Connector   string     `json:"connector"`
	Type        string     `json:"type"`
	Action      string     `json:"action,omitempty"`
	Kind        event.Kind `json:"kind"`
	Repository  string     `json:"repository,omitempty"`
	Branch      string     `json:"branch,omitempty"`
	Tag         string     `json:"tag,omitempty"`
	Commit      string     `json:"commit,omitempty"`
	Actor       string     `json:"actor,omitempty"`
	RequestID   string     `json:"request_id,omitempty"`
	ReceivedAt  time.Time  `json:"received_at"`
	ProcessedAt *time.Time `json:"processed_at,omitempty"`
	Replays     int        `json:"replays,omitempty"`
	Error       string     `json:"error,omitempty"`
}

// ExplainedDecision is a recorded policy decision: for a deliver
// decision, also the trigger, its service and the delivery it allowed.
type ExplainedDecision struct {
	policies.Decision
	Trigger  string `json:"trigger,omitempty"`
	Service  string `json:"service,omitempty"`
	Delivery string `json:"delivery,omitempty"`
}

// ExplainedTrigger is one trigger evaluated on the event now, with what
// processing did with it.
type ExplainedTrigger struct {
	triggers.Explanation
	// Delivers is true when the trigger fires now and its service has a
	// zone: processing the event now would ask the deliver policy for a
	// delivery. The policy itself is decided only when an event is
	// processed; AtProcessing shows its decision then.
	Delivers     bool                `json:"delivers"`
	AtProcessing ProcessingOfTrigger `json:"at_processing"`
}

// ProcessingOfTrigger is what processing the event did with a trigger.
type ProcessingOfTrigger struct {
	// Fired is true when the trigger fired: a deliver decision or a
	// delivery record names it.
	Fired bool `json:"fired"`
	// Allowed and Reason are the deliver decision's, when one was made.
	Allowed *bool  `json:"allowed,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Delivery is the delivery record it produced.
	Delivery string `json:"delivery,omitempty"`
	// Error is the trigger error processing recorded for it.
	Error string `json:"error,omitempty"`
}

// ExplainedDelivery is a delivery record the event produced, in brief.
type ExplainedDelivery struct {
	Name       string          `json:"name"`
	Trigger    string          `json:"trigger,omitempty"`
	Service    string          `json:"service"`
	Zone       string          `json:"zone"`
	Action     string          `json:"action"`
	Status     delivery.Status `json:"status"`
	Release    string          `json:"release,omitempty"`
	Agent      string          `json:"agent,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Attempts   int             `json:"attempts"`
	QueuedAt   string          `json:"queued_at,omitempty"`
	FinishedAt string          `json:"finished_at,omitempty"`
	// Output is the end of the last attempt's output, at most
	// maxOutputExcerpt characters.
	Output string `json:"output,omitempty"`
}

// maxOutputExcerpt bounds the output an explained delivery shows.
const maxOutputExcerpt = 240

// ReadCheck reports whether the asking caller may read an object; Explain
// shows only the services and deliveries it allows. nil allows all.
type ReadCheck func(o *state.Object) bool

// explainNote is the Note of every explanation.
const explainNote = "Triggers are evaluated now, on the stored event, as they and their services are now; each shows the revision evaluated, " +
	"which may differ from the one in force when the event was processed. at_processing, decisions and deliveries are what processing recorded."

// Explain explains one stored event (by id, and source when several
// sources used the id): its triggers evaluated now, the decisions
// recorded about it, and the deliveries it produced. It changes nothing
// and decides no policy. A missing event wraps state.ErrNotFound.
func Explain(ctx context.Context, store *state.Store, id, source string, mayRead ReadCheck) (*Explanation, error) {
	if mayRead == nil {
		mayRead = func(*state.Object) bool { return true }
	}
	ev, err := store.Event(ctx, id, source)
	if err != nil {
		return nil, err
	}
	x := &Explanation{Event: summarize(ev), Status: ev.Status, EvaluatedAt: time.Now().UTC(), Note: explainNote,
		TriggerErrors: ev.TriggerErrors, Decisions: []ExplainedDecision{}, Deliveries: []ExplainedDelivery{}}
	trail, err := store.Decisions(ctx, ev.Source, ev.ID)
	if err != nil {
		return nil, err
	}
	for _, raw := range trail {
		var d ExplainedDecision
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("read a decision about event %s: %w", ev.ID, err)
		}
		x.Decisions = append(x.Decisions, d)
	}
	now, err := triggers.Explain(ctx, store, ev)
	if err != nil {
		return nil, err
	}
	for _, t := range now {
		x.Triggers = append(x.Triggers, explainTrigger(t, mayRead))
	}
	x.Triggers = append(x.Triggers, goneTriggers(x)...)
	for i := range x.Triggers {
		t := &x.Triggers[i]
		if err := x.processing(ctx, store, ev, t, mayRead); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// summarize returns what an explanation shows of an event.
func summarize(ev *event.Event) EventSummary {
	s := EventSummary{ID: ev.ID, Source: ev.Source, Connector: ev.Connector, Type: ev.Type, Action: ev.Action, Kind: ev.Kind,
		Branch: ev.Branch, Tag: ev.Tag, Commit: ev.Commit, Actor: ev.Actor, RequestID: ev.RequestID, ReceivedAt: ev.ReceivedAt,
		ProcessedAt: ev.ProcessedAt, Replays: ev.Replays, Error: ev.Error}
	if ev.Repository != nil {
		s.Repository = ev.Repository.Name
	}
	return s
}

// explainTrigger adds to a trigger's explanation whether it would
// deliver, and hides what its service holds from a caller who may not
// read the service.
func explainTrigger(t triggers.Explanation, mayRead ReadCheck) ExplainedTrigger {
	x := ExplainedTrigger{Explanation: t}
	if t.Target != nil && !mayRead(t.Target) {
		for i, r := range x.Reads {
			if r.Path == "service" || strings.HasPrefix(r.Path, "service.") || strings.HasPrefix(r.Path, "service[") || strings.HasPrefix(r.Path, "has(service") {
				x.Reads[i] = policies.Read{Path: r.Path, Error: "hidden: you may not read service " + t.Service}
			}
		}
		x.Params, x.Release = nil, ""
	}
	if !t.Fires {
		return x
	}
	if _, err := delivery.Zone(t.Target); err != nil {
		x.Why = "it fires, but " + err.Error()
		return x
	}
	x.Delivers = true
	return x
}

// goneTriggers returns a row for each trigger that processing named (in
// a deliver decision or a trigger error) and that no longer exists.
func goneTriggers(x *Explanation) []ExplainedTrigger {
	known := map[string]bool{}
	for _, t := range x.Triggers {
		known[t.Name] = true
	}
	var names []string
	for _, d := range x.Decisions {
		names = append(names, d.Trigger)
	}
	for _, e := range x.TriggerErrors {
		names = append(names, triggerOfError(e))
	}
	var out []ExplainedTrigger
	for _, name := range names {
		if name == "" || known[name] {
			continue
		}
		known[name] = true
		out = append(out, ExplainedTrigger{Explanation: triggers.Explanation{Name: name, Result: triggers.ResultNotEvaluated,
			Reads: []policies.Read{}, Why: "it no longer exists"}})
	}
	slices.SortFunc(out, func(a, b ExplainedTrigger) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// triggerOfError returns the trigger a recorded trigger error names
// ("trigger NAME: …"), or "".
func triggerOfError(e string) string {
	rest, ok := strings.CutPrefix(e, "trigger ")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ": ")
	return name
}

// processing fills in what processing did with a trigger, and adds the
// delivery record it produced to the explanation when the caller may read
// it.
func (x *Explanation) processing(ctx context.Context, store *state.Store, ev *event.Event, t *ExplainedTrigger, mayRead ReadCheck) error {
	p := &t.AtProcessing
	for _, d := range x.Decisions {
		if d.Action == policies.ActionDeliver && d.Trigger == t.Name {
			allowed := d.Allowed
			p.Fired, p.Allowed, p.Reason, p.Delivery = true, &allowed, d.Reason, d.Delivery
		}
	}
	for _, e := range x.TriggerErrors {
		if triggerOfError(e) == t.Name {
			p.Error = e
		}
	}
	if p.Allowed != nil && !*p.Allowed && t.Delivers {
		t.Why += "; when the event was processed the deliver policy refused: " + p.Reason
	}
	id := wire.ID(t.Name, ev.Source, ev.ID)
	o, err := store.Object(ctx, state.TypeDeploy, id, 0)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("read delivery %s: %w", id, err)
	}
	p.Fired, p.Delivery = true, id
	if !mayRead(o) {
		return nil
	}
	d, err := explainDelivery(o)
	if err != nil {
		return err
	}
	x.Deliveries = append(x.Deliveries, d)
	return nil
}

// explainDelivery reads a deployment object in brief.
func explainDelivery(o *state.Object) (ExplainedDelivery, error) {
	r, err := delivery.RecordOf(o)
	if err != nil {
		return ExplainedDelivery{}, err
	}
	return ExplainedDelivery{Name: o.Name, Trigger: r.Trigger, Service: r.Service, Zone: r.Zone, Action: r.Action, Status: r.Status,
		Release: r.Release, Agent: r.Agent, Reason: r.Reason, Attempts: len(r.Attempts), QueuedAt: r.QueuedAt, FinishedAt: r.FinishedAt,
		Output: lastChars(r.Output, maxOutputExcerpt)}, nil
}

// lastChars returns the last n characters of s, "…" first when cut.
func lastChars(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return "…" + string(r[len(r)-n+1:])
}

// explainer serves GET /api/v1/events/{id}/explain.
type explainer struct{ objects }

// explain answers GET /api/v1/events/{id}/explain[?source=]: the event's
// Explanation. The route needs read on events and on triggers; the
// services and deliveries shown are those the caller may read.
func (h explainer) explain(c *gin.Context) {
	mayRead := func(o *state.Object) bool { return h.allow(c, policies.ActionRead, o, false) == nil }
	x, err := Explain(c.Request.Context(), h.store, c.Param("id"), c.Query("source"), mayRead)
	if err != nil {
		fail(c, eventError(c.Param("id"), err))
		return
	}
	writeJSON(c, http.StatusOK, x)
}
