package pubsub_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/pubsub"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a Cloud Build message and
// an Artifact Registry notification with warm caches (the key set fetched,
// the token verified once: Pub/Sub sends the same token until it nears
// its expiry), as a multiple of an HMAC of the same body (x-hmac).
func BenchmarkConnector(b *testing.B) {
	c := kit.New()
	var deliveries []connectortest.Delivery
	for _, name := range []string{"cloud-build.success", "gcr.insert"} {
		f, err := fixtures.Get(pubsub.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		d := connectortest.Delivery{Name: name, Request: kit.Request(b, f), Secrets: [][]byte{testKey}}
		if err := c.Verify(b.Context(), d.Request, nil); err != nil {
			b.Fatal(err)
		}
		deliveries = append(deliveries, d)
	}
	connectortest.BenchmarkCost(b, c, deliveries...)
}

// BenchmarkVerifyNewToken measures Verify of a token not seen before (the
// key set cached): the RSA verification each new token costs once.
func BenchmarkVerifyNewToken(b *testing.B) {
	c := kit.New()
	f, err := fixtures.Get(pubsub.Name, "cloud-build.success")
	if err != nil {
		b.Fatal(err)
	}
	req := kit.Request(b, f)
	b.ReportAllocs()
	for b.Loop() {
		pubsub.ForgetTokens(c)
		if err := c.Verify(b.Context(), req, nil); err != nil {
			b.Fatal(err)
		}
	}
}
