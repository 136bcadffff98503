package cloudevents_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors/cloudevents"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a binary-mode pipeline run
// (whose payload is rebuilt in structured mode) and a structured-mode
// artifact, as a multiple of an HMAC of the same body (x-hmac).
func BenchmarkConnector(b *testing.B) {
	var deliveries []connectortest.Delivery
	for _, name := range []string{"pipelinerun.finished", "artifact.published", "Microsoft.Storage.BlobCreated"} {
		f, err := fixtures.Get(cloudevents.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: kit.Request(b, f), Secrets: [][]byte{testSecret}})
	}
	connectortest.BenchmarkCost(b, cloudevents.New(), deliveries...)
}
