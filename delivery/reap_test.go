package delivery

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// TestLockIndexFollowsTheLocks: taking a service's lock lists the service
// in the index the reaper reads, handing it on keeps it there, and freeing
// it drops it; a service listed without a lock (deleted by hand) is
// dropped by the next reap.
func TestLockIndexFollowsTheLocks(t *testing.T) {
	r := redistest.New(t)
	d := &Dispatcher{Store: state.New(r.Client, state.Options{}), Redis: r.Client, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	held := func(want ...string) {
		t.Helper()
		got, err := r.Client.SMembers(ctx, keyspace.DeliveryLocks()).Result()
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("held services %v, %v; want %v", got, err, want)
		}
	}
	take := func(id string) string {
		t.Helper()
		keys := []string{keyspace.DeliveryLock("web"), keyspace.DeliveryPending("web"), keyspace.DeliveryLocks()}
		res, err := acquire.Run(ctx, r.Client, keys, id, "0", "web").StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		return res[0]
	}
	if got := take("d1"); got != "run" {
		t.Fatalf("first delivery: %s", got)
	}
	if got := take("d2"); got != "wait" {
		t.Fatalf("second delivery: %s", got)
	}
	held("web")
	keys := []string{keyspace.DeliveryLock("web"), keyspace.DeliveryPending("web"), keyspace.DeliveryLocks()}
	if nxt, err := release.Run(ctx, r.Client, keys, "d1", "web").Text(); err != nil || nxt != "d2" {
		t.Fatalf("release d1: %q, %v", nxt, err)
	}
	held("web")
	if nxt, err := release.Run(ctx, r.Client, keys, "d2", "web").Text(); err != nil || nxt != "" {
		t.Fatalf("release d2: %q, %v", nxt, err)
	}
	held()
	if err := r.Client.SAdd(ctx, keyspace.DeliveryLocks(), "gone").Err(); err != nil {
		t.Fatal(err)
	}
	if err := d.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	held()
}
