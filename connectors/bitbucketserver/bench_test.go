package bitbucketserver_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors/bitbucketserver"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a push and a merged pull
// request, as a multiple of an HMAC of the same body (x-hmac).
func BenchmarkConnector(b *testing.B) {
	var deliveries []connectortest.Delivery
	for _, name := range []string{"repo_refs_changed.branch", "pr_merged"} {
		f, err := fixtures.Get(bitbucketserver.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: kit.Request(b, f), Secrets: [][]byte{kit.Secret}})
	}
	connectortest.BenchmarkCost(b, bitbucketserver.New(), deliveries...)
}
