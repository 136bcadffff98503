package state_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

func keyRing(t *testing.T, primary string, ids ...string) *state.KeyRing {
	t.Helper()
	var keys []state.Key
	for _, id := range ids {
		keys = append(keys, state.Key{ID: id, Secret: bytes.Repeat([]byte(id[:1]), 32)})
	}
	kr, err := state.NewKeyRing(keys, primary)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestSensitiveSealedAtRest(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	s := state.New(r.Client, state.Options{Keys: keyRing(t, "a1", "a1")})
	o := state.NewObject("state", doc(t, `{"name":"db","sensitive":{"password":"hunter2"}}`))
	if _, err := s.Create(ctx, o, "t"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{keyspace.Object("state", "db"), keyspace.ObjectVersions("state", "db")} {
		vals, err := r.Client.HGetAll(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if strings.Contains(v, "hunter2") {
				t.Fatalf("%s stores the sensitive part in clear: %s", key, v)
			}
		}
	}
	stream, _ := r.Client.XRange(ctx, keyspace.Changes(), "-", "+").Result()
	for _, m := range stream {
		if strings.Contains(m.Values["doc"].(string), "hunter2") {
			t.Fatal("the change stream carries the sensitive part in clear")
		}
	}
	got, err := s.Object(ctx, "state", "db", 0)
	if err != nil {
		t.Fatal(err)
	}
	if masked := got.Document(true)["sensitive"]; !isMaskedDoc(masked) {
		t.Fatalf("unrevealed document shows %v, want the mask", masked)
	}
	if err := s.Reveal(got); err != nil {
		t.Fatal(err)
	}
	if pw := got.Document(true)["sensitive"].(map[string]any)["password"]; pw != "hunter2" {
		t.Fatalf("revealed password = %v", pw)
	}
	if masked := got.Document(false)["sensitive"]; !isMaskedDoc(masked) {
		t.Fatalf("document for a caller without the right shows %v", masked)
	}

	// Writing the masked placeholder back keeps the stored part.
	back := got.Document(false)
	back["note"] = "edited"
	if _, _, err := s.Replace(ctx, state.NewObject("state", back), 0, "t"); err != nil {
		t.Fatal(err)
	}
	again, _ := s.Object(ctx, "state", "db", 0)
	if err := s.Reveal(again); err != nil || again.Sensitive.(map[string]any)["password"] != "hunter2" {
		t.Fatalf("after a write with the mask: %v, %v", again.Sensitive, err)
	}
}

func isMaskedDoc(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m["masked"] == true && len(m) == 1
}

func TestSensitiveKeyRotation(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	old := state.New(r.Client, state.Options{Keys: keyRing(t, "a1", "a1")})
	if _, err := old.Create(ctx, state.NewObject("state", doc(t, `{"name":"x","sensitive":{"v":1}}`)), "t"); err != nil {
		t.Fatal(err)
	}
	rotated := state.New(r.Client, state.Options{Keys: keyRing(t, "b2", "a1", "b2")})
	o, err := rotated.Object(ctx, "state", "x", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := rotated.Reveal(o); err != nil {
		t.Fatalf("the old key no longer opens what it sealed: %v", err)
	}
	if _, _, err := rotated.Merge(ctx, "state", "x", doc(t, `{"sensitive":{"w":2}}`), 0, "t"); err != nil {
		t.Fatal(err)
	}
	raw, _ := r.Client.HGet(ctx, keyspace.Object("state", "x"), "doc").Result()
	if !strings.Contains(raw, `"key":"b2"`) {
		t.Fatalf("a new write was not sealed with the primary key: %s", raw)
	}
	onlyNew := state.New(r.Client, state.Options{Keys: keyRing(t, "b2", "b2")})
	o, _ = onlyNew.Object(ctx, "state", "x", 0)
	if err := onlyNew.Reveal(o); err != nil || o.Sensitive.(map[string]any)["w"] != float64(2) || o.Sensitive.(map[string]any)["v"] != float64(1) {
		t.Fatalf("merged sensitive part = %v, %v", o.Sensitive, err)
	}
	v1, _ := onlyNew.Object(ctx, "state", "x", 1)
	if err := onlyNew.Reveal(v1); !errors.Is(err, state.ErrNoKey) {
		t.Fatalf("revision 1 (sealed with a retired key) = %v, want ErrNoKey", err)
	}
}

func TestSensitiveNeedsAKey(t *testing.T) {
	s := state.New(redistest.New(t).Client, state.Options{})
	_, err := s.Create(context.Background(), state.NewObject("state", doc(t, `{"name":"x","sensitive":{"v":1}}`)), "t")
	if !errors.Is(err, state.ErrNoKey) {
		t.Fatalf("Create with a sensitive part and no key = %v, want ErrNoKey", err)
	}
}

func TestNewKeyRingErrors(t *testing.T) {
	tests := []struct {
		keys    []state.Key
		primary string
		want    string
	}{
		{[]state.Key{{ID: "a", Secret: make([]byte, 16)}}, "a", "want 32 bytes"},
		{[]state.Key{{ID: "a", Secret: make([]byte, 32)}}, "b", `primary encryption key "b"`},
		{[]state.Key{{ID: "a", Secret: make([]byte, 32)}, {ID: "a", Secret: make([]byte, 32)}}, "a", "declared twice"},
	}
	for _, tt := range tests {
		if _, err := state.NewKeyRing(tt.keys, tt.primary); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewKeyRing = %v, want %q", err, tt.want)
		}
	}
}
