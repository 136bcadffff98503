package triggers

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// pushEvent is a push to main of acme/widget.
func pushEvent() *event.Event {
	return &event.Event{ID: "d-1", Source: "acme", Connector: "github", Type: "push", Kind: event.KindCodePushed,
		Branch: "main", Commit: "0123456789abcdef", Repository: &event.Repository{Name: "acme/widget"}}
}

func webService() *state.Object {
	o := state.NewObject(state.TypeService, map[string]any{"name": "web", "zone": "production", "release": "1.2.0"})
	o.Version = 4
	return o
}

// ignoreTarget leaves the service object out of comparisons.
var ignoreTarget = cmpopts.IgnoreFields(Explanation{}, "Target")

func TestTriggerExplain(t *testing.T) {
	tests := []struct {
		name    string
		trigger map[string]any
		service *state.Object
		want    Explanation
	}{
		{
			name: "true, with params and release",
			trigger: map[string]any{"on": `event.branch == "main" && service.release != ""`,
				"params": map[string]any{"COMMIT": "event.commit"}, "release": "event.commit.substring(0, 7)"},
			service: webService(),
			want: Explanation{Result: ResultTrue, ServiceExists: true, Fires: true, Why: "its on expression is true",
				Reads:  []policies.Read{{Path: "event.branch", Value: `"main"`}, {Path: "service.release", Value: `"1.2.0"`}},
				Params: map[string]string{"COMMIT": "0123456789abcdef"}, Release: "0123456"},
		},
		{
			name:    "false",
			trigger: map[string]any{"on": `event.branch == "dev"`},
			service: webService(),
			want: Explanation{Result: ResultFalse, ServiceExists: true, Why: "its on expression is false",
				Reads: []policies.Read{{Path: "event.branch", Value: `"main"`}}},
		},
		{
			name:    "error: a key the event lacks",
			trigger: map[string]any{"on": `event.tag.startsWith("v")`},
			service: webService(),
			want: Explanation{Result: ResultError, ServiceExists: true, Error: "no such key: tag",
				Why:   "its on expression failed, and a trigger that cannot decide does not fire",
				Reads: []policies.Read{{Path: "event.tag", Error: "no such key: tag"}}},
		},
		{
			name:    "error: not a bool at run time",
			trigger: map[string]any{"on": `event.branch`},
			service: webService(),
			want: Explanation{Result: ResultError, ServiceExists: true, Error: "yielded main, not a bool",
				Why:   "its on expression failed, and a trigger that cannot decide does not fire",
				Reads: []policies.Read{{Path: "event.branch", Value: `"main"`}}},
		},
		{
			name:    "true, but a parameter fails",
			trigger: map[string]any{"on": `true`, "params": map[string]any{"TAG": "event.tag"}},
			service: webService(),
			want: Explanation{Result: ResultTrue, ServiceExists: true, Error: "params.TAG: no such key: tag",
				Why: "its on expression is true, but it cannot compute what the delivery carries", Reads: []policies.Read{}},
		},
		{
			name:    "the service does not exist",
			trigger: map[string]any{"on": `true`},
			want:    Explanation{Result: ResultNotEvaluated, Why: `its service "web" does not exist`, Reads: []policies.Read{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := map[string]any{"name": "deploy-web", "service": "web", "action": "deploy"}
			for k, v := range tt.trigger {
				doc[k] = v
			}
			o := state.NewObject(state.TypeTrigger, doc)
			o.Version = 7
			trig, err := Compile(o)
			if err != nil {
				t.Fatal(err)
			}
			got := trig.Explain(pushEvent(), tt.service)
			want := tt.want
			want.Name, want.Revision, want.Service, want.On = "deploy-web", 7, "web", tt.trigger["on"].(string)
			if diff := cmp.Diff(want, got, ignoreTarget); diff != "" {
				t.Errorf("Explain (-want +got):\n%s", diff)
			}
			if got.Target != tt.service {
				t.Errorf("target %v, want %v", got.Target, tt.service)
			}
		})
	}
}

// TestExplainReadsTheLiveState: every trigger object is explained, sorted
// by name, one that does not compile as never firing, each against its
// service as stored.
func TestExplainReadsTheLiveState(t *testing.T) {
	ctx := context.Background()
	store := state.New(redistest.New(t).Client, state.Options{})
	for _, doc := range []map[string]any{
		{"name": "web", "pipeline": "p", "zone": "production", "release": "1.2.0"},
	} {
		if _, err := store.Create(ctx, state.NewObject(state.TypeService, doc), "test"); err != nil {
			t.Fatal(err)
		}
	}
	for _, doc := range []map[string]any{
		{"name": "c-orphan", "on": "true", "service": "gone", "action": "deploy"},
		{"name": "a-push", "on": `event.kind == "code.pushed"`, "service": "web", "action": "deploy"},
		{"name": "b-broken", "on": "event.branch ==", "service": "web", "action": "deploy"}, // no Check in this store
	} {
		if _, err := store.Create(ctx, state.NewObject(state.TypeTrigger, doc), "test"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Explain(ctx, store, pushEvent())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name          string
		Revision      int64
		Result        Result
		Fires         bool
		ServiceExists bool
		Release       string
		Why           string
	}
	var rows []row
	for _, x := range got {
		rows = append(rows, row{x.Name, x.Revision, x.Result, x.Fires, x.ServiceExists, x.Release, x.Why})
	}
	want := []row{
		{"a-push", 1, ResultTrue, true, true, "", "its on expression is true"},
		{"b-broken", 1, ResultNotEvaluated, false, false, "", "it does not compile, so it never fires"},
		{"c-orphan", 1, ResultNotEvaluated, false, false, "", `its service "gone" does not exist`},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("explanations (-want +got):\n%s", diff)
	}
	if got[0].Target == nil || got[0].Target.Content["release"] != "1.2.0" {
		t.Errorf("a-push's target = %v, want the stored service web", got[0].Target)
	}
	if got[1].Error == "" || got[1].On != "event.branch ==" {
		t.Errorf("b-broken: error %q, on %q; want the compile error and its expression", got[1].Error, got[1].On)
	}
}
