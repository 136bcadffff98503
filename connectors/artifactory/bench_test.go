package artifactory_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors/artifactory"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a Docker push and an
// artifact deployed, as a multiple of an HMAC of the same body (x-hmac):
// a signed delivery costs one HMAC itself.
func BenchmarkConnector(b *testing.B) {
	var deliveries []connectortest.Delivery
	for _, name := range []string{"docker.pushed", "artifact.deployed"} {
		f, err := fixtures.Get(artifactory.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: kit.Request(b, f), Secrets: [][]byte{testSecret}})
	}
	connectortest.BenchmarkCost(b, artifactory.New(), deliveries...)
}
