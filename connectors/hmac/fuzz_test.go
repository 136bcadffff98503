package hmac_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies and event types to Parse, with the
// fixtures' settings (type in the payload) and with the type in a header:
// it must return an event or one of the connector errors, and never
// panic.
func FuzzParse(f *testing.F) {
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add("repo.push", fx.Body)
	})
	fromPayload := kit.New()
	fromHeader := configured(map[string]any{"event_type_header": "X-Event", "delivery_id_header": "X-Id"})()
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		connectortest.CheckParse(t, fromPayload, &connectors.Request{Source: "fuzz", Header: h, Body: body})
		h.Set("X-Event", typ)
		h.Set("X-Id", "fuzz")
		connectortest.CheckParse(t, fromHeader, &connectors.Request{Source: "fuzz", Header: h, Body: body})
	})
}

// FuzzVerify feeds Verify fixtures with a fuzzed header and body, checked
// against a secret that did not sign them: nothing may verify.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
