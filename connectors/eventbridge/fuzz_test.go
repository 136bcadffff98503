package eventbridge_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/eventbridge"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies to Parse, as they are and with an
// arbitrary detail-type written into them: it must return an event or one
// of the connector errors, and never panic.
func FuzzParse(f *testing.F) {
	sim := eventbridge.New().(connectors.Simulator)
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add(sim.EventType(fx.Header, fx.Body), fx.Body)
	})
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", "application/json; charset=utf-8")
		connectortest.CheckParse(t, eventbridge.New(), &connectors.Request{Header: h, Body: body})
		h, body = sim.Delivery(typ, "fuzz", body)
		connectortest.CheckParse(t, eventbridge.New(), &connectors.Request{Header: h, Body: body})
	})
}

// FuzzVerify: no fuzzed header or body verifies against a secret that did
// not sign it, and every refusal is ErrUnauthorized or ErrMalformed.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
