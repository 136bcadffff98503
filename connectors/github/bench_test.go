package github_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/github"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a push and a workflow_run
// delivery, as a multiple of an HMAC of the same body (x-hmac).
func BenchmarkConnector(b *testing.B) {
	var deliveries []connectortest.Delivery
	for _, name := range []string{"push.branch", "workflow_run.completed"} {
		f, err := fixtures.Get(github.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: request(b, f), Secrets: [][]byte{testSecret}})
	}
	connectortest.BenchmarkCost(b, github.New(), deliveries...)
}
