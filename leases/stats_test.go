package leases_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/leases"
)

// TestStats: a zone's jobs are counted by state, the oldest waiting offer
// is found, and a zone with no jobs counts none.
func TestStats(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	q := newQueue(t, r.Client)
	before := time.Now().Add(-time.Second)
	for _, id := range []string{"d1.1", "d2.1", "d3.1"} {
		if err := q.Offer(ctx, zone, id, []byte("job"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if l, err := q.Next(ctx, zone, "agent-1", time.Second); err != nil || l == nil {
		t.Fatalf("Next = %v, %v; want a lease", l, err)
	}
	got, err := q.Stats(ctx, zone)
	if err != nil {
		t.Fatal(err)
	}
	if got.OldestOffer.Before(before) || got.OldestOffer.After(time.Now().Add(time.Second)) {
		t.Errorf("oldest offer at %s, want about now", got.OldestOffer)
	}
	if diff := cmp.Diff(leases.Stats{Offered: 2, Leased: 1}, leases.Stats{Offered: got.Offered, Leased: got.Leased}); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	empty, err := q.Stats(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(leases.Stats{}, empty); diff != "" {
		t.Errorf("Stats of an empty zone (-want +got):\n%s", diff)
	}
	if _, err := q.Stats(ctx, "Not A Zone"); err == nil {
		t.Error("Stats of an invalid zone name: no error")
	}
}
