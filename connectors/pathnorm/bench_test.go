package pathnorm_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"

	"github.com/reflexops/reflex/connectors/pathnorm"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// BenchmarkApply reads the default paths from GitHub's push and
// workflow_run payloads, beside an HMAC-SHA256 of the same body.
func BenchmarkApply(b *testing.B) {
	s, err := pathnorm.Compile(pathnorm.Config{Type: "type"})
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"push.branch", "workflow_run.completed"} {
		f, err := fixtures.Get("github", name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(f.Body)))
			for b.Loop() {
				var ev event.Event
				if err := s.Apply(f.Body, &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/hmac", func(b *testing.B) {
			b.SetBytes(int64(len(f.Body)))
			for b.Loop() {
				m := hmac.New(sha256.New, []byte("secret"))
				m.Write(f.Body)
				m.Sum(nil)
			}
		})
	}
}
