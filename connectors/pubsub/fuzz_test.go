package pubsub_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// FuzzParse feeds arbitrary content types and bodies to Parse, configured
// with the fixtures' settings (an allow-list of subscriptions included):
// it must return an event or one of the connector errors, and never
// panic.
func FuzzParse(f *testing.F) {
	kit.FuzzSeeds(f, func(fx fixtures.Fixture) {
		f.Add(fx.Header.Get("Content-Type"), fx.Body)
	})
	f.Add("application/json", []byte(`{"message":{"attributes":{"buildId":"b","status":"SUCCESS"},"data":"e30=","messageId":"1"},"subscription":"projects/acme-prod/subscriptions/reflex-cloud-builds"}`))
	f.Add("application/json", []byte(`{"message":{"data":"eyJhY3Rpb24iOiJJTlNFUlQiLCJ0YWciOiJ4In0=","messageId":"1"},"subscription":"projects/acme-prod/subscriptions/reflex-gcr"}`))
	c := kit.New()
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", ct)
		connectortest.CheckParse(t, c, &connectors.Request{Source: kit.Source, Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt})
	})
}

// FuzzVerify feeds Verify the fixtures with a fuzzed header and body,
// checked by a connector that trusts only a key that did not sign them:
// nothing may verify.
func FuzzVerify(f *testing.F) { kit.FuzzVerify(f) }
