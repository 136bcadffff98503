// Package connectortest holds what every connector's tests share: the
// golden comparison of its fixtures, its refusals, the body of its fuzz
// test, and the benchmark of its cost on the intake path.
package connectortest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
)

// Delivery is one recorded delivery a cost benchmark replays.
type Delivery struct {
	// Name names the sub-benchmark, e.g. the fixture's name.
	Name string
	// Request is the delivery as the intake hands it to the connector.
	Request *connectors.Request
	// Secrets are what Verify checks it against.
	Secrets [][]byte
	// Context is what Verify is called with; context.Background() when
	// nil.
	Context context.Context
}

// BenchmarkCost measures what a connector costs the intake for each
// delivery: Verify, then Parse (decoding and normalizing), then the
// intake's check of a payload the connector did not check itself, with
// allocations. Beside it, in the same loop, it times an HMAC-SHA256 of the
// same body, and reports the connector's time as a multiple of it
// ("x-hmac"): the floor any signed delivery costs, measured on the same
// machine at the same moment, so the ratio holds on a noisy one. ns/op
// and the allocations count the HMAC too; connector-ns/op does not.
// docs/connectors.md gives the budget.
func BenchmarkCost(b *testing.B, c connectors.Connector, deliveries ...Delivery) {
	for _, d := range deliveries {
		b.Run(d.Name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(d.Request.Body)))
			ctx := d.Context
			if ctx == nil {
				ctx = context.Background()
			}
			var spent, floor time.Duration
			for b.Loop() {
				start := time.Now()
				if err := c.Verify(ctx, d.Request, d.Secrets); err != nil {
					b.Fatal(err)
				}
				res, err := c.Parse(d.Request)
				if err != nil {
					b.Fatal(err)
				}
				// What the intake reads again of a payload the
				// connector did not check.
				if !res.Checked {
					if err := connectors.CheckPayload(res.Payload); err != nil {
						b.Fatal(err)
					}
				}
				mid := time.Now()
				mac := hmac.New(sha256.New, d.Secrets[0])
				mac.Write(d.Request.Body)
				mac.Sum(nil)
				spent, floor = spent+mid.Sub(start), floor+time.Since(mid)
			}
			b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N), "connector-ns/op")
			b.ReportMetric(float64(spent)/float64(floor), "x-hmac")
		})
	}
}
