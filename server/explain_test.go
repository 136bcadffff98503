package server_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/handlers"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/triggers"
	"github.com/reflexops/reflex/wire"
)

// explainTriggers adds to the delivery scenario a trigger the push does
// not match (it has no tag) and one whose service does not exist.
const explainTriggers = `
  - {name: tag-web, on: 'has(event.tag) && event.tag.startsWith("v")', service: web-prod, action: deploy}
  - {name: orphan, on: 'true', service: ghost, action: deploy}
`

// TestExplainAnEvent: a push matching one trigger and not another is
// explained with each trigger's result and the values its expression
// read, what processing did with each, the receive and deliver
// decisions with their scopes, and the delivery made; an unknown event
// answers 404, and a caller who may not read triggers 403.
func TestExplainAnEvent(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl+explainTriggers, logOnFailure(t))
	in := rig.instance
	f := withDelivery(fixture(t, "push.branch"))
	if r := deliver(t, in, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	ev := waitProcessed(t, in, f.Header.Get("X-GitHub-Delivery"))
	id := wire.ID("push-web", "acme-github", ev.ID)
	rig.record(t, id, "queued")

	var x handlers.Explanation
	if r := apiGet(t, in, "/api/v1/events/"+ev.ID+"/explain?source=acme-github", &x); r.Code != http.StatusOK {
		t.Fatalf("explain: %d %s", r.Code, r.Body)
	}
	if x.Event.ID != ev.ID || x.Event.Source != "acme-github" || x.Event.Branch != "main" || x.Status != "processed" || x.Note == "" {
		t.Errorf("event %+v, status %q, note %q; want the processed push to main and a note", x.Event, x.Status, x.Note)
	}

	type row struct {
		Name, Result, Why       string
		Reads                   []policies.Read
		Fires, Delivers         bool
		Params                  map[string]string
		Release                 string
		Fired                   bool
		Delivery, ProcessingErr string
	}
	var got []row
	for _, tr := range x.Triggers {
		if tr.Revision < 1 {
			t.Errorf("trigger %s has revision %d, want the stored one", tr.Name, tr.Revision)
		}
		got = append(got, row{tr.Name, string(tr.Result), tr.Why, tr.Reads, tr.Fires, tr.Delivers, tr.Params, tr.Release,
			tr.AtProcessing.Fired, tr.AtProcessing.Delivery, tr.AtProcessing.Error})
	}
	want := []row{
		{Name: "orphan", Result: string(triggers.ResultNotEvaluated), Why: `its service "ghost" does not exist`, Reads: []policies.Read{},
			ProcessingErr: `trigger orphan: no such service "ghost"`},
		{Name: "push-web", Result: "true", Why: "its on expression is true",
			Reads: []policies.Read{{Path: "event.kind", Value: `"code.pushed"`}}, Fires: true, Delivers: true,
			Params: map[string]string{"COMMIT": ev.Commit}, Release: ev.Commit[:7], Fired: true, Delivery: id},
		{Name: "tag-web", Result: "false", Why: "its on expression is false",
			Reads: []policies.Read{{Path: "event.tag", Error: "no such key: tag"}, {Path: "has(event.tag)", Value: "false"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("triggers (-want +got):\n%s", diff)
	}

	var actions []string
	for _, d := range x.Decisions {
		actions = append(actions, string(d.Action))
		if d.Action == policies.ActionDeliver {
			if !d.Allowed || d.Trigger != "push-web" || d.Delivery != id || !slices.Contains(d.Scopes, "production") {
				t.Errorf("deliver decision %+v, want push-web's allowed in scope production", d)
			}
		}
	}
	if diff := cmp.Diff([]string{"receive", "deliver"}, actions); diff != "" {
		t.Errorf("decision actions (-want +got):\n%s", diff)
	}
	if len(x.Deliveries) != 1 || x.Deliveries[0].Name != id || x.Deliveries[0].Trigger != "push-web" || x.Deliveries[0].Service != "web-prod" {
		t.Errorf("deliveries %+v, want push-web's %s to web-prod", x.Deliveries, id)
	}

	if r := apiGet(t, in, "/api/v1/events/no-such-event/explain", nil); r.Code != http.StatusNotFound {
		t.Errorf("unknown event: %d %s, want 404", r.Code, r.Body)
	}
	key := newKey(t, in, "nobody")
	if r, _ := call(t, in, key, "GET", "/api/v1/events/"+ev.ID+"/explain", ""); r.Code != http.StatusForbidden {
		t.Errorf("a caller with no rights: %d %s, want 403", r.Code, r.Body)
	}
}
