package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/github"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/redistest"
)

// binary is the reflex binary built once for the tests in this file.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "reflex-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "reflex")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build reflex:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	e2eSecret   = "e2e-webhook-secret"
	e2eAdminKey = "e2e-admin-key"
)

// process is a running reflex serve.
type process struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan error
	// client reaches url (default http.DefaultClient): one that trusts
	// the test's CA when serve speaks HTTPS.
	client *http.Client
}

func (p *process) httpClient() *http.Client {
	if p.client != nil {
		return p.client
	}
	return http.DefaultClient
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func writeConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "reflex.yaml")
	cfg := "sources:\n  - name: acme-github\n    connector: github\n    secrets: [\"env:E2E_SECRET\"]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serve starts `reflex serve` on a free port, on the test's Redis (the
// embedded one unless REDIS_URL is set), and waits until it is ready.
func serve(t *testing.T, extra ...string) *process {
	t.Helper()
	redisURL := ""
	if os.Getenv("REDIS_URL") != "" {
		redisURL = redistest.New(t).URL
	}
	return serveOn(t, redisURL, extra...)
}

// serveOn starts `reflex serve` on the Redis at redisURL (embedded when
// empty).
func serveOn(t *testing.T, redisURL string, extra ...string) *process {
	t.Helper()
	return serveWith(t, redisURL, writeConfig(t), nil, extra...)
}

// serveWith starts `reflex serve` with a configuration file and extra
// environment variables.
func serveWith(t *testing.T, redisURL, configPath string, extraEnv []string, extra ...string) *process {
	t.Helper()
	addr := freeAddr(t)
	env := append([]string{"REFLEX_ADMIN_KEY=" + e2eAdminKey, "REFLEX_ADDR=" + addr}, extraEnv...)
	if redisURL != "" {
		env = append(env, "REDIS_URL="+redisURL)
	}
	p := startRaw(t, env, append([]string{"--config", configPath, "--shutdown-timeout", "5s"}, extra...)...)
	waitReady(t, p, addr)
	return p
}

// startRaw starts `reflex serve` with exactly the given environment (the
// webhook secret aside) and arguments, without waiting for it.
func startRaw(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(binary, append([]string{"serve"}, args...)...), logs: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Env = append(withoutEnv(withoutEnv(os.Environ(), "REDIS_URL"), "REFLEX_ADMIN_KEY"), append([]string{"E2E_SECRET=" + e2eSecret}, env...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("reflex serve output:\n%s", p.logs)
		}
	})
	return p
}

// waitReady waits until a process answers /readyz at addr, over HTTP, or
// HTTPS when it has a client of its own.
func waitReady(t *testing.T, p *process, addr string) {
	t.Helper()
	p.url = "http://" + addr
	if p.client != nil {
		p.url = "https://" + addr
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if resp, err := p.httpClient().Get(p.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("reflex serve not ready within 15s:\n%s", p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// reflexCmd runs the binary to completion.
func reflexCmd(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return reflexWithInput(t, env, "", args...)
}

// reflexWithInput runs the binary to completion with stdin.
func reflexWithInput(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestTour is the README's one-minute tour with the real binary: serve,
// send a fixture, read the event back.
func TestTour(t *testing.T) {
	p := serve(t)
	stdout, stderr, code := reflexCmd(t, []string{"E2E_SECRET=" + e2eSecret},
		"send", "--url", p.url, "--source", "acme-github", "--secret", "env:E2E_SECRET", "--delivery", "tour-1",
		"../../fixtures/github/push.branch.json")
	if code != 0 || !strings.HasPrefix(stdout, "202 Accepted") || !strings.Contains(stdout, `"id":"tour-1"`) {
		t.Fatalf("send exited %d: %s %s", code, stdout, stderr)
	}
	ev := waitEvent(t, p, "tour-1")
	if ev.Repository.Name != "Codertocat/Hello-World" || ev.Ref != "refs/heads/main" || ev.Commit != "ec26c3e57ca3a959ca5aad62de7213c562f8c821" {
		t.Errorf("event = %+v", ev)
	}
	stdout, _, code = reflexCmd(t, nil,
		"send", "--url", p.url, "--source", "acme-github", "--secret", e2eSecret, "--delivery", "tour-1", "--form",
		"../../fixtures/github/push.branch.json")
	if code != 0 || !strings.Contains(stdout, `"status":"duplicate"`) {
		t.Fatalf("second send = %d %s, want a duplicate", code, stdout)
	}
	_, stderr, code = reflexCmd(t, nil,
		"send", "--url", p.url, "--source", "acme-github", "--secret", "wrong", "../../fixtures/github/push.branch.json")
	if code != 1 || !strings.Contains(stderr, "401 Unauthorized") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("send with a wrong secret = %d %q, want exit 1 with one line naming 401", code, stderr)
	}
	if strings.Contains(p.logs.String(), e2eSecret) {
		t.Error("the server log contains the webhook secret")
	}
	if !strings.Contains(p.logs.String(), "delivery_id=tour-1") {
		t.Error("the access log does not name the delivery id")
	}
}

func waitEvent(t *testing.T, p *process, id string) *event.Event {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, p.url+"/api/v1/events/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+e2eAdminKey)
		resp, err := p.httpClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ev event.Event
		err = json.NewDecoder(resp.Body).Decode(&ev)
		resp.Body.Close()
		if err == nil && ev.Status == event.StatusProcessed {
			return &ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s not processed within 15s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestGracefulShutdown sends SIGTERM while a delivery is half uploaded:
// the request still completes with 202 and the process exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	p := serve(t)
	body, err := os.ReadFile("../../fixtures/github/push.branch.json")
	if err != nil {
		t.Fatal(err)
	}
	h := github.New().(connectors.Simulator)
	header, body := h.Delivery("push", "shutdown-1", body)
	h.Sign(header, body, []byte(e2eSecret))

	conn, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST /hooks/acme-github HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", len(body))
	for k := range header {
		fmt.Fprintf(&req, "%s: %s\r\n", k, header.Get(k))
	}
	req.WriteString("\r\n")
	req.Write(body[:len(body)/2])
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server is now reading the body
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := conn.Write(body[len(body)/2:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer to the in-flight request: %v", err)
	}
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("in-flight request answered %d %s during shutdown, want 202", resp.StatusCode, answer)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("reflex serve exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("reflex serve still running 15s after SIGTERM")
	}
	if !strings.Contains(p.logs.String(), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", p.logs)
	}
}

// TestStartupErrors: bad configurations stop the start with one clear line
// and a non-zero exit, before anything listens.
func TestStartupErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown field", nil, []string{"serve", "--config", write("a.yaml", "sources:\n  - name: a\n    connector: github\n    secrets: [x]\n    secrt: y\n")}, "field secrt not found"},
		{"unset secret", nil, []string{"serve", "--config", write("b.yaml", "sources: [{name: a, connector: github, secrets: ['env:REFLEX_TEST_NO_SUCH_VAR']}]")}, "REFLEX_TEST_NO_SUCH_VAR is empty or not set"},
		{"no secrets", nil, []string{"serve", "--config", write("c.yaml", "sources: [{name: a, connector: github}]")}, "at least one secret is required"},
		{"missing file", nil, []string{"serve", "--config", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"bad redis url", []string{"REDIS_URL=ftp://x"}, []string{"serve"}, "REDIS_URL"},
		{"unreachable redis", []string{"REDIS_URL=redis://127.0.0.1:1/0"}, []string{"serve"}, "cannot reach Redis at redis://127.0.0.1:1/0"},
		{"bad size", nil, []string{"serve", "--max-body", "lots"}, `"lots" is not a size`},
		{"bad env flag", []string{"REFLEX_MAX_BODY=lots"}, []string{"serve"}, "REFLEX_MAX_BODY"},
		{"bad log level", nil, []string{"serve", "--log-level", "loud"}, "--log-level"},
		{"send without secret", nil, []string{"send", "--source", "a", "x.json"}, "--secret is required"},
		{"unknown command", nil, []string{"serv"}, `unknown command "serv"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, tt.args...)
			cmd.Env = append(withoutEnv(os.Environ(), "REDIS_URL"), append(tt.env, "REFLEX_ADDR=127.0.0.1:0")...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit = %v, want status 1; stderr:\n%s", err, stderr.String())
			}
			last := lastLine(stderr.String())
			if !strings.HasPrefix(last, "reflex: ") || !strings.Contains(last, tt.want) {
				t.Fatalf("last line %q, want a reflex: line containing %q", last, tt.want)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range []string{"serve", "worker", "send", "version"} {
		stdout, stderr, code := reflexCmd(t, nil, c, "--help")
		if code != 0 || !strings.Contains(stdout, "Usage:") {
			t.Errorf("%s --help = %d %q %q", c, code, stdout, stderr)
		}
	}
}

// TestServeAndWorkerProcesses runs the intake and the worker as separate
// processes on one real Redis (REDIS_URL), as a scaled deployment would.
func TestServeAndWorkerProcesses(t *testing.T) {
	if os.Getenv("REDIS_URL") == "" {
		t.Skip("separate processes need a shared Redis: set REDIS_URL")
	}
	p := serve(t, "--worker=false")
	redisURL := ""
	for _, kv := range p.cmd.Env {
		if v, ok := strings.CutPrefix(kv, "REDIS_URL="); ok {
			redisURL = v
		}
	}
	w := exec.Command(binary, "worker", "--shutdown-timeout", "5s")
	w.Env = append(withoutEnv(os.Environ(), "REDIS_URL"), "REDIS_URL="+redisURL)
	logs := &syncBuffer{}
	w.Stdout, w.Stderr = logs, logs
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- w.Wait() }()
	t.Cleanup(func() {
		_ = w.Process.Kill()
		if t.Failed() {
			t.Logf("reflex worker output:\n%s", logs.String())
		}
	})
	_, stderr, code := reflexCmd(t, nil, "send", "--url", p.url, "--source", "acme-github", "--secret", e2eSecret,
		"--delivery", "split-1", "../../fixtures/github/workflow_run.completed.json")
	if code != 0 {
		t.Fatalf("send: %s", stderr)
	}
	waitEvent(t, p, "split-1")
	if err := w.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("reflex worker exited with %v after SIGTERM:\n%s", err, logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("reflex worker still running 15s after SIGTERM")
	}
}
