package standardwebhooks_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies and message ids to Parse, configured
// as for the fixtures: it must return an event or one of the connector
// errors, and never panic.
func FuzzParse(f *testing.F) {
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add(fx.Header.Get("webhook-id"), fx.Body)
	})
	c := kit.New()
	f.Fuzz(func(t *testing.T, id string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("webhook-id", id)
		connectortest.CheckParse(t, c, &connectors.Request{Source: "fuzz", Header: h, Body: body})
	})
}

// FuzzVerify feeds Verify fixtures with a fuzzed header and body, checked
// against a secret that did not sign them: nothing may verify.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
