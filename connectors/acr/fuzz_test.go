package acr_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies to Parse, configured as for the
// fixtures: it must return a ping, an event with its mandatory fields or
// one of the connector errors, and never panic.
func FuzzParse(f *testing.F) {
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) { f.Add(fx.Body) })
	c := kit.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		connectortest.CheckParse(t, c, &connectors.Request{Source: kit.Source, Header: h, Body: body})
	})
}

// FuzzVerify: no fuzzed header or body verifies against a secret that is
// not the source's, and every refusal is ErrUnauthorized.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
