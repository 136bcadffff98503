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

// TestAgentKeys: an agent's key authenticates as an agent bound to the
// zone its stored key names; the schema refuses an agent key without a
// zone, and a zone on a key that is not an agent's.
func TestAgentKeys(t *testing.T) {
	ctx := context.Background()
	store := state.New(redistest.New(t).Client, state.Options{})
	tests := []struct {
		name     string
		doc      map[string]any
		wantErr  bool
		wantKind string
		wantZone string
	}{
		{"agent key", map[string]any{"name": "edge-1", "kind": "agent", "zone": "production"}, false, auth.KindAgent, "production"},
		{"user key", map[string]any{"name": "ci", "kind": "user"}, false, "", ""},
		{"key without a kind", map[string]any{"name": "ops"}, false, "", ""},
		{"agent key without a zone", map[string]any{"name": "edge-2", "kind": "agent"}, true, "", ""},
		{"zone on a user key", map[string]any{"name": "ci-2", "zone": "production"}, true, "", ""},
		{"unknown kind", map[string]any{"name": "x", "kind": "robot", "zone": "production"}, true, "", ""},
	}
	a := auth.NewAuthenticator(store, "", time.Minute)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, _, err := auth.CreateKey(ctx, store, state.NewObject(state.TypeAPIKey, tt.doc), "test")
			if tt.wantErr {
				if !errors.Is(err, state.ErrInvalid) {
					t.Fatalf("create = %v, want an invalid object", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := a.Authenticate(ctx, "Bearer "+key)
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind != tt.wantKind || c.Zone != tt.wantZone {
				t.Errorf("caller kind %q zone %q, want %q %q", c.Kind, c.Zone, tt.wantKind, tt.wantZone)
			}
		})
	}
}
