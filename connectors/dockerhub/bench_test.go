package dockerhub_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/dockerhub"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of the documented push (with
// its Dockerfile) and of a short one, posted to /hooks/{source}/{token},
// as a multiple of an HMAC of the same body (x-hmac).
func BenchmarkConnector(b *testing.B) {
	var deliveries []connectortest.Delivery
	for _, name := range []string{"push", "push.user-repo"} {
		f, err := fixtures.Get(dockerhub.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		req := &connectors.Request{Source: kit.Source, Method: http.MethodPost, PathToken: string(testSecret), Header: f.Header.Clone(), Body: f.Body, ReceivedAt: connectortest.ReceivedAt}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: req, Secrets: [][]byte{testSecret}})
	}
	connectortest.BenchmarkCost(b, dockerhub.New(), deliveries...)
}
