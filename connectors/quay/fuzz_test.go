package quay_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/quay"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary bodies, with and without the URL's event
// parameter, to Parse: it must return an event (or a batch) with the
// mandatory fields or one of the connector errors, and never panic.
func FuzzParse(f *testing.F) {
	c := quay.New()
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add("", fx.Body)
		f.Add(c.(connectors.Simulator).EventType(fx.Header, fx.Body), fx.Body)
	})
	f.Add(quay.EventBuildCancelled, []byte(`{"repository":"acme/api","build_id":"b1"}`))
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		req := &connectors.Request{Source: kit.Source, Header: h, Body: body}
		if typ != "" {
			req.Query = url.Values{quay.QueryEvent: {typ}}
		}
		connectortest.CheckParse(t, c, req)
	})
}

// FuzzVerify: no fuzzed header, URL token or body verifies against a
// secret that is not the source's, and every refusal is ErrUnauthorized.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
