package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestDecisionTestIsTheRealDecision: POST /api/v1/decisions/test with an
// event and an object answers the decision a delivery of the event to the
// object gets (examples/secured-delivery's policy: production only from
// main), and refuses what it cannot decide with 400.
func TestDecisionTestIsTheRealDecision(t *testing.T) {
	rig := startDelivery(t, newRedis(t), readFile("../examples/secured-delivery/reflex.yaml"), logOnFailure(t))
	in := rig.instance
	if r, _ := master(t, in, "POST", "/api/v1/pipeline", `{"name":"hello","services":["hello-prod","hello-lab"]}`); r.Code != http.StatusCreated {
		t.Fatalf("create pipeline: %d %s", r.Code, r.Body)
	}
	for _, doc := range []string{
		`{"name":"hello-prod","pipeline":"hello","zone":"production"}`,
		`{"name":"hello-lab","pipeline":"hello"}`,
	} {
		if r, _ := master(t, in, "POST", "/api/v1/service", doc); r.Code != http.StatusCreated {
			t.Fatalf("create service %s: %d %s", doc, r.Code, r.Body)
		}
	}
	r := deliver(t, in, fixture(t, "registry_package.published"))
	if r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	waitProcessed(t, in, r.ID)
	var trail []map[string]any
	apiGet(t, in, "/api/v1/decisions/"+r.ID, &trail)
	real := decisionFor(t, trail, "deliver")
	if real["allowed"] != true || real["service"] != "hello-prod" {
		t.Fatalf("the real decision = %v, want hello-prod's delivery allowed", real)
	}
	golden, err := os.ReadFile("../fixtures/github/registry_package.published.golden.json")
	if err != nil {
		t.Fatal(err)
	}

	asked := func(fields ...string) string {
		body := map[string]any{}
		for i := 0; i+1 < len(fields); i += 2 {
			body[fields[i]] = fields[i+1]
		}
		if body["event"] == "golden" {
			body["event"] = json.RawMessage(golden)
		}
		raw, _ := json.Marshal(body)
		return string(raw)
	}
	same := func(got map[string]any) string {
		for _, k := range []string{"allowed", "reason", "action", "type", "scopes", "policies"} {
			g, _ := json.Marshal(got[k])
			w, _ := json.Marshal(real[k])
			if string(g) != string(w) {
				return k + " = " + string(g) + ", the real decision's is " + string(w)
			}
		}
		return ""
	}
	tests := []struct {
		name     string
		body     string
		wantCode int
		check    func(d map[string]any) string
		wantMsg  string
	}{
		{"stored event and service", asked("action", "deliver", "event_id", r.ID, "type", "service", "name", "hello-prod"), 200, func(d map[string]any) string {
			if d["target"] != r.ID {
				return "target " + d["target"].(string)
			}
			return same(d)
		}, ""},
		{"given event and service", asked("action", "deliver", "event", "golden", "type", "service", "name", "hello-prod"), 200, func(d map[string]any) string {
			if d["target"] != "058d8209-dc44-4933-8e22-32ca31dac0c6" {
				return "target " + d["target"].(string)
			}
			return same(d)
		}, ""},
		{"a service without a zone", asked("action", "deliver", "event_id", r.ID, "type", "service", "name", "hello-lab"), 200, func(d map[string]any) string {
			if d["allowed"] != false || len(d["scopes"].([]any)) != 0 || !strings.HasPrefix(d["reason"].(string), "no scope covers deliver of event") {
				return "not denied for want of a scope"
			}
			return ""
		}, ""},
		{"the event alone", asked("action", "deliver", "event_id", r.ID), 200, func(d map[string]any) string {
			if d["allowed"] != false || len(d["scopes"].([]any)) != 0 {
				return "the event alone matched the production scope"
			}
			return ""
		}, ""},
		{"unknown action", asked("action", "deploy", "event_id", r.ID, "type", "service", "name", "hello-prod"), 400, nil, `action "deploy" is not one of receive, deliver, read, write or take`},
		{"admin is no action", asked("action", "admin", "type", "service", "name", "hello-prod"), 400, nil, `action "admin" is not one of`},
		{"no action", asked("event_id", r.ID), 400, nil, "action is required"},
		{"type without name", asked("action", "deliver", "event_id", r.ID, "type", "service"), 400, nil, "type and name go together"},
		{"no such object", asked("action", "deliver", "event_id", r.ID, "type", "service", "name", "nope"), 404, nil, "not found"},
		{"no target", asked("action", "read"), 400, nil, "name the target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := master(t, in, "POST", "/api/v1/decisions/test", tt.body)
			if got.Code != tt.wantCode || !strings.Contains(got.Message, tt.wantMsg) {
				t.Fatalf("%s: %d %s, want %d with %q", tt.body, got.Code, got.Body, tt.wantCode, tt.wantMsg)
			}
			if tt.check == nil {
				return
			}
			var d map[string]any
			decode(t, got, &d)
			if msg := tt.check(d); msg != "" {
				t.Errorf("%s: %s\n%s", tt.body, msg, got.Body)
			}
		})
	}
}
