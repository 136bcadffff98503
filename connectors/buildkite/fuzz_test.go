package buildkite_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/buildkite"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies and event types to Parse: it must
// return an event with its mandatory fields, a ping, or one of the
// connector errors, and never panic.
func FuzzParse(f *testing.F) {
	c := buildkite.New()
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add(fx.Header.Get(buildkite.HeaderEvent), fx.Body)
	})
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(buildkite.HeaderEvent, typ)
		connectortest.CheckParse(t, c, &connectors.Request{Source: kit.Source, Header: h, Body: body})
	})
}

// FuzzVerify: no fuzzed header or body verifies against a token that did
// not sign it, and every refusal is ErrUnauthorized or ErrMalformed.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
