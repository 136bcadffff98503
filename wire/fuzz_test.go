package wire_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/internal/fuzzseed"
	"github.com/reflexops/reflex/wire"
)

// fuzzJobs are the genuine jobs FuzzVerify signs: the only ones a
// verifier may ever accept.
var fuzzJobs = []*wire.Job{
	{ID: "d-1", Zone: "production", Service: "web", Action: "deploy", Params: map[string]string{"IMAGE": "ghcr.io/acme/web:1.2.0"},
		Trigger: "web-image", Release: "1.2.0", Sequence: 7,
		Event:     wire.EventRef{ID: "e-1", Source: "acme-github", Connector: "github", Kind: "artifact.published", RequestID: "req-1"},
		IssuedAt:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		ExpiresAt: time.Date(2026, 1, 2, 4, 4, 5, 0, time.UTC)},
	{ID: "d-2", Zone: "staging", Service: "api", Action: "forward",
		Delivery: &wire.Forwarded{Connector: "github", Type: "push", ID: "g-1", Payload: []byte(`{"ref":"refs/heads/main"}`)}},
	{ID: "d-3"},
}

// FuzzVerify feeds Verify arbitrary envelopes, seeded with genuine signed
// jobs, jobs signed by a key it does not trust and by an impostor under a
// trusted key's id: it accepts only a job Reflex signed, exactly as
// signed, and refuses everything else with one of its errors.
func FuzzVerify(f *testing.F) {
	signer, v := fuzzseed.Signer(f, "k1", "reflex fuzz k1")
	untrusted, _ := fuzzseed.Signer(f, "k2", "reflex fuzz k2")
	impostor, _ := fuzzseed.Signer(f, "k1", "an impostor's k1")
	for _, j := range fuzzJobs {
		for _, s := range []*wire.Signer{signer, untrusted, impostor} {
			p, err := s.Sign(j)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(p)
		}
	}
	f.Add([]byte(`{"key":"k1","sig":"","body":{"id":"d-1"}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := v.Verify(payload)
		if err != nil {
			if !errors.Is(err, wire.ErrUnsigned) && !errors.Is(err, wire.ErrUnknownKey) && !errors.Is(err, wire.ErrBadSignature) {
				t.Fatalf("Verify returned an error of no kind: %v", err)
			}
			return
		}
		for _, j := range fuzzJobs {
			if cmp.Equal(j, got) {
				return
			}
		}
		t.Fatalf("Verify accepted a job that was never signed: %+v", got)
	})
}
