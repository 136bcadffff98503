package bitbucket_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/bitbucket"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies and event keys to Parse: it must return
// an event or one of the connector errors, and never panic.
func FuzzParse(f *testing.F) {
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add(fx.Header.Get(bitbucket.HeaderEvent), fx.Body)
	})
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		h, body := bitbucket.New().(connectors.Simulator).Delivery(typ, "fuzz", body)
		connectortest.CheckParse(t, bitbucket.New(), &connectors.Request{Header: h, Body: body})
	})
}

// FuzzVerify: no fuzzed header or body verifies against a secret that did
// not sign it, and every refusal is ErrUnauthorized or ErrMalformed.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
