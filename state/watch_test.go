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
