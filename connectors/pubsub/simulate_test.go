package pubsub_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/pubsub"
	"github.com/reflexops/reflex/event"
)

// TestReplay: every fixture, and the payload Reflex stores of it, can be
// sent again (Delivery, Sign) and reads as the same event under the new
// id.
func TestReplay(t *testing.T) {
	c := kit.New()
	sim := c.(connectors.Simulator)
	for _, f := range kit.Fixtures(t) {
		res, err := c.Parse(kit.Request(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		typ := sim.EventType(f.Header, f.Body)
		if typ != res.Event.Type {
			t.Errorf("%s: EventType = %q, want %q", f.Name, typ, res.Event.Type)
		}
		for what, payload := range map[string][]byte{"recorded": f.Body, "stored": res.Payload} {
			h, body := sim.Delivery(sim.EventType(nil, payload), "replay-1", payload)
			sim.Sign(h, body, testKey)
			req := &connectors.Request{Source: kit.Source, Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt}
			if err := c.Verify(t.Context(), req, nil); err != nil {
				t.Fatalf("%s, %s: Verify: %v", f.Name, what, err)
			}
			again, err := c.Parse(req)
			if err != nil {
				t.Fatalf("%s, %s: Parse: %v", f.Name, what, err)
			}
			if again.Event.ID != "replay-1" || again.Event.Type != res.Event.Type || again.Event.Kind != res.Event.Kind {
				t.Errorf("%s, %s: replayed as %s %s %s, want replay-1 %s %s", f.Name, what, again.Event.ID, again.Event.Type, again.Event.Kind, res.Event.Type, res.Event.Kind)
			}
			if res.Event.Type != pubsub.TypePubSub && !bytes.Equal(again.Payload, res.Payload) {
				t.Errorf("%s, %s: the replayed payload differs from the stored one", f.Name, what)
			}
		}
	}
}

// TestDeliveryWraps: a stored Build resource is sent in a new envelope
// with Cloud Build's attributes and an allowed subscription.
func TestDeliveryWraps(t *testing.T) {
	sim := kit.New().(connectors.Simulator)
	build := []byte(`{"id":"b-1","status":"WORKING","createTime":"2026-01-02T03:00:00Z"}`)
	if typ := sim.EventType(nil, build); typ != pubsub.TypeCloudBuild {
		t.Fatalf("EventType of a Build resource = %q", typ)
	}
	h, body := sim.Delivery(pubsub.TypeCloudBuild, "m-1", build)
	if h.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type = %q", h.Get("Content-Type"))
	}
	var env struct {
		Message struct {
			Attributes map[string]string
			Data       []byte
			MessageID  string `json:"messageId"`
		}
		Subscription string
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if env.Message.Attributes["buildId"] != "b-1" || env.Message.Attributes["status"] != "WORKING" || env.Message.MessageID != "m-1" ||
		!bytes.Equal(env.Message.Data, build) || env.Subscription != "projects/acme-prod/subscriptions/reflex-cloud-builds" {
		t.Errorf("Delivery = %s", body)
	}
	res, err := kit.New().Parse(&connectors.Request{Header: h, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if res.Event.Kind != event.KindBuildStarted || res.Event.Build.ID != "b-1" {
		t.Errorf("the wrapped build reads as %+v", res.Event)
	}
}

// TestSignNeedsAPrivateKey: a secret that is not a PEM RSA private key
// signs nothing, and the delivery is refused.
func TestSignNeedsAPrivateKey(t *testing.T) {
	c := kit.New()
	for _, secret := range [][]byte{[]byte("It's a Secret to Everybody"), []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")} {
		h := http.Header{"Authorization": {"Bearer stale"}}
		c.(connectors.Signer).Sign(h, nil, secret)
		if h.Get("Authorization") != "" {
			t.Errorf("Sign with %q set Authorization %q", secret, h.Get("Authorization"))
		}
	}
	h := http.Header{}
	c.(connectors.Signer).Sign(h, nil, testKey)
	tok, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	if !ok || strings.Count(tok, ".") != 2 {
		t.Fatalf("Sign with the test key set Authorization %q", h.Get("Authorization"))
	}
}
