package cloudevents_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/cloudevents"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary content types, event types and bodies to
// Parse, in every mode: it must return an event, a ping or a connector
// error, and never panic.
func FuzzParse(f *testing.F) {
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add(fx.Header.Get("Content-Type"), fx.Header.Get(cloudevents.HeaderType), fx.Body)
	})
	f.Add("application/json", "dev.cdevents.artifact.published.0.3.0", []byte(`{"subject":{"id":"pkg:oci/a@sha256%3Ab?tag=%zz"}}`))
	f.Fuzz(func(t *testing.T, ct, typ string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", ct)
		h.Set(cloudevents.HeaderSpecVersion, "1.0")
		h.Set(cloudevents.HeaderID, "fuzz")
		h.Set(cloudevents.HeaderSource, "/fuzz")
		h.Set(cloudevents.HeaderType, typ)
		connectortest.CheckParse(t, cloudevents.New(), &connectors.Request{Source: "acme-cloudevents", Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt})
	})
}

// FuzzVerify feeds Verify fixtures with a fuzzed header and body, checked
// against a secret that did not sign them: nothing may verify.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
