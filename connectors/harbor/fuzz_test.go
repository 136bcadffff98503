package harbor_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/harbor"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies to Parse, as they are and with an
// arbitrary type written into them, in either format: it must return an
// event or a batch with the mandatory fields, or one of the connector
// errors, and never panic.
func FuzzParse(f *testing.F) {
	sim := harbor.New().(connectors.Simulator)
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add(sim.EventType(fx.Header, fx.Body), fx.Header.Get("Content-Type"), fx.Body)
	})
	f.Fuzz(func(t *testing.T, typ, contentType string, body []byte) {
		h, _ := sim.Delivery(typ, "fuzz", nil)
		h.Set("Content-Type", contentType)
		connectortest.CheckParse(t, harbor.New(), &connectors.Request{Header: h, Body: body})
		h, body = sim.Delivery(typ, "fuzz", body)
		connectortest.CheckParse(t, harbor.New(), &connectors.Request{Header: h, Body: body})
	})
}

// FuzzVerify: no fuzzed header or body verifies against a secret that did
// not sign it, and every refusal is ErrUnauthorized or ErrMalformed.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
