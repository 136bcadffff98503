package eventbridge_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/eventbridge"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a finished build and an
// image push, as a multiple of an HMAC of the same body (x-hmac).
func BenchmarkConnector(b *testing.B) {
	var deliveries []connectortest.Delivery
	for _, name := range []string{"codebuild.succeeded", "ecr.push"} {
		f, err := fixtures.Get(eventbridge.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: kit.Request(b, f), Secrets: [][]byte{testSecret}})
	}
	connectortest.BenchmarkCost(b, eventbridge.New(), deliveries...)
}
