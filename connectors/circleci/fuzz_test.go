package circleci_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/circleci"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies and event type headers to Parse: it
// must return an event with its mandatory fields, a ping, or one of the
// connector errors, and never panic.
func FuzzParse(f *testing.F) {
	c := circleci.New()
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add(fx.Header.Get(circleci.HeaderEventType), fx.Body)
	})
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		if typ != "" {
			h.Set(circleci.HeaderEventType, typ)
		}
		connectortest.CheckParse(t, c, &connectors.Request{Source: kit.Source, Header: h, Body: body})
	})
}

// FuzzVerify: no fuzzed header or body verifies against a secret that did
// not sign it, and every refusal is ErrUnauthorized or ErrMalformed.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
