package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/redistest"
)

// TestServeChecksBeforeTouchingRedis: a bad setting or a busy port stops
// serve before it writes anything to Redis (no configuration applied, no
// master key minted and printed).
func TestServeChecksBeforeTouchingRedis(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"address not an address", []string{"--addr", "nonsense"}, "--addr nonsense"},
		{"port in use", []string{"--addr", busy.Addr().String()}, "address already in use"},
		{"proxy not an address", []string{"--addr", "127.0.0.1:0", "--trusted-proxies", "notanip"}, `trusted proxy "notanip"`},
		{"budget under the largest body", []string{"--addr", "127.0.0.1:0", "--max-body-in-flight", "1MiB"}, "--max-body-in-flight"},
		{"relative secrets folder", []string{"--addr", "127.0.0.1:0", "--secret-dir", "secrets"}, "must be an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := redistest.New(t)
			p := startRaw(t, []string{"REDIS_URL=" + r.URL}, append([]string{"--config", writeConfig(t)}, tt.args...)...)
			select {
			case err := <-p.done:
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
					t.Fatalf("exit = %v, want status 1", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("serve did not stop")
			}
			out := p.logs.String()
			if last := lastLine(out); !strings.HasPrefix(last, "reflex: ") || !strings.Contains(last, tt.want) {
				t.Fatalf("last line %q, want a reflex: line containing %q", last, tt.want)
			}
			if strings.Contains(out, "master API key") {
				t.Fatalf("a master key was minted before the bad setting was noticed:\n%s", out)
			}
			for _, pattern := range []string{"reflex:*", "asynq:*"} {
				if keys, err := r.Client.Keys(context.Background(), pattern).Result(); err != nil || len(keys) != 0 {
					t.Fatalf("Redis holds %v (%v) after a start that failed its checks", keys, err)
				}
			}
		})
	}
}

// TestCommandsNameWhatTheyNeed: worker refuses to run without REDIS_URL;
// agent with no flags names every required flag, whatever REFLEX_*
// variables are set.
func TestCommandsNameWhatTheyNeed(t *testing.T) {
	env := []string{"REFLEX_ZONE=production", "REFLEX_ACTIONS=/dev/null", "REFLEX_PUBLIC_KEY=k1=x"}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"worker"}, "REDIS_URL is required"},
		{[]string{"agent"}, `required flag(s) "actions", "public-key", "url", "zone" not set`},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			cmd := exec.Command(binary, tt.args...)
			cmd.Env = append(withoutEnv(os.Environ(), "REDIS_URL"), env...)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit = %v, want status 1:\n%s", err, out)
			}
			if last := lastLine(string(out)); !strings.Contains(last, tt.want) {
				t.Fatalf("last line %q, want it to contain %q", last, tt.want)
			}
		})
	}
}

// TestUnrelatedVariablesChangeNothing: only the variables a flag's help
// names set it; REFLEX_VERSION, REFLEX_ACTION, REFLEX_DELIVERY and the
// like (an agent exports several to its actions) are ignored.
func TestUnrelatedVariablesChangeNothing(t *testing.T) {
	p := serve(t)
	env := []string{"REFLEX_APIKEY=" + e2eAdminKey, "REFLEX_VERSION=1.4.2", "REFLEX_ACTION=deploy", "REFLEX_DELIVERY=d-1", "REFLEX_OUTPUT=nonsense", "REFLEX_MATCH=[", "E2E_SECRET=" + e2eSecret}
	if _, stderr, code := reflexCmd(t, env, "state", "get", "service", "nope", "--url", p.url); code != 1 || !strings.Contains(stderr, "404 Not Found") {
		t.Errorf("state get with REFLEX_VERSION set = %d %q, want the server's 404", code, stderr)
	}
	if stdout, stderr, code := reflexCmd(t, env, "send", "--url", p.url, "--source", "acme-github", "--secret", "env:E2E_SECRET", "../../fixtures/github/push.branch.json"); code != 0 || strings.Contains(stdout, `"id":"d-1"`) {
		t.Errorf("send with REFLEX_DELIVERY set = %d %q %q, want a fresh delivery id", code, stdout, stderr)
	}
	if _, stderr, code := reflexCmd(t, env, "state", "list", "service", "--url", p.url); code != 0 {
		t.Errorf("state list with REFLEX_OUTPUT and REFLEX_MATCH set = %d %q", code, stderr)
	}
	help, _, _ := reflexCmd(t, nil, "serve", "--help")
	for _, want := range []string{"[$REFLEX_ADDR]", "[$REFLEX_CONFIG]", "[$REFLEX_MAX_BODY]", "[$REFLEX_LOG_FORMAT]"} {
		if !strings.Contains(help, want) {
			t.Errorf("serve --help does not name %s", want)
		}
	}
}

// TestDeleteAPIKeyCommand: a key is revoked with one command.
func TestDeleteAPIKeyCommand(t *testing.T) {
	p := serve(t)
	env := []string{"REFLEX_APIKEY=" + e2eAdminKey}
	stdout, stderr, code := reflexCmd(t, env, "state", "create", "apikey", "-c", `{"name":"ci"}`, "-o", "json", "--url", p.url)
	var created struct{ Key string }
	if code != 0 || json.Unmarshal([]byte(stdout), &created) != nil || created.Key == "" {
		t.Fatalf("create a key = %d %q %q", code, stdout, stderr)
	}
	if _, stderr, code := reflexCmd(t, env, "state", "delete", "apikey", "ci", "--url", p.url); code != 0 {
		t.Fatalf("state delete apikey ci = %d %q", code, stderr)
	}
	if _, stderr, code := reflexCmd(t, []string{"REFLEX_APIKEY=" + created.Key}, "state", "list", "service", "--url", p.url); code != 1 || !strings.Contains(stderr, "401") {
		t.Fatalf("the deleted key still answers: %d %q", code, stderr)
	}
}

// TestJSONLogs: with --log-format json every line of the output is one
// JSON object (the master key's banner too); each request's line names its
// request id (the caller's X-Request-Id, answered back), the API key's
// name, and its duration in milliseconds; a failed request is logged once.
func TestJSONLogs(t *testing.T) {
	srv := redistest.StartServer(t)
	addr := freeAddr(t)
	p := startRaw(t, []string{"REDIS_URL=" + srv.URL}, "--addr", addr, "--config", writeConfig(t), "--log-format", "json")
	waitReady(t, p, addr)
	var key string
	for _, rec := range jsonLines(t, p.logs.String()) {
		if k, ok := rec["master_key"].(string); ok {
			key = k
		}
	}
	if !strings.HasPrefix(key, "master.") {
		t.Fatalf("no master key record in the JSON log:\n%s", p.logs)
	}
	req, _ := http.NewRequest(http.MethodGet, p.url+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Request-Id", "trace-0042")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "trace-0042" {
		t.Errorf("X-Request-Id answered %q, want the caller's", got)
	}
	resp, err = http.Get(p.url + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	var failed struct {
		RequestID string `json:"request_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&failed)
	resp.Body.Close()
	if resp.StatusCode != 401 || failed.RequestID == "" || failed.RequestID != resp.Header.Get("X-Request-Id") {
		t.Errorf("a refused request answered %d with request id %q (header %q)", resp.StatusCode, failed.RequestID, resp.Header.Get("X-Request-Id"))
	}
	// A 5xx: Redis goes away under a delivery.
	srv.Stop()
	_, stderr, _ := reflexCmd(t, []string{"E2E_SECRET=" + e2eSecret}, "send", "--url", p.url, "--source", "acme-github", "--secret", "env:E2E_SECRET", "--delivery", "down-1", "../../fixtures/github/push.branch.json")
	if !strings.Contains(stderr, "503") {
		t.Fatalf("a delivery with Redis down: %q, want 503", stderr)
	}
	// The access line is written once the answer has gone out: wait for it.
	var mine, down []map[string]any
	for deadline := time.Now().Add(5 * time.Second); len(down) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mine, down = nil, nil
		for _, rec := range jsonLines(t, p.logs.String()) {
			switch rec["request_id"] {
			case "trace-0042":
				mine = append(mine, rec)
			}
			if rec["delivery_id"] == "down-1" || (rec["path"] == "/hooks/acme-github" && rec["status"] == float64(503)) {
				down = append(down, rec)
			}
		}
	}
	if len(mine) != 1 || mine[0]["apikey"] != "master" || mine[0]["msg"] != "http request" {
		t.Fatalf("log lines of request trace-0042 = %v, want one access line naming the key", mine)
	}
	if _, ok := mine[0]["duration_ms"].(float64); !ok {
		t.Errorf("duration_ms = %#v, want a number of milliseconds", mine[0]["duration_ms"])
	}
	if strings.Contains(p.logs.String(), strings.TrimPrefix(key, "master.")) && strings.Count(p.logs.String(), key) > 1 {
		t.Error("the master key's secret appears in the log beyond its one record")
	}
	if len(down) != 1 || down[0]["level"] != "ERROR" || down[0]["cause"] == nil {
		t.Fatalf("log lines of the 503 = %v, want one error line with its cause", down)
	}
}

// jsonLines decodes every line of a log, failing on one that is not JSON.
func jsonLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("a log line is not JSON: %q", sc.Text())
		}
		out = append(out, rec)
	}
	return out
}

// TestEvictionRefused: serve refuses a Redis that may evict keys, unless
// told to run anyway.
func TestEvictionRefused(t *testing.T) {
	srv := redistest.StartServerWith(t, redistest.ServerOptions{Args: []string{"--maxmemory-policy", "allkeys-lru"}})
	p := startRaw(t, []string{"REDIS_URL=" + srv.URL, "REFLEX_ADMIN_KEY=" + e2eAdminKey}, "--addr", "127.0.0.1:0")
	select {
	case err := <-p.done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("exit = %v, want 1", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve started on an evicting Redis")
	}
	if last := lastLine(p.logs.String()); !strings.Contains(last, "maxmemory-policy allkeys-lru") || !strings.Contains(last, "--allow-redis-eviction") {
		t.Fatalf("last line %q, want the policy named and the way out", last)
	}
	addr := freeAddr(t)
	p = startRaw(t, []string{"REDIS_URL=" + srv.URL, "REFLEX_ADMIN_KEY=" + e2eAdminKey}, "--addr", addr, "--allow-redis-eviction")
	waitReady(t, p, addr)
	if !strings.Contains(p.logs.String(), "allkeys-lru") {
		t.Errorf("no warning about eviction in the log:\n%s", p.logs)
	}
}

// TestMemoryBoundedUnderLargeUnsignedPosts: a hundred unsigned 25 MiB
// deliveries in flight at once do not drive the server's memory past its
// body budget: beyond it they are answered 503, and the server keeps
// serving.
func TestMemoryBoundedUnderLargeUnsignedPosts(t *testing.T) {
	addr := freeAddr(t)
	p := startRaw(t, []string{"REFLEX_ADMIN_KEY=" + e2eAdminKey}, "--addr", addr, "--config", writeConfig(t), "--max-body-in-flight", "64MiB")
	waitReady(t, p, addr)
	idle := peakRSS(t, p.cmd.Process.Pid)
	const posts, size = 100, 25 << 20
	var wg sync.WaitGroup
	codes := make(chan int, posts)
	for i := range posts {
		wg.Go(func() {
			// Half declare their length, half are sent chunked.
			body := io.LimitReader(zeros{}, size)
			req, _ := http.NewRequest(http.MethodPost, p.url+"/hooks/acme-github", body)
			if i%2 == 0 {
				req.ContentLength = size
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("big-%d", i))
			req.Header.Set("X-Hub-Signature-256", "sha256=00")
			resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
			if err != nil {
				codes <- 0 // the server closed the connection on a refusal
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	peak := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("answers %v; RSS idle %d MiB, peak %d MiB (%.1f× idle)", count, idle>>20, peak>>20, float64(peak)/float64(idle))
	if count[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no delivery was refused for the budget: %v", count)
	}
	// The bound is the budget's, above what the idle server holds: Go
	// lets its heap reach about twice what is live before it collects,
	// and a body that grows holds its old buffer beside the new one
	// until then, so up to about six times the budget. Unbounded, the
	// 2.5 GiB posted would show.
	const budget = 64 << 20
	if limit := idle + 6*budget; peak > limit {
		t.Fatalf("peak RSS %d MiB, want under %d MiB: the idle %d MiB and six times the 64 MiB body budget", peak>>20, limit>>20, idle>>20)
	}
	if _, stderr, code := reflexCmd(t, []string{"E2E_SECRET=" + e2eSecret}, "send", "--url", p.url, "--source", "acme-github", "--secret", "env:E2E_SECRET", "../../fixtures/github/push.branch.json"); code != 0 {
		t.Fatalf("after the flood, a delivery failed: %s", stderr)
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// peakRSS reads a process's peak resident memory (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("cannot read the server's memory: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// TestEventsCommand: reflex events pages through events and shows, on
// one, the triggers that could not decide on it.
func TestEventsCommand(t *testing.T) {
	p := serve(t)
	env := []string{"REFLEX_APIKEY=" + e2eAdminKey, "E2E_SECRET=" + e2eSecret}
	trigger := `{"name":"to-nowhere","on":"event.kind == \"code.pushed\"","service":"missing","action":"deploy"}`
	if _, stderr, code := reflexCmd(t, env, "state", "create", "trigger", "-c", trigger, "--url", p.url); code != 0 {
		t.Fatalf("create the trigger: %s", stderr)
	}
	var problems []any
	for i := 0; len(problems) == 0; i++ {
		if i == 100 {
			t.Fatal("no event recorded the trigger's problem")
		}
		id := fmt.Sprintf("ev-%d", i)
		if _, stderr, code := reflexCmd(t, env, "send", "--url", p.url, "--source", "acme-github", "--secret", "env:E2E_SECRET", "--delivery", id, "../../fixtures/github/push.branch.json"); code != 0 {
			t.Fatal(stderr)
		}
		waitEvent(t, p, id)
		stdout, stderr, code := reflexCmd(t, env, "events", "get", id, "-o", "json", "--url", p.url)
		var ev map[string]any
		if code != 0 || json.Unmarshal([]byte(stdout), &ev) != nil {
			t.Fatalf("events get = %d %q %q", code, stdout, stderr)
		}
		problems, _ = ev["trigger_errors"].([]any)
	}
	if msg := fmt.Sprint(problems[0]); !strings.Contains(msg, `trigger to-nowhere: no such service "missing"`) {
		t.Fatalf("trigger_errors = %v", problems)
	}
	if _, stderr, code := reflexCmd(t, env, "send", "--url", p.url, "--source", "acme-github", "--secret", "env:E2E_SECRET", "../../fixtures/github/push.branch.json"); code != 0 {
		t.Fatal(stderr)
	}
	stdout, stderr, code := reflexCmd(t, env, "events", "list", "--limit", "1", "--url", p.url)
	if code != 0 || strings.Count(strings.TrimSpace(stdout), "\n") != 1 || !strings.Contains(stderr, "more follow: add --cursor ") {
		t.Fatalf("events list --limit 1 = %d %q %q, want a header, one row and how to see more", code, stdout, stderr)
	}
	cursor := strings.Fields(strings.TrimPrefix(strings.TrimSpace(stderr), "reflex: more follow: add --cursor "))[0]
	next, _, code := reflexCmd(t, env, "events", "list", "--limit", "1", "--cursor", cursor, "--url", p.url)
	if code != 0 || next == stdout {
		t.Fatalf("the page after the cursor = %d %q, want another event", code, next)
	}
	all, _, code := reflexCmd(t, env, "events", "list", "--all", "-o", "json", "--url", p.url)
	var every []map[string]any
	if code != 0 || json.Unmarshal([]byte(all), &every) != nil || len(every) < 2 {
		t.Fatalf("events list --all = %d %q", code, all)
	}
}
