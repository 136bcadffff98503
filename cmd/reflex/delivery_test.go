package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/wire"
)

// securedDelivery is a Reflex with delivery configured, run as processes:
// `reflex serve`, and agents started on demand.
type securedDelivery struct {
	serve    *process
	redisURL string
	pub      string
	dir      string
	mu       sync.Mutex
	github   []string
}

func startSecuredDelivery(t *testing.T, deploy string) *securedDelivery {
	t.Helper()
	return startSecuredDeliveryOn(t, "", deploy)
}

// startSecuredDeliveryOn is startSecuredDelivery on the Redis at redisURL;
// "" picks the test's Redis (embedded, or a database of REDIS_URL).
func startSecuredDeliveryOn(t *testing.T, redisURL, deploy string) *securedDelivery {
	t.Helper()
	s := &securedDelivery{dir: t.TempDir()}
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		s.mu.Lock()
		call := r.Method + " " + r.URL.Path
		if st, ok := body["state"].(string); ok {
			call += " " + st
		}
		s.github = append(s.github, call)
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id": 77}`))
	}))
	t.Cleanup(gh.Close)
	seed, pub, err := wire.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s.pub = "k1=" + pub
	cfg := filepath.Join(s.dir, "reflex.yaml")
	shared, err := os.ReadFile("../../testdata/delivery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, `sources:
  - {name: acme-github, connector: github, secrets: ["env:E2E_SECRET"]}
`+string(shared)+`delivery:
  signing:
    keys: [{id: k1, secret: "env:E2E_SIGNING_KEY"}]
  github:
    token: gh-token
    api_url: `+gh.URL+`
`)
	writeFile(t, filepath.Join(s.dir, "actions.json"), `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c", `+deploy+`], "params": {"COMMIT": {"pattern": "[0-9a-f]{40}", "env": "COMMIT"}}}}}`)
	var extra []string
	switch {
	case redisURL != "":
		s.redisURL = redisURL
	case os.Getenv("REDIS_URL") != "":
		s.redisURL = redistest.New(t).URL
	default:
		addr := freeAddr(t)
		s.redisURL = "redis://" + addr + "/0"
		extra = []string{"--embedded-redis-addr", addr}
	}
	redisForServe := s.redisURL
	if len(extra) > 0 {
		redisForServe = ""
	}
	s.serve = serveWith(t, redisForServe, cfg, []string{"E2E_SIGNING_KEY=" + seed}, extra...)
	for _, args := range [][]string{
		{"create", "pipeline", "-c", `{"name":"web"}`},
		{"create", "service", "-c", `{"name":"web-prod","pipeline":"web","zone":"production"}`},
	} {
		if _, errOut, code := stateCLI(t, s.serve, "", args...); code != 0 {
			t.Fatalf("state %v: %s", args, errOut)
		}
	}
	return s
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// agent starts `reflex agent` for zone production.
func (s *securedDelivery) agent(t *testing.T, name string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary, "agent", "--zone", "production", "--actions", filepath.Join(s.dir, "actions.json"),
		"--public-key", s.pub, "--name", name, "--poll-interval", "20ms", "--shutdown-timeout", "2s", "--state-dir", s.dir)
	cmd.Env = append(withoutEnv(os.Environ(), "REDIS_URL"), "REDIS_URL="+s.redisURL)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs)
		}
	})
	return cmd
}

// record waits until the delivery's record reaches one of statuses.
func (s *securedDelivery) record(t *testing.T, id string, patience time.Duration, statuses ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		out, _, code := stateCLI(t, s.serve, "", "get", "deployment", id)
		var rec map[string]any
		if code == 0 && json.Unmarshal([]byte(out), &rec) == nil && slices.Contains(statuses, rec["status"].(string)) {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s not %v within %s: %s", id, statuses, patience, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *securedDelivery) send(t *testing.T, delivery string) {
	t.Helper()
	_, errOut, code := reflexCmd(t, nil, "send", "--url", s.serve.url, "--source", "acme-github", "--secret", e2eSecret,
		"--delivery", delivery, "../../fixtures/github/push.branch.json")
	if code != 0 {
		t.Fatalf("send: %s", errOut)
	}
}

// TestSecuredDeliveryProcesses runs the whole path with real processes: a
// signed webhook → trigger → signed job → `reflex agent` runs a real
// command that writes a file → the record shows it succeeded with its
// output, the service's release moved, and GitHub received the deployment
// and its statuses.
func TestSecuredDeliveryProcesses(t *testing.T) {
	s := startSecuredDelivery(t, `"echo deploying $COMMIT; echo $COMMIT > deployed.txt"`)
	s.agent(t, "agent-1")
	s.send(t, "e2e-1")
	id := wire.ID("push-web", "acme-github", "e2e-1")
	rec := s.record(t, id, 30*time.Second, "succeeded", "failed", "refused")
	if rec["status"] != "succeeded" || rec["agent"] != "agent-1" || !strings.Contains(rec["output"].(string), "deploying ec26c3e5") {
		t.Fatalf("record = %v", rec)
	}
	raw, err := os.ReadFile(filepath.Join(s.dir, "deployed.txt"))
	if err != nil || strings.TrimSpace(string(raw)) != "ec26c3e57ca3a959ca5aad62de7213c562f8c821" {
		t.Fatalf("deployed.txt = %q, %v", raw, err)
	}
	out, _, _ := stateCLI(t, s.serve, "", "get", "service", "web-prod")
	if !strings.Contains(out, `"release": "ec26c3e"`) || !strings.Contains(out, `"deploying": false`) {
		t.Fatalf("service = %s", out)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := []string{
		"POST /repos/Codertocat/Hello-World/deployments",
		"POST /repos/Codertocat/Hello-World/deployments/77/statuses queued",
		"POST /repos/Codertocat/Hello-World/deployments/77/statuses in_progress",
		"POST /repos/Codertocat/Hello-World/deployments/77/statuses success",
	}
	if !slices.Equal(s.github, want) {
		t.Fatalf("GitHub received %v, want %v", s.github, want)
	}
}

// TestAgentKilledMidJob: an agent killed with SIGKILL while a job runs;
// when an agent starts again, the job runs again, and the record shows
// both attempts.
func TestAgentKilledMidJob(t *testing.T) {
	s := startSecuredDelivery(t, `"echo started >> started.txt; sleep 3; echo $COMMIT >> deployed.txt"`)
	first := s.agent(t, "agent-1")
	s.send(t, "e2e-kill")
	id := wire.ID("push-web", "acme-github", "e2e-kill")
	s.record(t, id, 30*time.Second, "running")
	// The agent reports "running" just before it starts the command: kill
	// it once the command is under way.
	for i := 0; ; i++ {
		if b, _ := os.ReadFile(filepath.Join(s.dir, "started.txt")); strings.Contains(string(b), "started") {
			break
		}
		if i == 500 {
			t.Fatal("the action did not start within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	// asynq returns a job to the queue once its lease (30 s) has been
	// expired for 30 s more; an agent starting after that recovers it at
	// once.
	time.Sleep(61 * time.Second)
	s.agent(t, "agent-2")
	rec := s.record(t, id, 90*time.Second, "succeeded", "failed")
	attempts := rec["attempts"].([]any)
	if rec["status"] != "succeeded" || len(attempts) != 2 {
		t.Fatalf("record = %v, want success after 2 attempts", rec)
	}
	a1, a2 := attempts[0].(map[string]any), attempts[1].(map[string]any)
	if a1["agent"] != "agent-1" || a1["status"] != "interrupted" || a2["agent"] != "agent-2" || a2["status"] != "succeeded" {
		t.Fatalf("attempts = %v", attempts)
	}
	started, _ := os.ReadFile(filepath.Join(s.dir, "started.txt"))
	deployed, _ := os.ReadFile(filepath.Join(s.dir, "deployed.txt"))
	if strings.Count(string(started), "started") != 2 || strings.Count(string(deployed), "\n") != 1 {
		t.Fatalf("started %q, deployed %q: want two starts and one finish", started, deployed)
	}
}
