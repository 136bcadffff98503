package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/server"
)

func TestAPIKeys(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.KeyCacheTTL = time.Millisecond })
	r, _ := master(t, in, "POST", "/api/v1/apikey", `{"name":"ci","description":"the CI system","groups":["builders"]}`)
	var created struct{ Key string }
	decode(t, r, &created)
	if r.Code != 201 || !strings.HasPrefix(created.Key, "ci.") || len(created.Key) < 40 {
		t.Fatalf("create answered %d %s, want 201 with a ci.<secret> key", r.Code, r.Body)
	}
	secret := strings.TrimPrefix(created.Key, "ci.")

	// The stored form holds a hash, never the secret.
	raw, err := in.Redis.HGet(context.Background(), keyspace.Object("apikey", "ci"), "doc").Result()
	if err != nil || strings.Contains(raw, secret) || !strings.Contains(raw, `"hash":"sha256:`) {
		t.Fatalf("stored API key %q (%v) is not a hash only", raw, err)
	}
	r, _ = master(t, in, "GET", "/api/v1/apikey/ci", "")
	if strings.Contains(string(r.Body), secret) {
		t.Fatalf("reading the key shows its secret: %s", r.Body)
	}

	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"no key", "", 401},
		{"not a bearer", "Basic " + created.Key, 401},
		{"no secret", "Bearer ci", 401},
		{"wrong secret", "Bearer ci.AAAA", 401},
		{"unknown key", "Bearer nobody." + secret, 401},
		{"valid key, no policy allows it", "Bearer " + created.Key, 403},
		{"admin key", "Bearer " + adminKey, 200},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", in.URL+"/api/v1/events", nil)
		if tt.header != "" {
			req.Header.Set("Authorization", tt.header)
		}
		if r := do(t, req); r.Code != tt.want || (tt.want != 200 && r.Status != "failed") {
			t.Errorf("%s: answered %d %s, want %d", tt.name, r.Code, r.Body, tt.want)
		} else if strings.Contains(string(r.Body), secret) {
			t.Errorf("%s: the answer echoes the secret", tt.name)
		}
	}

	// Rotation: a second secret works beside the first; removing the first
	// stops it; the last one cannot be removed.
	r, _ = master(t, in, "POST", "/api/v1/apikey/ci/secrets", "")
	var rotated struct{ Key string }
	decode(t, r, &rotated)
	if r.Code != 201 || rotated.Key == created.Key {
		t.Fatalf("rotation answered %d %s", r.Code, r.Body)
	}
	for _, key := range []string{created.Key, rotated.Key} {
		if r, _ := call(t, in, key, "GET", "/api/v1/events", ""); r.Code != 403 {
			t.Fatalf("key answered %d during rotation, want 403 (authenticated)", r.Code)
		}
	}
	var doc map[string]any
	r, _ = master(t, in, "GET", "/api/v1/apikey/ci", "")
	decode(t, r, &doc)
	oldID := doc["secrets"].([]any)[0].(map[string]any)["id"].(string)
	if r, _ := master(t, in, "DELETE", "/api/v1/apikey/ci/secrets/"+oldID, ""); r.Code != 200 {
		t.Fatalf("removing the old secret answered %d %s", r.Code, r.Body)
	}
	time.Sleep(10 * time.Millisecond) // past the key cache
	if r, _ := call(t, in, created.Key, "GET", "/api/v1/events", ""); r.Code != 401 {
		t.Fatalf("the removed secret answered %d, want 401", r.Code)
	}
	decode(t, must(master(t, in, "GET", "/api/v1/apikey/ci", "")), &doc)
	lastID := doc["secrets"].([]any)[0].(map[string]any)["id"].(string)
	if r, _ := master(t, in, "DELETE", "/api/v1/apikey/ci/secrets/"+lastID, ""); r.Code != 400 {
		t.Fatalf("removing the last secret answered %d", r.Code)
	}

	for _, w := range []struct{ method, body string }{
		{"PATCH", `{"secrets":[]}`},
		{"PUT", `{"secrets":[{"id":"x","hash":"sha256:` + strings.Repeat("0", 64) + `"}]}`},
	} {
		if r, _ := master(t, in, w.method, "/api/v1/apikey/ci", w.body); r.Code != 400 || !strings.Contains(r.Message, "secrets are created by Reflex") {
			t.Errorf("%s of secrets answered %d %s", w.method, r.Code, r.Body)
		}
	}
	if r, _ := master(t, in, "PATCH", "/api/v1/apikey/ci", `{"description":"renamed"}`); r.Code != 200 {
		t.Fatalf("editing the description answered %d %s", r.Code, r.Body)
	}
	if r, _ := call(t, in, rotated.Key, "GET", "/api/v1/events", ""); r.Code != 403 {
		t.Fatalf("an edit of the description broke the key: %d", r.Code)
	}
}

func must(r reply, _ string) reply { return r }

// TestMasterKeyBootstrap: without REFLEX_ADMIN_KEY the first start creates
// a master key and hands it over once; the next start on the same Redis
// does not.
func TestMasterKeyBootstrap(t *testing.T) {
	rdb := newRedis(t)
	var mu sync.Mutex
	var keys []string
	onKey := func(o *server.Options) {
		o.AdminKey = ""
		o.OnMasterKey = func(k string) { mu.Lock(); keys = append(keys, k); mu.Unlock() }
	}
	in := start(t, rdb, onKey)
	start(t, rdb, onKey)
	mu.Lock()
	defer mu.Unlock()
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "master.") {
		t.Fatalf("master keys handed over: %q, want exactly one", keys)
	}
	if r, _ := call(t, in, keys[0], "GET", "/api/v1/events", ""); r.Code != 200 {
		t.Fatalf("the master key answered %d", r.Code)
	}
	if r, _ := call(t, in, adminKey, "GET", "/api/v1/events", ""); r.Code != 401 {
		t.Fatalf("an unset admin key was accepted: %d", r.Code)
	}
}
