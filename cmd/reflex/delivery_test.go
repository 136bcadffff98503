package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/nettest"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/wire"
)

// securedDelivery is a Reflex with delivery configured, run as processes:
// `reflex serve`, and agents started on demand, each with its own key and
// nothing else of Reflex's: no Redis address, no Redis credential.
type securedDelivery struct {
	serve *process
	pub   string
	dir   string
	// redisAddr is where the Redis of serve listens, which no agent may
	// reach.
	redisAddr string
	// agentURL is the broker URL agents are given; agentEnv and agentArgs
	// what else they get (a proxy, a CA bundle).
	agentURL  string
	agentEnv  []string
	agentArgs []string
	proxy     *nettest.ConnectProxy

	mu     sync.Mutex
	github []string
}

// deliverySetup says how to start a securedDelivery.
type deliverySetup struct {
	// redisURL is the Redis serve uses; "" picks the test's (embedded, or
	// a database of REDIS_URL).
	redisURL string
	// deploy is the shell command of the agents' deploy action.
	deploy string
	// proxied serves HTTPS, which agents reach as brokerName through a
	// CONNECT proxy, trusting the test's CA by --ca-file.
	proxied bool
	// serveArgs are further arguments of reflex serve.
	serveArgs []string
}

func startSecuredDelivery(t *testing.T, deploy string) *securedDelivery {
	t.Helper()
	return startSecuredDeliveryWith(t, deliverySetup{deploy: deploy})
}

func startSecuredDeliveryWith(t *testing.T, set deliverySetup) *securedDelivery {
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
	writeFile(t, filepath.Join(s.dir, "actions.json"), `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c", `+set.deploy+`], "params": {"COMMIT": {"pattern": "[0-9a-f]{40}", "env": "COMMIT"}}}}}`)
	redisURL := set.redisURL
	args := append([]string{"--config", cfg, "--shutdown-timeout", "5s"}, set.serveArgs...)
	switch {
	case redisURL != "":
	case os.Getenv("REDIS_URL") != "":
		redisURL = redistest.New(t).URL
	default:
		s.redisAddr = freeAddr(t)
		args = append(args, "--embedded-redis-addr", s.redisAddr)
	}
	if redisURL != "" {
		s.redisAddr = redisHostPort(t, redisURL)
	}
	addr := freeAddr(t)
	env := []string{"REFLEX_ADMIN_KEY=" + e2eAdminKey, "REFLEX_ADDR=" + addr, "E2E_SIGNING_KEY=" + seed}
	if redisURL != "" {
		env = append(env, "REDIS_URL="+redisURL)
	}
	var client *http.Client
	if set.proxied {
		ca := nettest.NewCA(t)
		caFile := ca.File
		certFile, keyFile := ca.Issue(brokerName, false, brokerName, "127.0.0.1")
		args = append(args, "--tls-cert", certFile, "--tls-key", keyFile)
		client = ca.Client()
		t.Setenv("SSL_CERT_FILE", caFile) // for the CLI this test runs
		s.proxy = startConnectProxy(t)
		s.agentURL = "https://" + brokerName + ":" + strings.Split(addr, ":")[1]
		s.agentEnv = []string{"HTTPS_PROXY=" + s.proxy.URL}
		s.agentArgs = []string{"--ca-file", caFile}
	}
	s.serve = startRaw(t, env, args...)
	s.serve.client = client
	waitReady(t, s.serve, addr)
	if s.agentURL == "" {
		s.agentURL = s.serve.url
	}
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

// redisHostPort returns the host:port of a redis:// URL.
func redisHostPort(t *testing.T, rawURL string) string {
	t.Helper()
	u := strings.TrimPrefix(strings.TrimPrefix(rawURL, "redis://"), "rediss://")
	if i := strings.LastIndex(u, "@"); i >= 0 {
		u = u[i+1:]
	}
	host, _, _ := strings.Cut(u, "/")
	return host
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newAgentKey creates the key of an agent of zone production, as an operator
// does, and returns it.
func newAgentKey(t *testing.T, p *process, name string) string {
	t.Helper()
	out, errOut, code := reflexCmd(t, []string{"REFLEX_URL=" + p.url, "REFLEX_APIKEY=" + e2eAdminKey}, "agents", "add", name, "--zone", "production")
	key, ok := strings.CutPrefix(strings.TrimSpace(out), "REFLEX_APIKEY=")
	if code != 0 || !ok || !strings.HasPrefix(key, name+".") {
		t.Fatalf("reflex agents add %s = %d %q %q", name, code, out, errOut)
	}
	return key
}

// agent starts `reflex agent` for zone production, with its own key, the
// broker's URL, and nothing of Redis in its environment.
func (s *securedDelivery) agent(t *testing.T, name string, extra ...string) *exec.Cmd {
	t.Helper()
	key := newAgentKey(t, s.serve, name)
	args := append([]string{"agent", "--url", s.agentURL, "--zone", "production", "--actions", filepath.Join(s.dir, "actions.json"),
		"--public-key", s.pub, "--shutdown-timeout", "2s", "--state-dir", filepath.Join(s.dir, name)}, s.agentArgs...)
	cmd := exec.Command(binary, append(args, extra...)...)
	env := os.Environ()
	for _, v := range []string{"REDIS_URL", "REFLEX_APIKEY", "REFLEX_URL", "REFLEX_ADMIN_KEY", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE"} {
		env = withoutEnv(env, v)
	}
	cmd.Env = append(append(env, "REFLEX_APIKEY="+key), s.agentEnv...)
	startAgent(t, cmd, name)
	return cmd
}

// startAgent starts an agent's command, kills it when the test ends, and
// shows its output when the test failed.
func startAgent(t *testing.T, cmd *exec.Cmd, name string) {
	t.Helper()
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
}

// checkNoRedis fails unless the agent's process has nothing of Redis in its
// environment and no connection to Redis; when the agent goes through the
// proxy, its only connections are to the proxy.
func (s *securedDelivery) checkNoRedis(t *testing.T, agent *exec.Cmd) {
	t.Helper()
	pid := agent.Process.Pid
	for _, kv := range environOf(t, pid) {
		if strings.Contains(strings.ToUpper(kv), "REDIS") || strings.Contains(kv, s.redisAddr) {
			t.Errorf("the agent's environment holds %q", kv)
		}
	}
	ports := remotePorts(t, pid)
	if len(ports) == 0 {
		t.Error("the agent holds no connection: it should be polling Reflex")
	}
	redisPort := portOf(t, s.redisAddr)
	for _, port := range ports {
		switch {
		case port == redisPort:
			t.Errorf("the agent is connected to Redis (port %d)", port)
		case s.proxy != nil && port != portOf(t, strings.TrimPrefix(s.proxy.URL, "http://")):
			t.Errorf("the agent is connected to port %d, not only to the proxy", port)
		}
	}
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

// waitAgent waits until the agent object says the agent is connected.
func (s *securedDelivery) waitAgent(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _, code := stateCLI(t, s.serve, "", "get", "agent", name)
		if code == 0 && strings.Contains(out, `"status": "connected"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent %s not connected within 20s: %s", name, out)
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

// deployed returns the lines the deploy action wrote to name.
func (s *securedDelivery) lines(name string) []string {
	raw, _ := os.ReadFile(filepath.Join(s.dir, name))
	return strings.Fields(string(raw))
}

// TestSecuredDeliveryProcesses runs the whole path with real processes: a
// signed webhook → trigger → signed job → `reflex agent`, holding only the
// broker's URL and its own key, takes it over HTTP, runs a real command
// that writes a file → the record shows it succeeded with its output, the
// service's release moved, GitHub received the deployment and its
// statuses, and the agent object says who ran it.
func TestSecuredDeliveryProcesses(t *testing.T) {
	s := startSecuredDelivery(t, `"echo deploying $COMMIT; echo $COMMIT > deployed.txt"`)
	health := freeAddr(t)
	agent := s.agent(t, "agent-1", "--health-addr", health)
	s.waitAgent(t, "agent-1")
	resp, err := http.Get("http://" + health + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || h["agent"] != "agent-1" || h["zone"] != "production" {
		t.Fatalf("the agent's /healthz = %d %v", resp.StatusCode, h)
	}
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
	want := []string{
		"POST /repos/Codertocat/Hello-World/deployments",
		"POST /repos/Codertocat/Hello-World/deployments/77/statuses queued",
		"POST /repos/Codertocat/Hello-World/deployments/77/statuses in_progress",
		"POST /repos/Codertocat/Hello-World/deployments/77/statuses success",
	}
	if !slices.Equal(s.github, want) {
		t.Errorf("GitHub received %v, want %v", s.github, want)
	}
	s.mu.Unlock()
	s.checkNoRedis(t, agent)
	list, _, code := reflexCmd(t, []string{"REFLEX_URL=" + s.serve.url, "REFLEX_APIKEY=" + e2eAdminKey}, "agents")
	if code != 0 || !strings.Contains(list, "agent-1") || !strings.Contains(list, "production") || !strings.Contains(list, "connected") {
		t.Errorf("reflex agents = %d\n%s", code, list)
	}
	// A stopped agent says so.
	if err := agent.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = agent.Wait()
	if out, _, _ := stateCLI(t, s.serve, "", "get", "agent", "agent-1"); !strings.Contains(out, `"status": "disconnected"`) {
		t.Errorf("agent after SIGTERM = %s", out)
	}
}

// TestAgentThroughProxy: the agent reaches Reflex over HTTPS through the
// network's CONNECT proxy, by a name only the proxy resolves, trusting the
// network's CA; a delivery runs end to end, and the agent's only
// connections go to the proxy.
func TestAgentThroughProxy(t *testing.T) {
	s := startSecuredDeliveryWith(t, deliverySetup{proxied: true, deploy: `"echo deploying $COMMIT; echo $COMMIT > deployed.txt"`})
	agent := s.agent(t, "agent-1")
	s.waitAgent(t, "agent-1")
	s.send(t, "e2e-proxy")
	rec := s.record(t, wire.ID("push-web", "acme-github", "e2e-proxy"), 30*time.Second, "succeeded", "failed", "refused")
	if rec["status"] != "succeeded" || rec["agent"] != "agent-1" {
		t.Fatalf("record = %v", rec)
	}
	if got := s.lines("deployed.txt"); len(got) != 1 {
		t.Fatalf("deployed %v", got)
	}
	tunnels, refused := s.proxy.Stats()
	if tunnels == 0 || len(refused) > 0 {
		t.Errorf("the proxy opened %d tunnels and refused %v", tunnels, refused)
	}
	s.checkNoRedis(t, agent)
}

// TestAgentKilledMidJob: an agent killed with SIGKILL while a job runs;
// its lease runs out (here after 3 s), another agent takes the job and
// runs it again, and the record shows both attempts. It logs how long the
// job waited after the kill.
func TestAgentKilledMidJob(t *testing.T) {
	s := startSecuredDeliveryWith(t, deliverySetup{
		deploy:    `"date +%s%N >> started.txt; sleep 3; echo $COMMIT >> deployed.txt"`,
		serveArgs: []string{"--agent-lease-ttl", "3s"},
	})
	first := s.agent(t, "agent-1")
	s.waitAgent(t, "agent-1")
	s.send(t, "e2e-kill")
	id := wire.ID("push-web", "acme-github", "e2e-kill")
	s.record(t, id, 30*time.Second, "running")
	// The agent reports "running" just before it starts the command: kill
	// it once the command is under way.
	for i := 0; len(s.lines("started.txt")) == 0; i++ {
		if i == 500 {
			t.Fatal("the action did not start within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = first.Wait()
	s.agent(t, "agent-2")
	rec := s.record(t, id, 60*time.Second, "succeeded", "failed")
	attempts := rec["attempts"].([]any)
	if rec["status"] != "succeeded" || len(attempts) != 2 {
		t.Fatalf("record = %v, want success after 2 attempts", rec)
	}
	a1, a2 := attempts[0].(map[string]any), attempts[1].(map[string]any)
	if a1["agent"] != "agent-1" || a1["status"] != "interrupted" || a2["agent"] != "agent-2" || a2["status"] != "succeeded" {
		t.Fatalf("attempts = %v", attempts)
	}
	started := s.lines("started.txt")
	if len(started) != 2 || len(s.lines("deployed.txt")) != 1 {
		t.Fatalf("started %v, deployed %v: want two starts and one finish", started, s.lines("deployed.txt"))
	}
	ns, err := strconv.ParseInt(started[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	again := time.Unix(0, ns)
	t.Logf("after the kill, the job started again on another agent after %s (lease TTL 3s)", again.Sub(killed).Round(time.Millisecond))
	if wait := again.Sub(killed); wait > 10*time.Second {
		t.Errorf("the job waited %s after its agent died, with a 3s lease", wait)
	}
}

// TestBrokerRestart: Reflex is killed while an agent runs a job, and
// started again on the same address and Redis (a private redis-server that
// keeps its data) before the job's lease runs out; the agent keeps its
// lease, reports the job's end to the new process, and then, reconnected
// by itself, takes the next job from its long poll.
func TestBrokerRestart(t *testing.T) {
	srv := redistest.StartServer(t)
	s := startSecuredDeliveryWith(t, deliverySetup{redisURL: srv.URL,
		deploy: `"touch started; while [ ! -f go ]; do sleep 0.05; done; rm go; echo $COMMIT >> deployed.txt"`})
	s.agent(t, "agent-1")
	s.waitAgent(t, "agent-1")
	s.send(t, "e2e-during-restart")
	during := wire.ID("push-web", "acme-github", "e2e-during-restart")
	s.record(t, during, 30*time.Second, "running")
	for i := 0; len(s.lines("started")) == 0 && i < 500; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.serve.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.serve.done
	addr := strings.TrimPrefix(s.serve.url, "http://")
	// The job ends while Reflex is down: its report waits.
	writeFile(t, filepath.Join(s.dir, "go"), "")
	time.Sleep(time.Second)
	env := []string{"REFLEX_ADMIN_KEY=" + e2eAdminKey, "REFLEX_ADDR=" + addr, "REDIS_URL=" + srv.URL}
	for _, kv := range s.serve.cmd.Env {
		if strings.HasPrefix(kv, "E2E_SIGNING_KEY=") {
			env = append(env, kv)
		}
	}
	s.serve = startRaw(t, env, "--config", filepath.Join(s.dir, "reflex.yaml"), "--shutdown-timeout", "5s")
	waitReady(t, s.serve, addr)
	rec := s.record(t, during, 60*time.Second, "succeeded", "failed", "refused")
	if rec["status"] != "succeeded" || len(rec["attempts"].([]any)) != 1 {
		t.Fatalf("the job that ran across the restart: %v", rec)
	}
	writeFile(t, filepath.Join(s.dir, "go"), "")
	s.send(t, "e2e-after-restart")
	rec = s.record(t, wire.ID("push-web", "acme-github", "e2e-after-restart"), 60*time.Second, "succeeded", "failed", "refused")
	if rec["status"] != "succeeded" || rec["agent"] != "agent-1" {
		t.Fatalf("record = %v", rec)
	}
	if got := s.lines("deployed.txt"); len(got) != 2 {
		t.Fatalf("deployed %v, want each job once", got)
	}
}

// TestActionsCannotReadTheAgentsKey: an action, running as the agent's
// user, finds the agent's key neither in its own environment nor in the
// agent's, through /proc. The agent runs as an unprivileged user (nobody
// when the tests run as root, which may read any process's).
func TestActionsCannotReadTheAgentsKey(t *testing.T) {
	open, err := os.MkdirTemp("", "reflex-agent-open")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(open) })
	for _, dir := range []string{open, filepath.Dir(binary)} {
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	s := startSecuredDelivery(t, `"env > `+open+`/own.txt; cat /proc/$PPID/environ > `+open+`/parent.txt 2>&1; echo read $? >> `+open+`/parent.txt"`)
	actions, err := os.ReadFile(filepath.Join(s.dir, "actions.json"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(open, "actions.json"), string(actions))
	key := newAgentKey(t, s.serve, "agent-1")
	cmd := exec.Command(binary, "agent", "--url", s.agentURL, "--zone", "production", "--actions", filepath.Join(open, "actions.json"),
		"--public-key", s.pub, "--state-dir", filepath.Join(open, "state"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "REFLEX_APIKEY=" + key}
	if os.Getuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	startAgent(t, cmd, "agent-1")
	s.waitAgent(t, "agent-1")
	s.send(t, "e2e-key")
	s.record(t, wire.ID("push-web", "acme-github", "e2e-key"), 30*time.Second, "succeeded")
	_, secret, _ := strings.Cut(key, ".")
	own, _ := os.ReadFile(filepath.Join(open, "own.txt"))
	parent, _ := os.ReadFile(filepath.Join(open, "parent.txt"))
	if len(own) == 0 || !strings.Contains(string(parent), "read ") {
		t.Fatalf("the action did not run as expected: own %q, parent %q", own, parent)
	}
	if strings.Contains(string(own), secret) || strings.Contains(string(parent), secret) {
		t.Fatalf("an action read the agent's key:\nown: %s\nparent: %s", own, parent)
	}
	if strings.Contains(string(parent), "read 0") {
		t.Errorf("an action could read the agent's environment: %s", parent)
	}
}
