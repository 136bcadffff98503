package state_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// TestHubStartsWhereStartFound: a change written after Start reaches a
// watcher even when Run begins later, as it does on a busy machine while
// the server already serves.
func TestHubStartsWhereStartFound(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := state.New(redistest.New(t).Client, state.Options{})
	if _, err := s.Create(ctx, state.NewObject(state.TypeState, map[string]any{"name": "earlier"}), "test"); err != nil {
		t.Fatal(err)
	}
	hub := state.NewHub(s, slog.New(slog.DiscardHandler))
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sub := hub.Subscribe()
	if _, err := s.Create(ctx, state.NewObject(state.TypeState, map[string]any{"name": "between"}), "test"); err != nil {
		t.Fatal(err)
	}
	go hub.Run(ctx)
	select {
	case ch := <-sub.C:
		if ch.Name != "between" {
			t.Fatalf("first change = %s, want between (written after Start, before Run)", ch.Name)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the change written between Start and Run never arrived")
	}
}

// TestSubscribeTypes: a watcher of some types receives their changes
// alone, without objects, while a watcher of every change receives each,
// its object decoded.
func TestSubscribeTypes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := state.New(redistest.New(t).Client, state.Options{})
	hub := state.NewHub(s, slog.New(slog.DiscardHandler))
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	all, some := hub.Subscribe(), hub.SubscribeTypes(state.TypeRelease, state.TypeState)
	go hub.Run(ctx)
	writes := []struct{ typ, name string }{{state.TypeGroup, "ops"}, {state.TypeState, "acme"}, {state.TypePipeline, "web"}, {state.TypeRelease, "r1"}}
	for _, w := range writes {
		if _, err := s.Create(ctx, state.NewObject(w.typ, map[string]any{"name": w.name}), "test"); err != nil {
			t.Fatal(err)
		}
	}
	next := func(sub *state.Subscription) state.Change {
		t.Helper()
		select {
		case ch := <-sub.C:
			return ch
		case <-time.After(10 * time.Second):
			t.Fatal("no change arrived")
			return state.Change{}
		}
	}
	for _, w := range writes {
		ch := next(all)
		if ch.Type != w.typ || ch.Name != w.name || ch.Object == nil || ch.Object.Name != w.name {
			t.Fatalf("watcher of everything got %s/%s with object %v, want %s/%s with its object", ch.Type, ch.Name, ch.Object, w.typ, w.name)
		}
	}
	for _, want := range []string{"acme", "r1"} {
		if ch := next(some); ch.Name != want || ch.Object != nil {
			t.Fatalf("watcher of releases and states got %s/%s (object %v), want %s without its object", ch.Type, ch.Name, ch.Object, want)
		}
	}
	select {
	case ch := <-some.C:
		t.Fatalf("watcher of releases and states also got %s/%s", ch.Type, ch.Name)
	case <-time.After(100 * time.Millisecond):
	}
}
