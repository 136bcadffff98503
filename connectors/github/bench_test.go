package github_test

import (
	"crypto/sha256"
	"testing"

	"github.com/reflexops/reflex/connectors/github"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkConnector measures Verify + Parse of a push and a workflow_run
// delivery. BenchmarkBaselineSHA256 hashes the same push body once, as the
// yardstick for ratios on a noisy machine.
func BenchmarkConnector(b *testing.B) {
	c := github.New()
	for _, name := range []string{"push.branch", "workflow_run.completed"} {
		f, err := fixtures.Get(github.Name, name)
		if err != nil {
			b.Fatal(err)
		}
		req := request(b, f)
		secrets := [][]byte{testSecret}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(f.Body)))
			for b.Loop() {
				if err := c.Verify(req, secrets); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Parse(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBaselineSHA256(b *testing.B) {
	f, err := fixtures.Get(github.Name, "push.branch")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Body)))
	for b.Loop() {
		sha256.Sum256(f.Body)
	}
}
