package sns_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/sns"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a finished build and an
// image push (SignatureVersion 1 and 2), as a multiple of an HMAC of the
// same body (x-hmac), with the certificate cached, as it is but once per
// cache period: the RSA check is the bulk of it.
func BenchmarkConnector(b *testing.B) {
	c := newConnector()
	var deliveries []connectortest.Delivery
	for _, name := range []string{"notification.codebuild-succeeded", "notification.ecr-push"} {
		f, err := fixtures.Get(sns.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		req := kit.Request(b, f)
		if err := c.Verify(aws.ctx, req, nil); err != nil {
			b.Fatal(err)
		}
		deliveries = append(deliveries, connectortest.Delivery{Name: name, Request: req, Secrets: [][]byte{kit.Secret}, Context: aws.ctx})
	}
	connectortest.BenchmarkCost(b, c, deliveries...)
}
