package gitlab_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/gitlab"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies and event types to Parse: it must
// return an event or one of the connector errors, and never panic.
func FuzzParse(f *testing.F) {
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add(fx.Header.Get(gitlab.HeaderEvent), fx.Body)
	})
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(gitlab.HeaderEvent, typ)
		connectortest.CheckParse(t, gitlab.New(), &connectors.Request{Header: h, Body: body})
	})
}

// FuzzVerify: no fuzzed header or body verifies against a secret that did
// not sign it, and every refusal is ErrUnauthorized or ErrMalformed.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
