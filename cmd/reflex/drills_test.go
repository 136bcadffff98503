package main

// The fault drills of docs/reliability.md: each starts its own
// redis-server, brokers and agents as processes on loopback, puts them
// under a steady load of signed webhooks, injects one fault, and checks
// through the API that every delivery answered 202 was processed, once.
// Each logs its figures in one line ("drill <name>: sent=… accepted=…
// refused503=… unanswered=… lost=0 recovered_in=…") that the document
// quotes.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/wire"
)

// orphanPatience bounds the wait for every accepted event to be
// processed after a fault: a job whose worker died, or whose dequeue
// answer was lost, waits for asynq's recoverer (a 30 s lease, a further
// 30 s of allowance, a check every minute), so up to about two minutes.
const orphanPatience = 3 * time.Minute

// settle ends a drill's load and checks what every drill checks: only the
// answers a drill allows; every delivery not answered 202 sent once more,
// as its provider would, and accepted or found a duplicate; every 202
// processed once. It logs the drill's figures.
func settle(t *testing.T, l *drillLoad, apiURL string, recovered time.Duration, extra ...string) {
	t.Helper()
	l.finish()
	f := l.figures()
	l.checkAnswers(t)
	again, dups := l.redeliver(t, apiURL, l.unaccepted())
	lost, caughtUp := l.checkStored(t, apiURL, orphanPatience)
	extra = append(extra, fmt.Sprintf("redelivered=%d duplicates=%d processed_within=%s", again, dups, caughtUp.Round(10*time.Millisecond)))
	l.logFigures(t, f, lost, recovered, strings.Join(extra, " "))
}

// drillOnce skips a drill in the test pass on the shared Redis
// (REDIS_URL set): every drill starts its own redis-server and ignores
// the shared one, so that pass would only repeat, minutes long, the run of
// the pass on the embedded Redis.
func drillOnce(t *testing.T) {
	t.Helper()
	if os.Getenv("REDIS_URL") != "" {
		t.Skip("the drills start their own redis-server: they run in the pass without REDIS_URL")
	}
}

// alive fails the test if a broker exited.
func alive(t *testing.T, p *process) {
	t.Helper()
	select {
	case err := <-p.done:
		t.Fatalf("reflex serve exited (%v) during the drill", err)
	default:
	}
}

// TestDrillRedisRestart kills Redis (SIGKILL) under load and starts it
// again from its append-only file, synced on every write: while it is down
// the intake answers 503, never 202; once it is back the intake accepts
// again by itself; every 202 is processed once.
func TestDrillRedisRestart(t *testing.T) {
	drillOnce(t)
	srv := redistest.StartServer(t)
	p := serveWith(t, srv.URL, writeConfig(t), nil)
	l := startLoad(t, "redis-restart", []string{p.url}, pushBody(t), defaultPace)
	l.waitFor(t, "40 accepted before the fault", 30*time.Second, func(f drillFigures) bool { return f.accepted >= 40 })
	srv.Stop()
	down := time.Now()
	l.waitFor(t, "refusing with 503 while Redis is down", 30*time.Second, func(f drillFigures) bool { return f.refused503 >= 20 })
	downFor := time.Since(down)
	srv.Start()
	recovered := l.waitAcceptedAfter(t, time.Now(), 40, 60*time.Second)
	alive(t, p)
	settle(t, l, p.url, recovered, fmt.Sprintf("redis_down_for=%s", downFor.Round(10*time.Millisecond)))
}

// TestDrillBrokerKill kills the broker (SIGKILL) under load and starts it
// again on the same address and Redis: the deliveries sent while it is
// down get no answer, and every 202, before or after, is processed once.
func TestDrillBrokerKill(t *testing.T) {
	drillOnce(t)
	srv := redistest.StartServer(t)
	cfg := writeConfig(t)
	p := serveWith(t, srv.URL, cfg, nil)
	addr := strings.TrimPrefix(p.url, "http://")
	l := startLoad(t, "broker-kill", []string{p.url}, pushBody(t), defaultPace)
	l.waitFor(t, "40 accepted before the fault", 30*time.Second, func(f drillFigures) bool { return f.accepted >= 40 })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	killed := time.Now()
	l.waitFor(t, "unanswered while the broker is down", 30*time.Second, func(f drillFigures) bool { return f.unanswered >= 10 })
	p = startRaw(t, []string{"REFLEX_ADMIN_KEY=" + e2eAdminKey, "REFLEX_ADDR=" + addr, "REDIS_URL=" + srv.URL},
		"--config", cfg, "--shutdown-timeout", "5s")
	waitReady(t, p, addr)
	recovered := l.waitAcceptedAfter(t, killed, 40, 60*time.Second)
	alive(t, p)
	settle(t, l, p.url, recovered)
}

// brokerFleet is several brokers on one Redis, with delivery configured: one
// trigger per service web-0 … web-<services-1>, each firing for pushes to
// the repository of the same name, so the deliveries of a load spread over
// services that agents run at the same time.
type brokerFleet struct {
	*securedDelivery
	brokers []*process
	// cfg, redisURL and seed are what every broker is started with: the
	// configuration file, the Redis, the delivery signing key.
	cfg, redisURL, seed string
}

// startBroker starts a broker of the fleet on addr.
func (f *brokerFleet) startBroker(t *testing.T, addr string) *process {
	t.Helper()
	p := startRaw(t, []string{"REFLEX_ADMIN_KEY=" + e2eAdminKey, "REFLEX_ADDR=" + addr, "REDIS_URL=" + f.redisURL, "E2E_SIGNING_KEY=" + f.seed},
		"--config", f.cfg, "--shutdown-timeout", "5s")
	waitReady(t, p, addr)
	return p
}

// startFleet starts brokers `reflex serve` on the Redis at redisURL and
// creates the services. The brokers report deliveries to a GitHub API
// that github serves, or that answers every call at once when nil.
func startFleet(t *testing.T, redisURL string, brokers, services int, deploy string, github http.HandlerFunc) *brokerFleet {
	t.Helper()
	s := &securedDelivery{dir: t.TempDir()}
	if github == nil {
		github = func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id": 77}`))
		}
	}
	gh := httptest.NewServer(github)
	t.Cleanup(gh.Close)
	seed, pub, err := wire.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s.pub = "k1=" + pub
	var triggers strings.Builder
	for i := range services {
		fmt.Fprintf(&triggers, "  - {name: push-web-%d, on: 'event.kind == \"code.pushed\" && event.repository.name == \"acme/web-%d\"', service: web-%d, action: deploy, params: {COMMIT: event.commit}}\n", i, i, i)
	}
	cfg := filepath.Join(s.dir, "reflex.yaml")
	writeFile(t, cfg, `sources:
  - {name: acme-github, connector: github, secrets: ["env:E2E_SECRET"]}
policies:
  - {name: verified, expression: request.verified}
  - {name: main-only, expression: 'event.branch == "main"'}
scopes:
  - {name: receive, actions: [receive], types: [event], mode: global, policies: [verified]}
  - {name: production, actions: [deliver], types: [event], match: 'has(object.zone) && object.zone == "production"', policies: [main-only]}
triggers:
`+triggers.String()+`delivery:
  signing:
    keys: [{id: k1, secret: "env:E2E_SIGNING_KEY"}]
  github:
    token: gh-token
    api_url: `+gh.URL+`
`)
	writeFile(t, filepath.Join(s.dir, "actions.json"), `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c", `+deploy+`], "params": {"COMMIT": {"pattern": "[0-9a-f]{40}", "env": "COMMIT"}}}}}`)
	s.redisAddr = redisHostPort(t, redisURL)
	f := &brokerFleet{securedDelivery: s, cfg: cfg, redisURL: redisURL, seed: seed}
	for range brokers {
		f.brokers = append(f.brokers, f.startBroker(t, freeAddr(t)))
	}
	s.serve = f.brokers[0]
	if _, errOut, code := stateCLI(t, s.serve, "", "create", "pipeline", "-c", `{"name":"web"}`); code != 0 {
		t.Fatalf("create pipeline: %s", errOut)
	}
	for i := range services {
		svc := fmt.Sprintf(`{"name":"web-%d","pipeline":"web","zone":"production"}`, i)
		if _, errOut, code := stateCLI(t, s.serve, "", "create", "service", "-c", svc); code != 0 {
			t.Fatalf("create service web-%d: %s", i, errOut)
		}
	}
	return f
}

// startAgentOn starts an agent that knows only broker b.
func (f *brokerFleet) startAgentOn(t *testing.T, name string, b int) {
	t.Helper()
	f.agentURL = f.brokers[b].url
	f.agent(t, name)
	f.waitAgent(t, name)
}

// repoBodies returns payloads that push to repository acme/web-<n mod
// services>.
func repoBodies(t *testing.T, services int) func(int) []byte {
	t.Helper()
	raw, err := os.ReadFile("../../fixtures/github/push.branch.json")
	if err != nil {
		t.Fatal(err)
	}
	bodies := make([][]byte, services)
	for i := range bodies {
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		doc["repository"].(map[string]any)["full_name"] = fmt.Sprintf("acme/web-%d", i)
		if bodies[i], err = json.Marshal(doc); err != nil {
			t.Fatal(err)
		}
	}
	return func(n int) []byte { return bodies[n%services] }
}

// watchDeployments follows the deployment changes a broker streams and
// returns the names seen so far.
func watchDeployments(t *testing.T, p *process) func() map[string]bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/api/v1/watch?types=deployment", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e2eAdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("watch on %s answered %d", p.url, resp.StatusCode)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ch struct {
				Type, Name string
			}
			if json.Unmarshal([]byte(data), &ch) == nil && ch.Type == "deployment" {
				mu.Lock()
				seen[ch.Name] = true
				mu.Unlock()
			}
		}
	}()
	return func() map[string]bool {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(seen)
	}
}

// TestDrillThreeBrokers runs three brokers and two agents on one Redis:
// webhooks spread round robin over the brokers, deliveries spread over
// four services of the agents' zone, each agent knowing one broker. Every
// webhook is processed once, every delivery runs once (the action appends
// its delivery id to a file), and the watch streams of two brokers both
// see every deployment.
func TestDrillThreeBrokers(t *testing.T) {
	drillOnce(t)
	const services, webhooks = 4, 80
	srv := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec"})
	f := startFleet(t, srv.URL, 3, services, `"echo $REFLEX_DELIVERY >> runs.txt"`, nil)
	f.startAgentOn(t, "agent-1", 0)
	f.startAgentOn(t, "agent-2", 2)
	watched := []func() map[string]bool{watchDeployments(t, f.brokers[1]), watchDeployments(t, f.brokers[2])}
	urls := []string{f.brokers[0].url, f.brokers[1].url, f.brokers[2].url}
	start := time.Now()
	l := startLoad(t, "three-brokers", urls, repoBodies(t, services), loadPace{workers: 3, gap: 20 * time.Millisecond, max: webhooks})
	<-l.done
	figures := l.figures()
	if figures.accepted != webhooks {
		t.Fatalf("%d of %d webhooks accepted, want all: %+v", figures.accepted, webhooks, figures)
	}
	lost, caughtUp := l.checkStored(t, f.brokers[1].url, time.Minute)
	want := map[string]bool{}
	for n := range webhooks {
		want[wire.ID(fmt.Sprintf("push-web-%d", n%services), "acme-github", fmt.Sprintf("three-brokers-%05d", n))] = true
	}
	deadline := time.Now().Add(2 * time.Minute)
	for len(f.lines("runs.txt")) < webhooks && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	ran := time.Since(start)
	runs := map[string]int{}
	for _, id := range f.lines("runs.txt") {
		runs[id]++
	}
	for id := range want {
		if runs[id] != 1 {
			t.Errorf("delivery %s ran %d times, want once", id, runs[id])
		}
	}
	for id := range runs {
		if !want[id] {
			t.Errorf("delivery %s ran, which no webhook triggered", id)
		}
	}
	byAgent := map[string]int{}
	deadline = time.Now().Add(30 * time.Second)
	for id := range want {
		var rec map[string]any
		for {
			code, _ := apiJSON(t, f.brokers[2].url, "/api/v1/deployment/"+id, &rec)
			if code == http.StatusOK && rec["status"] == "succeeded" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deployment %s: %d %v, want succeeded", id, code, rec)
			}
			time.Sleep(100 * time.Millisecond)
		}
		agent, _ := rec["agent"].(string)
		byAgent[agent]++
	}
	for i, seen := range watched {
		deadline := time.Now().Add(30 * time.Second)
		for len(seen()) < webhooks && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if diff := cmp.Diff(want, seen()); diff != "" {
			t.Errorf("the watch stream of broker %d saw other deployments (-want +got):\n%s", i+2, diff)
		}
	}
	l.logFigures(t, figures, lost, 0, fmt.Sprintf("brokers=3 agents=2 deliveries_run=%d by_agent=%v processed_within=%s all_run_within=%s",
		len(f.lines("runs.txt")), byAgent, caughtUp.Round(10*time.Millisecond), ran.Round(10*time.Millisecond)))
}

// TestDrillRedisOutOfMemory caps Redis's memory below what it uses, with
// noeviction, under load: the intake answers 503 and logs why, the broker
// stays up, and once the cap is lifted (CONFIG SET maxmemory 0) it accepts
// again by itself; every 202 is processed once.
func TestDrillRedisOutOfMemory(t *testing.T) {
	drillOnce(t)
	srv := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec", Args: []string{"--maxmemory-policy", "noeviction"}})
	opts, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	p := serveWith(t, srv.URL, writeConfig(t), nil)
	l := startLoad(t, "redis-oom", []string{p.url}, pushBody(t), defaultPace)
	l.waitFor(t, "40 accepted before the fault", 30*time.Second, func(f drillFigures) bool { return f.accepted >= 40 })
	if err := rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	full := time.Now()
	l.waitFor(t, "refusing with 503 while Redis is full", 30*time.Second, func(f drillFigures) bool { return f.refused503 >= 20 })
	fullFor := time.Since(full)
	if err := rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	recovered := l.waitAcceptedAfter(t, time.Now(), 40, 60*time.Second)
	alive(t, p)
	if !strings.Contains(p.logs.String(), "OOM command not allowed") {
		t.Errorf("the broker's log does not say Redis is out of memory")
	}
	settle(t, l, p.url, recovered, fmt.Sprintf("redis_full_for=%s", fullFor.Round(10*time.Millisecond)))
}

// TestDrillRedisLink puts a TCP proxy between the broker and Redis that
// first adds 50 ms to everything forwarded either way, then cuts every
// connection and refuses new ones for two seconds: the intake answers 202
// (slower) or 503, nothing it acknowledged is lost, and once the link is
// back it accepts again by itself.
func TestDrillRedisLink(t *testing.T) {
	drillOnce(t)
	srv := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec"})
	proxy := startFaultProxy(t, redisHostPort(t, srv.URL))
	p := serveWith(t, "redis://"+proxy.addr+"/0", writeConfig(t), nil)
	l := startLoad(t, "redis-link", []string{p.url}, pushBody(t), defaultPace)
	l.waitFor(t, "40 accepted before the fault", 30*time.Second, func(f drillFigures) bool { return f.accepted >= 40 })
	proxy.setDelay(50 * time.Millisecond)
	slowFrom := time.Now()
	slow := l.waitAcceptedAfter(t, slowFrom, 20, 60*time.Second)
	slowAccepted, _ := l.acceptedAfter(slowFrom)
	proxy.cut()
	cut := time.Now()
	l.waitFor(t, "refusing with 503 while the link is cut", 30*time.Second, func(f drillFigures) bool { return f.refused503 >= 10 })
	time.Sleep(time.Until(cut.Add(2 * time.Second)))
	proxy.setDelay(0)
	proxy.restore()
	recovered := l.waitAcceptedAfter(t, time.Now(), 40, 60*time.Second)
	alive(t, p)
	settle(t, l, p.url, recovered, fmt.Sprintf("accepted_with_50ms_delay=%d first_slow_accept_after=%s",
		slowAccepted, slow.Round(10*time.Millisecond)))
}

// TestDrillAOFEverysec runs Redis with appendfsync everysec and shows what
// that setting may lose and how a provider's redelivery recovers it. A
// killed redis-server loses nothing (its appends reach the kernel before
// it answers); a host that crashes loses what was not yet synced, up to
// about the last second. The drill makes that loss: it notes the length of
// the append-only file, lets the load run one more second, kills Redis,
// cuts the file back to the noted length, and starts Redis from it. The
// deliveries accepted in that last second are gone; sent again with the
// same delivery ids, as the provider's redelivery does, they are accepted
// again (the others are duplicates), and every id is processed once.
func TestDrillAOFEverysec(t *testing.T) {
	drillOnce(t)
	dir := t.TempDir()
	srv := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec", Args: []string{"--dir", dir}})
	p := serveWith(t, srv.URL, writeConfig(t), nil)
	l := startLoad(t, "aof-everysec", []string{p.url}, pushBody(t), defaultPace)
	l.waitFor(t, "40 accepted before the fault", 30*time.Second, func(f drillFigures) bool { return f.accepted >= 40 })
	incr := incrementalAOF(t, dir)
	synced, err := os.Stat(incr)
	if err != nil {
		t.Fatal(err)
	}
	mark := time.Now()
	l.waitAcceptedAfter(t, mark, 20, 30*time.Second)
	time.Sleep(time.Until(mark.Add(time.Second)))
	srv.Stop()
	down := time.Now()
	if err := os.Truncate(incr, synced.Size()); err != nil {
		t.Fatal(err)
	}
	srv.Start()
	recovered := l.waitAcceptedAfter(t, time.Now(), 20, 60*time.Second)
	l.finish()
	figures := l.figures()
	l.checkAnswers(t)
	accepted := l.ids(http.StatusAccepted)
	var gone []string
	for _, id := range accepted {
		if code, _ := apiJSON(t, p.url, "/api/v1/events/"+id+"?source=acme-github", nil); code == http.StatusNotFound {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		t.Fatalf("no accepted delivery was lost with the last second of the append-only file: the drill shows nothing")
	}
	again, dups := l.redeliver(t, p.url, accepted)
	if again != len(gone) {
		t.Errorf("the redelivery of the %d accepted deliveries accepted %d again, want the %d lost", len(accepted), again, len(gone))
	}
	retried, _ := l.redeliver(t, p.url, l.unaccepted())
	lost, caughtUp := l.checkStored(t, p.url, orphanPatience)
	alive(t, p)
	l.logFigures(t, figures, lost, recovered, fmt.Sprintf("lost_before_redelivery=%d redelivered=%d duplicates=%d refused_then_accepted=%d processed_within=%s redis_down_at=+%s",
		len(gone), again, dups, retried, caughtUp.Round(10*time.Millisecond), down.Sub(mark).Round(10*time.Millisecond)))
}

// incrementalAOF returns the path of the incremental append-only file of
// the Redis whose directory is dir (Redis 7's multi-part AOF), or of the
// single append-only file of an older Redis.
func incrementalAOF(t *testing.T, dir string) string {
	t.Helper()
	for _, pattern := range []string{"appendonlydir/*.incr.aof", "appendonly.aof"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(matches) > 0 {
			return matches[len(matches)-1]
		}
	}
	t.Fatalf("no append-only file in %s", dir)
	return ""
}

// TestDrillOrphanedJob kills the broker (SIGKILL) while its worker runs an
// event's job, held in the call that opens the GitHub deployment, and
// starts it again: the job, still marked active with its worker gone,
// runs again once asynq's recoverer finds its lease expired (a 30 s lease,
// 30 s of allowance, a check at start and then every minute, then the
// first retry's delay of about 2 s): about a minute after the kill. The
// event's record keeps what the intake wrote (its receipt time and
// request id), it is processed once, with one failed attempt (the lost
// lease), and its delivery runs once.
func TestDrillOrphanedJob(t *testing.T) {
	drillOnce(t)
	var mu sync.Mutex
	var opened []time.Time
	held, release := make(chan struct{}), make(chan struct{})
	github := func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/deployments") {
			mu.Lock()
			opened = append(opened, time.Now())
			first := len(opened) == 1
			mu.Unlock()
			if first {
				close(held)
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
		}
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id": 77}`))
	}
	srv := redistest.StartServerWith(t, redistest.ServerOptions{Fsync: "everysec"})
	f := startFleet(t, srv.URL, 1, 1, `"echo $REFLEX_DELIVERY >> runs.txt"`, github)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	f.startAgentOn(t, "agent-1", 0)
	l := startLoad(t, "orphaned-job", []string{f.brokers[0].url}, repoBodies(t, 1), loadPace{workers: 1, max: 1})
	<-l.done
	if fig := l.figures(); fig.accepted != 1 {
		t.Fatalf("the webhook was not accepted: %+v", fig)
	}
	id := l.ids(http.StatusAccepted)[0]
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the event's job did not open a GitHub deployment within 30s")
	}
	var before map[string]any
	if code, _ := apiJSON(t, f.brokers[0].url, "/api/v1/events/"+id+"?source=acme-github", &before); code != http.StatusOK || before["status"] != "queued" {
		t.Fatalf("the event while its job runs: %d %v, want queued", code, before)
	}
	addr := strings.TrimPrefix(f.brokers[0].url, "http://")
	if err := f.brokers[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-f.brokers[0].done
	killed := time.Now()
	close(release)
	f.brokers[0] = f.startBroker(t, addr)
	f.serve = f.brokers[0]
	missing, _ := unprocessed(t, f.brokers[0].url, []string{id}, orphanPatience)
	if len(missing) > 0 {
		t.Fatalf("the orphaned job's event is not processed %s after the kill", orphanPatience)
	}
	mu.Lock()
	if len(opened) != 2 {
		t.Fatalf("the job opened %d GitHub deployments, want 2 (the one killed, the one run again)", len(opened))
	}
	again := opened[1].Sub(killed)
	mu.Unlock()
	var after map[string]any
	apiJSON(t, f.brokers[0].url, "/api/v1/events/"+id+"?source=acme-github", &after)
	for _, field := range []string{"received_at", "request_id", "id", "commit"} {
		if after[field] != before[field] {
			t.Errorf("the event's %s changed from %v to %v when its job ran again", field, before[field], after[field])
		}
	}
	if after["attempts"] != float64(1) {
		t.Errorf("the event records %v failed attempts, want 1 (the lost lease)", after["attempts"])
	}
	delivery := wire.ID("push-web-0", "acme-github", id)
	rec := f.record(t, delivery, time.Minute, "succeeded", "failed")
	if rec["status"] != "succeeded" || len(rec["attempts"].([]any)) != 1 {
		t.Errorf("the delivery record = %v, want one successful attempt", rec)
	}
	if runs := f.lines("runs.txt"); len(runs) != 1 || runs[0] != delivery {
		t.Errorf("the action ran for %v, want once for %s", runs, delivery)
	}
	t.Logf("drill orphaned-job: sent=1 accepted=1 refused503=0 unanswered=0 lost=0 recovered_in=%s (job run again after the kill; asynq lease 30s + 30s allowance, recoverer every 1m)",
		again.Round(10*time.Millisecond))
	if again > 150*time.Second {
		t.Errorf("the orphaned job ran again %s after the kill, beyond the documented bound of 2m30s", again)
	}
}
