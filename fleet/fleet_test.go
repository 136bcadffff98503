package fleet_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/fleet"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newFleet(t *testing.T) (*fleet.Fleet, *clock) {
	t.Helper()
	r := redistest.New(t)
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return &fleet.Fleet{Store: state.New(r.Client, state.Options{}), Log: slog.New(slog.DiscardHandler), Now: c.Now}, c
}

func object(t *testing.T, f *fleet.Fleet, name string) *state.Object {
	t.Helper()
	o, err := f.Store.Object(context.Background(), state.TypeAgent, name, 0)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestConnectHeartbeatDisconnect(t *testing.T) {
	f, c := newFleet(t)
	ctx := context.Background()
	caller := &auth.Caller{Kind: auth.KindAgent, Name: "agent-1", Zone: "production"}
	err := f.Connect(ctx, caller, wire.Hello{Zone: "staging", Actions: []string{"deploy"}})
	if !errors.Is(err, fleet.ErrWrongZone) {
		t.Fatalf("Connect for another zone = %v, want ErrWrongZone", err)
	}
	if err := f.Connect(ctx, caller, wire.Hello{Zone: "production", Version: "v1.2.3", Hostname: "box", Actions: []string{"migrate", "deploy"}, Concurrency: 2}); err != nil {
		t.Fatal(err)
	}
	o := object(t, f, "agent-1")
	if o.Content["zone"] != "production" || o.Content["status"] != fleet.StatusConnected || o.Content["version"] != "v1.2.3" ||
		!slices.Equal(o.Strings("actions"), []string{"deploy", "migrate"}) || o.Content["last_seen"] != "2026-01-02T03:04:05Z" {
		t.Fatalf("agent object = %v", o.Content)
	}
	beat := func(jobs ...string) int64 {
		t.Helper()
		if err := f.Heartbeat(ctx, caller, wire.Heartbeat{Jobs: jobs}); err != nil {
			t.Fatal(err)
		}
		return object(t, f, "agent-1").Version
	}
	v := o.Version
	c.Add(20 * time.Second)
	if got := beat(); got != v {
		t.Errorf("a heartbeat that changes nothing wrote revision %d (was %d)", got, v)
	}
	if got := beat("d-1.1"); got != v+1 {
		t.Errorf("a heartbeat with a new job wrote revision %d, want %d", got, v+1)
	}
	if jobs := object(t, f, "agent-1").Strings("jobs"); !slices.Equal(jobs, []string{"d-1.1"}) {
		t.Errorf("jobs = %v", jobs)
	}
	c.Add(fleet.DefaultSeenEvery)
	if got := beat("d-1.1"); got != v+2 {
		t.Errorf("a heartbeat after a minute wrote revision %d, want %d", got, v+2)
	}
	if err := f.Disconnect(ctx, caller); err != nil {
		t.Fatal(err)
	}
	if o := object(t, f, "agent-1"); o.Content["status"] != fleet.StatusDisconnected || len(o.Strings("jobs")) != 0 {
		t.Fatalf("after Disconnect = %v", o.Content)
	}
}

func TestReapMarksLost(t *testing.T) {
	f, c := newFleet(t)
	ctx := context.Background()
	alive := &auth.Caller{Kind: auth.KindAgent, Name: "alive", Zone: "production"}
	silent := &auth.Caller{Kind: auth.KindAgent, Name: "silent", Zone: "production"}
	gone := &auth.Caller{Kind: auth.KindAgent, Name: "gone", Zone: "production"}
	for _, a := range []*auth.Caller{alive, silent, gone} {
		if err := f.Connect(ctx, a, wire.Hello{Zone: "production"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Disconnect(ctx, gone); err != nil {
		t.Fatal(err)
	}
	c.Add(fleet.DefaultLostAfter - time.Second)
	if n, err := f.Reap(ctx); err != nil || n != 0 {
		t.Fatalf("Reap before LostAfter = %d, %v", n, err)
	}
	if err := f.Heartbeat(ctx, alive, wire.Heartbeat{}); err != nil {
		t.Fatal(err)
	}
	c.Add(2 * time.Second)
	if n, err := f.Reap(ctx); err != nil || n != 1 {
		t.Fatalf("Reap = %d, %v; want the silent agent only", n, err)
	}
	for name, want := range map[string]string{"alive": fleet.StatusConnected, "silent": fleet.StatusLost, "gone": fleet.StatusDisconnected} {
		if got := object(t, f, name).Content["status"]; got != want {
			t.Errorf("%s is %v, want %s", name, got, want)
		}
	}
	// A lost agent that speaks again is connected again.
	if err := f.Heartbeat(ctx, silent, wire.Heartbeat{}); err != nil {
		t.Fatal(err)
	}
	if got := object(t, f, "silent").Content["status"]; got != fleet.StatusConnected {
		t.Errorf("silent after a heartbeat is %v", got)
	}
}
