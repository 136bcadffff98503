package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// TestCacheFollowsItsClock: a verified key is trusted without reading it
// again until the cache TTL has passed on the authenticator's clock.
func TestCacheFollowsItsClock(t *testing.T) {
	ctx := context.Background()
	store := state.New(redistest.New(t).Client, state.Options{})
	key, _, err := auth.CreateKey(ctx, store, state.NewObject(state.TypeAPIKey, map[string]any{"name": "ci"}), "test")
	if err != nil {
		t.Fatal(err)
	}
	a := auth.NewAuthenticator(store, "", time.Minute)
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	a.Now = func() time.Time { return at }
	if _, err := a.Authenticate(ctx, "Bearer "+key); err != nil {
		t.Fatalf("a new key was refused: %v", err)
	}
	// Deleted behind the authenticator's back: nothing tells it to forget.
	if err := store.Delete(ctx, state.TypeAPIKey, "ci", 0); err != nil {
		t.Fatal(err)
	}
	at = at.Add(time.Minute - time.Second)
	if _, err := a.Authenticate(ctx, "Bearer "+key); err != nil {
		t.Fatalf("a cached key was refused before its TTL passed: %v", err)
	}
	at = at.Add(time.Second)
	if _, err := a.Authenticate(ctx, "Bearer "+key); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("a deleted key was still trusted after the TTL: %v", err)
	}
}
