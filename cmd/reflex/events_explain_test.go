package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/wire"
)

// TestEventsExplainCLI: reflex events explain shows, for a push, the
// trigger that fired (✓, with the value its expression read, the policy's
// decision and the delivery) and the one that did not (✗, with the values
// it read), the decisions with their scopes, and the delivery; -o json is
// the server's answer; an unknown event is a one-line error.
func TestEventsExplainCLI(t *testing.T) {
	s := startSecuredDelivery(t, `"true"`)
	if _, errOut, code := stateCLI(t, s.serve, "", "create", "trigger", "-c",
		`{"name":"tag-web","on":"has(event.tag) && event.tag.startsWith(\"v\")","service":"web-prod","action":"deploy"}`); code != 0 {
		t.Fatalf("create trigger: %s", errOut)
	}
	s.send(t, "explain-1")
	waitEvent(t, s.serve, "explain-1")
	id := wire.ID("push-web", "acme-github", "explain-1")
	s.record(t, id, 15*time.Second, "queued")
	env := []string{"REFLEX_URL=" + s.serve.url, "REFLEX_APIKEY=" + e2eAdminKey}

	out, errOut, code := reflexCmd(t, env, "events", "explain", "explain-1", "--source", "acme-github")
	if code != 0 {
		t.Fatalf("explain: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Event explain-1 from acme-github (github push, code.pushed): processed\n",
		"  ✓ push-web (revision 1) → service web-prod: its on expression is true\n",
		"      on: event.kind == \"code.pushed\"  ⇒ true\n        event.kind = \"code.pushed\"\n",
		"      release: ec26c3e\n",
		"      would deliver now: yes, if the deliver policy allows; fired at processing: yes, policy allowed, delivery " + id + "\n",
		"  ✗ tag-web (revision 1) → service web-prod: its on expression is false\n",
		"        event.tag: no such key: tag\n        has(event.tag) = false\n",
		"      would deliver now: no; fired at processing: no\n",
		"  receive allowed",
		"  deliver allowed (trigger push-web → service web-prod)",
		"      scopes: production\n      policies: main-only=true\n",
		"  " + id + "  push-web → web-prod (zone production)  queued, 0 attempt(s)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the text view lacks %q:\n%s", want, out)
		}
	}

	out, errOut, code = reflexCmd(t, env, "events", "explain", "explain-1", "-o", "json")
	var x struct {
		Triggers []struct {
			Name   string `json:"name"`
			Result string `json:"result"`
			Reads  []struct {
				Path  string `json:"path"`
				Value string `json:"value"`
			} `json:"reads"`
		} `json:"triggers"`
		Deliveries []struct{ Name string } `json:"deliveries"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &x) != nil {
		t.Fatalf("explain -o json: exit %d, %s %s", code, out, errOut)
	}
	if len(x.Triggers) != 2 || x.Triggers[0].Name != "push-web" || x.Triggers[0].Result != "true" ||
		len(x.Triggers[0].Reads) != 1 || x.Triggers[0].Reads[0].Value != `"code.pushed"` || x.Triggers[1].Result != "false" {
		t.Errorf("json triggers = %+v, want push-web true reading event.kind, then tag-web false", x.Triggers)
	}
	if len(x.Deliveries) != 1 || x.Deliveries[0].Name != id {
		t.Errorf("json deliveries = %+v, want %s", x.Deliveries, id)
	}

	out, errOut, code = reflexCmd(t, env, "events", "explain", "no-such-event")
	wantOneLineError(t, "explain of an unknown event", out, errOut, code, `no event "no-such-event" is stored`)
	out, errOut, code = reflexCmd(t, env, "events", "explain", "explain-1", "-o", "table")
	wantOneLineError(t, "explain -o table", out, errOut, code, `--output "table": want text, json or yaml`)
}
