package quay_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/quay"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a repo_push and of a
// build event, posted to /hooks/{source}/{token}, as a multiple of an
// HMAC of the same body (x-hmac). (BenchmarkCost checks the payload of a
// result that is no batch, so a push of several tags is not measured.)
func BenchmarkConnector(b *testing.B) {
	var deliveries []connectortest.Delivery
	for _, name := range []string{"repo_push", "build_failure"} {
		f, err := fixtures.Get(quay.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		req := &connectors.Request{Source: kit.Source, Method: http.MethodPost, PathToken: string(testSecret), Header: f.Header.Clone(), Body: f.Body, ReceivedAt: connectortest.ReceivedAt}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: req, Secrets: [][]byte{testSecret}})
	}
	connectortest.BenchmarkCost(b, quay.New(), deliveries...)
}
