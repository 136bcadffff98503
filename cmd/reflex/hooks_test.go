package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/reflexops/reflex/internal/redistest"
)

// fakeRepoHooks is GitHub's hooks API for one repository, acme/api: it
// lists and creates hooks, and refuses any other request.
func fakeRepoHooks(t *testing.T) *httptest.Server {
	var mu sync.Mutex
	var list []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer gh-cli-token" && r.Header.Get("Authorization") != "token gh-cli-token" {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch path := strings.TrimPrefix(r.URL.Path, "/api/v3"); {
		case r.Method == http.MethodGet && path == "/repos/acme/api/hooks":
			json.NewEncoder(w).Encode(list)
		case r.Method == http.MethodPost && path == "/repos/acme/api/hooks":
			var h map[string]any
			json.NewDecoder(r.Body).Decode(&h)
			h["id"] = len(list) + 1
			delete(h["config"].(map[string]any), "secret")
			list = append(list, h)
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(h)
		default:
			t.Errorf("unexpected %s %s", r.Method, path)
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestHooksCLI: reflex hooks plan shows the hook to create (exit 2 with
// --detailed-exitcode, plain text when piped, progress on standard
// error), apply creates it, and the next plan exits 0 with nothing to
// change.
func TestHooksCLI(t *testing.T) {
	gh := fakeRepoHooks(t)
	dir := t.TempDir()
	cfg := `sources:
  - name: acme-github
    connector: github
    hooks: {provider: github, repositories: [acme/api], events: [push]}
  - name: acme-hub
    connector: dockerhub
    secrets: [hub-url-token-5e8a]
encryption:
  keys: [{id: k1, secret: "` + strings.Repeat("A", 43) + `="}]
hooks:
  public_url: https://reflex.example.com
  github: {token: env:GH_HOOKS_TOKEN, api_url: "` + gh.URL + `/api/v3/"}
`
	path := filepath.Join(dir, "reflex.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	redisURL := ""
	if os.Getenv("REDIS_URL") != "" {
		redisURL = redistest.New(t).URL
	}
	p := serveWith(t, redisURL, path, []string{"GH_HOOKS_TOKEN=gh-cli-token"})
	env := []string{"REFLEX_URL=" + p.url, "REFLEX_APIKEY=" + e2eAdminKey}

	out, errOut, code := reflexCmd(t, env, "hooks", "plan", "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "github repository acme/api:\n  + hook of acme-github") || !strings.Contains(out, "events: push") ||
		!strings.Contains(out, "secret: (set; not shown)") || strings.Contains(out, "\x1b[") || !strings.Contains(errOut, "github repository acme/api: listing hooks") {
		t.Fatalf("plan: exit %d\n%s\nstderr: %s", code, out, errOut)
	}
	out, errOut, code = reflexCmd(t, env, "hooks", "apply", "--json")
	var res struct {
		Applied []struct {
			Op     string `json:"op"`
			HookID string `json:"hook_id"`
		} `json:"applied"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Applied) != 1 || res.Applied[0].Op != "create" || res.Applied[0].HookID != "1" {
		t.Fatalf("apply: exit %d\n%s\nstderr: %s", code, out, errOut)
	}
	out, _, code = reflexCmd(t, env, "hooks", "plan", "--detailed-exitcode")
	if code != 0 || !strings.Contains(out, "No changes: 1 hooks are as declared.") {
		t.Fatalf("second plan: exit %d\n%s", code, out)
	}
	out, errOut, code = reflexCmd(t, env, "hooks", "list")
	if code != 0 || !strings.Contains(out, "github repository acme/api") || !strings.Contains(out, "acme-github") || !strings.Contains(out, "push") {
		t.Fatalf("list: exit %d\n%s\nstderr: %s", code, out, errOut)
	}
	// Docker Hub has no hook API: setup prints the URL with its token,
	// to a key that may read the source's secrets.
	out, errOut, code = reflexCmd(t, env, "hooks", "setup", "acme-hub")
	if code != 0 || !strings.Contains(out, "https://reflex.example.com/hooks/acme-hub/hub-url-token-5e8a") || !strings.Contains(out, "keep it as one") {
		t.Fatalf("setup: exit %d\n%s\nstderr: %s", code, out, errOut)
	}
	if _, errOut, code := reflexCmd(t, env, "hooks", "plan", "nobody"); code != 1 || !strings.Contains(errOut, "no hooks are declared for source nobody") {
		t.Fatalf("plan of an unknown source: exit %d, %s", code, errOut)
	}
}
