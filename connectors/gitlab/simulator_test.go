package gitlab_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/gitlab"
	"github.com/reflexops/reflex/event"
)

// TestSimulator: every fixture sent again through Delivery, EventType and
// Sign verifies and keeps its event type, under the new delivery id.
func TestSimulator(t *testing.T) {
	t.Parallel()
	c := gitlab.New()
	sim := c.(connectors.Simulator)
	for _, f := range kit.Fixtures(t) {
		var want event.Event
		if err := json.Unmarshal(f.Golden, &want); err != nil {
			t.Fatalf("%s: golden: %v", f.Name, err)
		}
		// A payload alone cannot tell a System Hook from the project hook
		// whose payload it relays.
		fromPayload := sim.EventType(http.Header{}, f.Body)
		for _, typ := range []string{sim.EventType(f.Header, f.Body), fromPayload, want.Type} {
			h, body := sim.Delivery(typ, "sim-1", f.Body)
			sim.Sign(h, body, testSecret)
			req := &connectors.Request{Header: h, Body: body}
			if err := c.Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
				t.Fatalf("%s as %q: Verify: %v", f.Name, typ, err)
			}
			res, err := c.Parse(req)
			if err != nil {
				t.Fatalf("%s as %q: Parse: %v", f.Name, typ, err)
			}
			wantType := want.Type
			if typ == fromPayload && f.Header.Get(gitlab.HeaderEvent) == "System Hook" {
				wantType = res.Event.Type
			}
			if res.Event.Type != wantType || res.Event.ID != "sim-1" || res.Event.Kind != want.Kind {
				t.Errorf("%s as %q: type %q id %q kind %q, want %q sim-1 %q", f.Name, typ, res.Event.Type, res.Event.ID, res.Event.Kind, wantType, want.Kind)
			}
		}
	}
}

// TestDeliveryTypes: Delivery takes Event.Type, GitLab's UI name of a job
// ("job", as `reflex send` guesses from a file name) or the header itself.
func TestDeliveryTypes(t *testing.T) {
	t.Parallel()
	sim := gitlab.New().(connectors.Simulator)
	for typ, want := range map[string]string{
		"push":          "Push Hook",
		"tag_push":      "Tag Push Hook",
		"merge_request": "Merge Request Hook",
		"build":         "Job Hook",
		"job":           "Job Hook",
		"access_token":  "Resource Access Token Hook",
		"Pipeline Hook": "Pipeline Hook",
	} {
		h, _ := sim.Delivery(typ, "id-1", []byte(`{}`))
		if got := h.Get(gitlab.HeaderEvent); got != want {
			t.Errorf("Delivery(%q): %s = %q, want %q", typ, gitlab.HeaderEvent, got, want)
		}
		if h.Get(gitlab.HeaderIdempotencyKey) != "id-1" || h.Get("Content-Type") != "application/json" {
			t.Errorf("Delivery(%q) headers: %v", typ, h)
		}
	}
	if got := sim.EventType(http.Header{}, []byte(`{"object_kind":"../x"}`)); got != "" {
		t.Errorf("EventType of an odd object_kind = %q, want \"\"", got)
	}
}
