package jenkins_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/jenkins"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a started and a finished
// build, as a multiple of an HMAC of the same body (x-hmac).
func BenchmarkConnector(b *testing.B) {
	var deliveries []connectortest.Delivery
	for _, name := range []string{"STARTED", "FINALIZED.success"} {
		f, err := fixtures.Get(jenkins.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: kit.Request(b, f), Secrets: [][]byte{testSecret}})
	}
	connectortest.BenchmarkCost(b, kit.New(), deliveries...)
}
