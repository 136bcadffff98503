package agent

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// actionsFile writes an actions file (and scripts) into a folder and loads
// it.
func actionsFile(t *testing.T, content string, scripts map[string]string) (*ActionsFile, error) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "actions.json")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return LoadActions(path)
}

func TestLoadActionsErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"empty", `{}`, "no actions"},
		{"unknown type", `{"actions":{"a":{"type":"shell","exec":["x"]}}}`, `type "shell"`},
		{"system without exec", `{"actions":{"a":{"type":"system"}}}`, "needs exec"},
		{"missing script", `{"actions":{"a":{"type":"script","target":"nope.sh"}}}`, "target"},
		{"script outside", `{"actions":{"a":{"type":"script","target":"../x.sh"}}}`, "lives in the actions file's folder"},
		{"group of unknown", `{"actions":{"a":{"type":"group","actions":["b"]}}}`, `"b", which is not an action`},
		{"onSuccess unknown", `{"actions":{"a":{"type":"system","exec":["true"],"onSuccess":"b"}}}`, "onSuccess names"},
		{"loop", `{"actions":{"a":{"type":"system","exec":["true"],"onSuccess":"b"},"b":{"type":"group","actions":["a"]}}}`, "actions loop"},
		{"bad timeout", `{"actions":{"a":{"type":"system","exec":["true"],"timeout":"soon"}}}`, "timeout"},
		{"unknown field", `{"actions":{"a":{"type":"system","exec":["true"],"shell":true}}}`, "field shell not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := actionsFile(t, tt.content, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadActions = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRunActions(t *testing.T) {
	var (
		mu   sync.Mutex
		hits []string
	)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits = append(hits, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Image"))
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer api.Close()
	t.Setenv("AGENT_SECRET", "must-not-leak")
	f, err := actionsFile(t, `{
  "config": {"home": "/srv/app", "greeting": "hello"},
  "setenv": {"APP_HOME": "${home}"},
  "actions": {
    "echo": {"type": "system", "exec": ["sh", "-c", "echo $0 $APP_HOME $IMAGE; env", "${greeting}"], "params": {"IMAGE": {"env": "IMAGE"}}},
    "script": {"type": "script", "target": "s.sh", "args": ["${IMAGE}"], "onSuccess": "notify", "params": {"IMAGE": {}}},
    "notify": {"type": "http", "method": "POST", "url": "`+api.URL+`/notify", "headers": {"X-Image": "${IMAGE}"}},
    "bad-http": {"type": "http", "url": "`+api.URL+`/fail"},
    "fail": {"type": "system", "exec": ["sh", "-c", "echo nope; exit 3"]},
    "both": {"type": "group", "actions": ["echo", "fail", "echo"]},
    "undefined": {"type": "system", "exec": ["echo", "${NOPE}"]},
    "slow": {"type": "system", "exec": ["sh", "-c", "sleep 30 & sleep 30"], "timeout": "300ms"},
    "loud": {"type": "system", "exec": ["sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x"]}
  }
}`, map[string]string{"s.sh": "#!/bin/sh\necho script got $1\n"})
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{File: f, Env: map[string]string{"REFLEX_SERVICE": "bct"}, OutputLimit: 4096}
	params := map[string]string{"IMAGE": "ghcr.io/acme/bct:1.2.3"}
	ctx := context.Background()

	res := r.Run(ctx, "echo", params)
	if !res.OK || !strings.Contains(res.Output, "hello /srv/app ghcr.io/acme/bct:1.2.3") || !strings.Contains(res.Output, "REFLEX_SERVICE=bct") {
		t.Fatalf("echo: %+v", res)
	}
	if strings.Contains(res.Output, "must-not-leak") {
		t.Fatal("the agent's environment leaked into the action")
	}

	// Parameters come from webhooks: one the action does not declare
	// refuses the whole job, before anything runs.
	res = r.Run(ctx, "echo", map[string]string{"IMAGE": "x", "greeting": "pwned", "LD_PRELOAD": "/tmp/evil.so", "PATH": "/tmp/evil", "REFLEX_SERVICE": "other"})
	if res.OK || !errors.Is(res.Err, ErrParams) || !res.Permanent || res.Output != "" {
		t.Fatalf("undeclared parameters: %+v, want refused before running", res)
	}

	res = r.Run(ctx, "script", params)
	mu.Lock()
	seen := append([]string(nil), hits...)
	mu.Unlock()
	if !res.OK || !strings.Contains(res.Output, "script got ghcr.io/acme/bct:1.2.3") || len(seen) != 1 || seen[0] != "POST /notify ghcr.io/acme/bct:1.2.3" {
		t.Fatalf("script then notify: %+v, hits %v", res, seen)
	}

	tests := []struct {
		action, want string
		code         int
		permanent    bool
	}{
		{"fail", "exited with status 3", 3, false},
		{"both", "action fail: exited with status 3", 3, false},
		{"bad-http", "answered 502", 502, false},
		{"undefined", "${NOPE} is not a job parameter", -1, true},
		{"slow", "timed out after 300ms", -1, false},
	}
	for _, tt := range tests {
		start := time.Now()
		res := r.Run(ctx, tt.action, nil)
		if res.OK || res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) || res.ExitCode != tt.code || res.Permanent != tt.permanent {
			t.Errorf("%s: %+v, want failure %q (code %d, permanent %v)", tt.action, res, tt.want, tt.code, tt.permanent)
		}
		if time.Since(start) > 10*time.Second {
			t.Errorf("%s took %s: its processes were not stopped", tt.action, time.Since(start))
		}
	}
	if res := r.Run(ctx, "both", nil); strings.Count(res.Output, "--- echo") != 1 {
		t.Errorf("a group went on after a failure:\n%s", res.Output)
	}
	res = r.Run(ctx, "loud", nil)
	if !res.OK || len(res.Output) > 4200 || !strings.Contains(res.Output, "more bytes not kept") {
		t.Errorf("loud output kept %d bytes, want it bounded to 4 KiB", len(res.Output))
	}
}
