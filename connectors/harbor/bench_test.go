package harbor_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/harbor"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a push and a completed
// scan, as a multiple of an HMAC of the same body (x-hmac).
func BenchmarkConnector(b *testing.B) {
	var deliveries []connectortest.Delivery
	for _, name := range []string{"PUSH_ARTIFACT", "SCANNING_COMPLETED"} {
		f, err := fixtures.Get(harbor.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: kit.Request(b, f), Secrets: [][]byte{testSecret}})
	}
	connectortest.BenchmarkCost(b, harbor.New(), deliveries...)
}
