package gitea_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/gitea"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a push and a pull request
// delivery, as a multiple of an HMAC of the same body (x-hmac).
func BenchmarkConnector(b *testing.B) {
	var deliveries []connectortest.Delivery
	for _, name := range []string{"push.branch", "pull_request.closed-merged"} {
		f, err := fixtures.Get(gitea.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: kit.Request(b, f), Secrets: [][]byte{kit.Secret}})
	}
	connectortest.BenchmarkCost(b, gitea.New(), deliveries...)
}
