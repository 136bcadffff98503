package state_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// TestMigrateUntaggedLayout fills a store, moves it to the layout of the
// releases before hash tags, and checks that Migrate, run by several
// replicas at once and then again, brings back all it held under the
// current names, expiries included, with nothing left under the earlier
// ones: lists, cursors, watchers' positions and one-time records go on as
// before.
func TestMigrateUntaggedLayout(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	at := t0
	s := state.New(r.Client, state.Options{Now: func() time.Time { at = at.Add(time.Millisecond); return at }})
	for i := range 6 {
		ev := newEvent([]string{"a", "b"}[i%2], fmt.Sprintf("d-%d", i), t0.Add(time.Duration(i)*time.Second))
		if err := s.SaveEvent(ctx, ev, fmt.Appendf(nil, `{"n":%d}`, i), state.IfAbsent, []byte(`{"decision":"allow"}`)); err != nil {
			t.Fatal(err)
		}
	}
	objects := []struct {
		typ string
		doc map[string]any
	}{
		{state.TypeService, map[string]any{"name": "web", "pipeline": "p", "zone": "production"}},
		{state.TypeDeploy, map[string]any{"name": "d1", "service": "web", "zone": "production", "trigger": "t", "action": "deploy", "status": "running"}},
		{state.TypeDeploy, map[string]any{"name": "d2", "service": "gone", "zone": "production", "trigger": "t", "action": "deploy", "status": "queued"}},
		{"pipeline", map[string]any{"name": "p"}},
		{"pipeline", map[string]any{"name": "q"}},
	}
	for _, o := range objects {
		if _, err := s.Create(ctx, state.NewObject(o.typ, o.doc), "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Merge(ctx, "pipeline", "p", map[string]any{"description": "second revision"}, 0, "test"); err != nil {
		t.Fatal(err)
	}
	// What the dispatcher keeps beside its records: d1 holds web, d3 waits
	// behind it, d2 holds a service that no longer exists.
	for _, err := range []error{
		r.Client.Set(ctx, keyspace.DeliveryLock("web"), "d1", 0).Err(),
		r.Client.RPush(ctx, keyspace.DeliveryPending("web"), "d3").Err(),
		r.Client.Set(ctx, keyspace.DeliveryLock("gone"), "d2", 0).Err(),
		r.Client.SAdd(ctx, keyspace.DeliveryLocks(), "web", "gone").Err(),
		r.Client.Set(ctx, keyspace.DeliveryJob("d1"), `{"job":"d1"}`, time.Hour).Err(),
		r.Client.Set(ctx, keyspace.DeliveryJob("d2"), `{"job":"d2"}`, time.Hour).Err(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if first, err := s.Once(ctx, "default-policy"); err != nil || !first {
		t.Fatalf("Once = %v, %v", first, err)
	}
	page, err := s.ListObjects(ctx, state.ObjectQuery{Type: "pipeline", Limit: 1})
	if err != nil || page.Next == "" {
		t.Fatalf("first page: %v, %v", page, err)
	}
	seen, err := s.LastChangeID(ctx)
	if err != nil || seen == "0-0" {
		t.Fatalf("last change: %q, %v", seen, err)
	}

	before := snapshot(t, r.Client)
	toUntagged(t, r.Client)
	if _, err := s.Event(ctx, "d-0", "a"); err == nil {
		t.Fatal("the earlier layout is readable as the current one; the test proves nothing")
	}
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range cap(errs) {
		wg.Go(func() { errs <- state.New(r.Client, state.Options{}).Migrate(ctx) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Migrate on several replicas at once: %v", err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	if diff := cmp.Diff(before, snapshot(t, r.Client)); diff != "" {
		t.Errorf("after migrating (-before +after):\n%s", diff)
	}

	next, err := s.ListObjects(ctx, state.ObjectQuery{Type: "pipeline", Limit: 1, Cursor: page.Next})
	if err != nil || len(next.Objects) != 1 || next.Objects[0].Name != "q" {
		t.Errorf("the cursor of the earlier layout: %v, %v", next, err)
	}
	if _, err := s.Create(ctx, state.NewObject("pipeline", map[string]any{"name": "r"}), "test"); err != nil {
		t.Fatal(err)
	}
	if later, err := s.ChangesAfter(ctx, seen, 100); err != nil || len(later) != 1 || later[0].Name != "r" {
		t.Errorf("changes after the last one a watcher saw: %v, %v", later, err)
	}
	if first, err := s.Once(ctx, "default-policy"); err != nil || first {
		t.Errorf("Once after migrating = %v, %v; want false", first, err)
	}
	if ok, err := s.Accepted(ctx, "b", "d-3"); err != nil || !ok {
		t.Errorf("Accepted after migrating = %v, %v", ok, err)
	}
	all, err := s.Events(ctx, state.EventFilter{Source: "a"})
	if err != nil || !cmp.Equal(ids(all.Events), []string{"d-4", "d-2", "d-0"}) {
		t.Errorf("events of source a: %v, %v", all, err)
	}
}

// snapshot returns every Reflex key with its value and whether it
// expires.
func snapshot(t *testing.T, c *redis.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := c.Keys(ctx, "reflex:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		var v any
		switch typ := c.Type(ctx, k).Val(); typ {
		case "string":
			v = c.Get(ctx, k).Val()
		case "hash":
			v = c.HGetAll(ctx, k).Val()
		case "list":
			v = c.LRange(ctx, k, 0, -1).Val()
		case "set":
			v = slices.Sorted(slices.Values(c.SMembers(ctx, k).Val()))
		case "zset":
			v = c.ZRangeWithScores(ctx, k, 0, -1).Val()
		case "stream":
			v = c.XRange(ctx, k, "-", "+").Val()
		default:
			t.Fatalf("%s is a %s", k, typ)
		}
		out[k] = fmt.Sprintf("%v expires=%v", v, c.PTTL(ctx, k).Val() > 0)
	}
	return out
}

// toUntagged renames every key to its name in the releases before hash
// tags, as they left a store: with the plain set of each type's names,
// and without the index of held locks.
func toUntagged(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	earlier := []struct{ current, legacy string }{
		{"reflex:{events}:all", "reflex:events"},
		{"reflex:{events}:source:", "reflex:events:source:"},
		{"reflex:{events}:ids", "reflex:events:ids"},
		{"reflex:{events}:", "reflex:"},
		{"reflex:{state}:", "reflex:"},
		{"reflex:{delivery}:", "reflex:delivery:"},
	}
	keys, err := c.Keys(ctx, "reflex:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k == keyspace.DeliveryLocks() {
			c.Del(ctx, k)
			continue
		}
		if typ, ok := strings.CutPrefix(k, "reflex:{state}:objn:"); ok {
			names := c.ZRange(ctx, k, 0, -1).Val()
			if err := c.SAdd(ctx, keyspace.Legacy.ObjectSet(typ), names).Err(); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range earlier {
			if rest, ok := strings.CutPrefix(k, e.current); ok {
				if err := c.Rename(ctx, k, e.legacy+rest).Err(); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
	left, _ := c.Keys(ctx, "reflex:{*").Result()
	if len(left) > 0 {
		t.Fatalf("keys of the current layout left: %v", left)
	}
}
