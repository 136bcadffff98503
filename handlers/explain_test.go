package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// explainStore holds a service, a trigger on it, an event processed with
// that trigger's delivery, and the traces of two triggers removed since.
func explainStore(t *testing.T) (*state.Store, *event.Event) {
	t.Helper()
	ctx := context.Background()
	store := state.New(redistest.New(t).Client, state.Options{})
	ev := &event.Event{ID: "ev-1", Source: "acme", Connector: "github", Type: "push", Kind: event.KindCodePushed, Branch: "main",
		ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Status: event.StatusProcessed,
		TriggerErrors: []string{"trigger vanished: on: no such key: tag"}}
	id := wire.ID("deploy", "acme", "ev-1")
	objects := []*state.Object{
		state.NewObject(state.TypeService, map[string]any{"name": "web", "pipeline": "p", "zone": "production", "release": "1.2.0"}),
		state.NewObject(state.TypeTrigger, map[string]any{"name": "deploy", "service": "web", "action": "deploy",
			"on": `event.branch == "main" && service.release != ""`, "params": map[string]any{"VERSION": "service.release"}}),
		state.NewObject(state.TypeDeploy, map[string]any{"name": id, "service": "web", "zone": "production", "trigger": "deploy",
			"action": "deploy", "status": "succeeded", "agent": "a1", "attempts": []any{map[string]any{"attempt": 1}},
			"output": strings.Repeat("x", 1000) + "done"}),
	}
	for _, o := range objects {
		if _, err := store.Create(ctx, o, "test"); err != nil {
			t.Fatal(err)
		}
	}
	var trail [][]byte
	for _, d := range []ExplainedDecision{
		{Decision: policies.Decision{Allowed: true, Action: policies.ActionReceive, Scopes: []string{"receive"}}},
		{Decision: policies.Decision{Allowed: true, Action: policies.ActionDeliver, Reason: "allowed by policy main", Scopes: []string{"production"}},
			Trigger: "deploy", Service: "web", Delivery: id},
		{Decision: policies.Decision{Allowed: false, Action: policies.ActionDeliver, Reason: "denied by policy main", Scopes: []string{"production"}},
			Trigger: "retired", Service: "web"},
	} {
		raw, _ := json.Marshal(d)
		trail = append(trail, raw)
	}
	if err := store.SaveEvent(ctx, ev, nil, state.Overwrite, trail...); err != nil {
		t.Fatal(err)
	}
	return store, ev
}

// TestExplainShowsWhatTheCallerMayRead: a caller who may read everything
// sees the service's values, the parameters and the delivery; one who may
// not read the service or the delivery sees neither, but still what the
// trigger and processing did. Triggers processing named that exist no
// more are listed after the live ones.
func TestExplainShowsWhatTheCallerMayRead(t *testing.T) {
	store, ev := explainStore(t)
	id := wire.ID("deploy", "acme", "ev-1")
	allowed := true
	refused := false
	gone := func(name string, p ProcessingOfTrigger) trow {
		return trow{Name: name, Result: "not evaluated", Why: "it no longer exists", Reads: []policies.Read{}, AtProcessing: p}
	}
	tests := []struct {
		name           string
		mayRead        ReadCheck
		wantTriggers   []trow
		wantDeliveries int
	}{
		{
			name: "everything readable",
			wantTriggers: []trow{
				{Name: "deploy", Result: "true", Why: "its on expression is true", Fires: true, Delivers: true,
					Reads:  []policies.Read{{Path: "event.branch", Value: `"main"`}, {Path: "service.release", Value: `"1.2.0"`}},
					Params: map[string]string{"VERSION": "1.2.0"}, AtProcessing: ProcessingOfTrigger{Fired: true, Allowed: &allowed, Reason: "allowed by policy main", Delivery: id}},
				gone("retired", ProcessingOfTrigger{Fired: true, Allowed: &refused, Reason: "denied by policy main"}),
				gone("vanished", ProcessingOfTrigger{Error: "trigger vanished: on: no such key: tag"}),
			},
			wantDeliveries: 1,
		},
		{
			name:    "services and deliveries hidden",
			mayRead: func(o *state.Object) bool { return o.Type == state.TypeTrigger },
			wantTriggers: []trow{
				{Name: "deploy", Result: "true", Why: "its on expression is true", Fires: true, Delivers: true,
					Reads:        []policies.Read{{Path: "event.branch", Value: `"main"`}, {Path: "service.release", Error: "hidden: you may not read service web"}},
					AtProcessing: ProcessingOfTrigger{Fired: true, Allowed: &allowed, Reason: "allowed by policy main", Delivery: id}},
				gone("retired", ProcessingOfTrigger{Fired: true, Allowed: &refused, Reason: "denied by policy main"}),
				gone("vanished", ProcessingOfTrigger{Error: "trigger vanished: on: no such key: tag"}),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := Explain(context.Background(), store, ev.ID, "", tt.mayRead)
			if err != nil {
				t.Fatal(err)
			}
			var got []trow
			for _, tr := range x.Triggers {
				got = append(got, trow{tr.Name, string(tr.Result), tr.Why, tr.Reads, tr.Params, tr.Fires, tr.Delivers, tr.AtProcessing})
			}
			if diff := cmp.Diff(tt.wantTriggers, got); diff != "" {
				t.Errorf("triggers (-want +got):\n%s", diff)
			}
			if len(x.Decisions) != 3 || x.Decisions[1].Delivery != id || x.Decisions[2].Trigger != "retired" {
				t.Errorf("decisions %+v, want the three recorded, in order", x.Decisions)
			}
			if len(x.Deliveries) != tt.wantDeliveries {
				t.Fatalf("%d deliveries, want %d", len(x.Deliveries), tt.wantDeliveries)
			}
			if tt.wantDeliveries == 0 {
				return
			}
			d := x.Deliveries[0]
			if d.Name != id || d.Status != "succeeded" || d.Agent != "a1" || d.Attempts != 1 {
				t.Errorf("delivery %+v, want %s succeeded by a1 in one attempt", d, id)
			}
			if n := utf8.RuneCountInString(d.Output); n != maxOutputExcerpt || !strings.HasPrefix(d.Output, "…") || !strings.HasSuffix(d.Output, "done") {
				t.Errorf("output excerpt of %d characters %q, want the last %d", n, d.Output, maxOutputExcerpt)
			}
		})
	}
	if _, err := Explain(context.Background(), store, "no-such-event", "", nil); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("an unknown event: %v, want state.ErrNotFound", err)
	}
}

// trow is what TestExplainShowsWhatTheCallerMayRead compares of a trigger.
type trow struct {
	Name, Result, Why string
	Reads             []policies.Read
	Params            map[string]string
	Fires, Delivers   bool
	AtProcessing      ProcessingOfTrigger
}
