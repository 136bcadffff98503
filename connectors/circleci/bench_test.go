package circleci_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors/circleci"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a workflow and a job
// delivery, as a multiple of an HMAC of the same body (x-hmac).
func BenchmarkConnector(b *testing.B) {
	var deliveries []connectortest.Delivery
	for _, name := range []string{"workflow-completed.success", "job-completed.success"} {
		f, err := fixtures.Get(circleci.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: kit.Request(b, f), Secrets: [][]byte{testSecret}})
	}
	connectortest.BenchmarkCost(b, circleci.New(), deliveries...)
}
