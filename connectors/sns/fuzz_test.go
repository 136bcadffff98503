package sns_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/sns"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies to Parse, as they are and as the
// Message of a notification: it must return an event or a ping, or one of
// the connector errors, and never panic.
func FuzzParse(f *testing.F) {
	sim := sns.New().(connectors.Simulator)
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add(sim.EventType(fx.Header, fx.Body), fx.Body)
	})
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", "text/plain; charset=UTF-8")
		connectortest.CheckParse(t, sns.New(), &connectors.Request{Header: h, Body: body})
		h, body = sim.Delivery(typ, "fuzz", body)
		connectortest.CheckParse(t, sns.New(), &connectors.Request{Header: h, Body: body})
	})
}

// FuzzVerify: no fuzzed header or body verifies against keys that did not
// sign it (a connector that takes the served certificate for another
// key's), and every refusal is ErrUnauthorized, ErrMalformed or
// ErrUnavailable.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
