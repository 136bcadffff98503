package cloudevents_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/cloudevents"
	"github.com/reflexops/reflex/connectors/connectortest"
)

// TestDelivery: what `reflex send` makes of every fixture, and of the
// payload Reflex stored for it, verifies and parses to the same event
// under the new id, with the type read back by EventType.
func TestDelivery(t *testing.T) {
	c := cloudevents.New()
	sim := c.(connectors.Simulator)
	for _, f := range kit.Fixtures(t) {
		t.Run(f.Name, func(t *testing.T) {
			orig, err := c.Parse(kit.Request(t, f))
			if err != nil {
				t.Fatal(err)
			}
			if orig.Batch != nil {
				checkBatchDelivery(t, c, f.Body, orig)
				return
			}
			typ := sim.EventType(f.Header, f.Body)
			if typ != orig.Event.Type {
				t.Fatalf("EventType = %q, want %q", typ, orig.Event.Type)
			}
			if stored := sim.EventType(http.Header{}, orig.Payload); stored != typ {
				t.Errorf("EventType of the stored payload = %q, want %q", stored, typ)
			}
			for name, payload := range map[string][]byte{"fixture": f.Body, "stored payload": orig.Payload} {
				h, body := sim.Delivery(typ, "reflex-send-1", payload)
				sim.Sign(h, body, testSecret)
				req := &connectors.Request{Source: kit.Source, Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt}
				if err := c.Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
					t.Fatalf("%s: Verify: %v", name, err)
				}
				res, err := c.Parse(req)
				if err != nil {
					t.Fatalf("%s: Parse: %v", name, err)
				}
				if res.Event.Type != typ || res.Event.Kind != orig.Event.Kind {
					t.Errorf("%s: type %q kind %q, want %q %q", name, res.Event.Type, res.Event.Kind, typ, orig.Event.Kind)
				}
				if res.Event.ID == orig.Event.ID {
					t.Errorf("%s: the new delivery id was not used", name)
				}
				var env struct{ ID string }
				if err := json.Unmarshal(res.Payload, &env); err != nil || env.ID != "reflex-send-1" {
					t.Errorf("%s: stored id %q, want reflex-send-1 (%v)", name, env.ID, err)
				}
			}
		})
	}
}

// checkBatchDelivery: a batch of several sent again keeps each event's
// type and kind, under new ids.
func checkBatchDelivery(t *testing.T, c connectors.Connector, body []byte, orig *connectors.Result) {
	t.Helper()
	sim := c.(connectors.Simulator)
	typ := sim.EventType(http.Header{}, body)
	if typ != orig.Batch[0].Event.Type {
		t.Fatalf("EventType = %q, want the first event's %q", typ, orig.Batch[0].Event.Type)
	}
	h, sent := sim.Delivery(typ, "reflex-send-1", body)
	sim.Sign(h, sent, testSecret)
	req := &connectors.Request{Source: kit.Source, Header: h, Body: sent, ReceivedAt: connectortest.ReceivedAt}
	if err := c.Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	res, err := c.Parse(req)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(res.Batch) != len(orig.Batch) {
		t.Fatalf("a batch of %d sent again parses to %d events", len(orig.Batch), len(res.Batch))
	}
	for i, r := range res.Batch {
		want := orig.Batch[i].Event
		if r.Event.Type != want.Type || r.Event.Kind != want.Kind || r.Event.ID == want.ID {
			t.Errorf("batch[%d]: type %q kind %q id %q; want %q %q and a new id", i, r.Event.Type, r.Event.Kind, r.Event.ID, want.Type, want.Kind)
		}
	}
}
