package server_test

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"

	"github.com/reflexops/reflex/agent"
	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/leases"
	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// fakeGitHub records the GitHub API calls Reflex makes.
type fakeGitHub struct {
	*httptest.Server
	mu    sync.Mutex
	calls []string
}

func newFakeGitHub(t testing.TB) *fakeGitHub {
	f := &fakeGitHub{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		call := r.Method + " " + r.URL.Path
		if s, ok := body["state"].(string); ok {
			call += " " + s
		}
		f.calls = append(f.calls, call)
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer gh-test-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id": 4242}`))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGitHub) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// deliveryRig is a Reflex with delivery configured, and what it needs.
type deliveryRig struct {
	*instance
	verifier wire.Verifier
	signer   *wire.Signer
	dir      string
	github   *fakeGitHub
	mu       sync.Mutex
	keys     map[string]string // agents' API keys, by name
	// agentLog, when set, receives the log of the agents runAgent runs.
	agentLog *slog.Logger
}

// declarations of the delivery tests: deliveries to production only from
// main; a trigger deploys web-prod on every push.
var deliveryDecl = readFile("../testdata/delivery.yaml")

// readFile returns a file the tests need, or panics.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func startDelivery(t testing.TB, rdb redis.UniversalClient, decl string, tweaks ...func(*server.Options)) *deliveryRig {
	t.Helper()
	seed, pub, err := wire.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("REFLEX_TEST_SIGNING_KEY", seed)
	rig := &deliveryRig{verifier: wire.Verifier{}, dir: t.TempDir(), github: newFakeGitHub(t)}
	if err := rig.verifier.ParsePublicKey("k1=" + pub); err != nil {
		t.Fatal(err)
	}
	if rig.signer, err = wire.NewSigner("k1", seed); err != nil {
		t.Fatal(err)
	}
	declare := func(o *server.Options) {
		var extra config.Config
		if err := yaml.Unmarshal([]byte(decl), &extra); err != nil {
			t.Fatal(err)
		}
		o.Config.Policies, o.Config.Scopes, o.Config.Triggers = extra.Policies, extra.Scopes, extra.Triggers
		o.Config.Delivery = &config.DeliverySpec{
			Signing: &config.EncryptionSpec{Keys: []config.KeySpec{{ID: "k1", Secret: "env:REFLEX_TEST_SIGNING_KEY"}}},
			GitHub:  &config.GitHubSpec{Token: "gh-test-token", APIURL: rig.github.URL},
		}
	}
	rig.instance = start(t, rdb, append([]func(*server.Options){declare}, tweaks...)...)
	master(t, rig.instance, "POST", "/api/v1/pipeline", `{"name":"web"}`)
	master(t, rig.instance, "POST", "/api/v1/service", `{"name":"web-prod","pipeline":"web","zone":"production"}`)
	return rig
}

// agentKey creates the API key of an agent of zone production (once per
// name) and returns it.
func (r *deliveryRig) agentKey(t testing.TB, name string) string {
	t.Helper()
	return r.zoneKey(t, name, "production")
}

// zoneKey creates the API key of an agent of a zone (once per name), with
// the given extra fields, and returns it.
func (r *deliveryRig) zoneKey(t testing.TB, name, zone string, extra ...string) string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if key, ok := r.keys[name]; ok {
		return key
	}
	doc := `{"name":"` + name + `","kind":"agent","zone":"` + zone + `"` + strings.Join(extra, "") + `}`
	resp, _ := master(t, r.instance, "POST", "/api/v1/apikey", doc)
	var answer struct{ Key string }
	decode(t, resp, &answer)
	if resp.Code != http.StatusCreated || answer.Key == "" {
		t.Fatalf("create the key of agent %s: %d %s", name, resp.Code, resp.Body)
	}
	if r.keys == nil {
		r.keys = map[string]string{}
	}
	r.keys[name] = answer.Key
	return answer.Key
}

// runAgent runs an agent of zone production in this process, on the agent
// API over HTTP with a key of its own, with an actions file whose deploy
// action appends the commit to deployed.txt.
func (r *deliveryRig) runAgent(t testing.TB, name, actions string) context.CancelFunc {
	t.Helper()
	if actions == "" {
		actions = `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c", "echo deploying $COMMIT; echo $COMMIT >> deployed.txt"], "params": {"COMMIT": {"env": "COMMIT"}}}}}`
	}
	path := filepath.Join(r.dir, "actions.json")
	if err := os.WriteFile(path, []byte(actions), 0o644); err != nil {
		t.Fatal(err)
	}
	file, err := agent.LoadActions(path)
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := agent.OpenLedger(filepath.Join(r.dir, "ledger-"+name+".json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	key := r.agentKey(t, name)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(ctx, agent.Options{
			Broker: r.URL, APIKey: key, Zone: "production", Actions: file, Keys: r.verifier, Ledger: ledger,
			ShutdownTimeout: 5 * time.Second, Log: cmp.Or(r.agentLog, testLogger()),
		})
	}()
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("agent %s: %v", name, err)
			}
		case <-time.After(15 * time.Second):
			t.Error("agent did not stop")
		}
	})
	t.Cleanup(stop)
	return stop
}

// zoneJobs is the production zone's lease queue, as another replica sees
// it.
func (r *deliveryRig) zoneJobs(t testing.TB) *leases.Queue {
	t.Helper()
	q := &leases.Queue{Redis: r.Redis, Log: testLogger()}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

// job waits until the job of key in zone production is in one of the
// states.
func (r *deliveryRig) job(t *testing.T, key string, states ...leases.State) leases.Job {
	t.Helper()
	q := r.zoneJobs(t)
	var j leases.Job
	var err error
	for range 800 {
		if j, err = q.Lookup(context.Background(), "production", key); err == nil && slices.Contains(states, j.State) {
			return j
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("job %s not %v within 20s: %+v, %v", key, states, j, err)
	return j
}

// offered returns the signed job offered under key in zone production,
// while it is offered or leased.
func (r *deliveryRig) offered(t *testing.T, key string) []byte {
	t.Helper()
	entries, err := r.Redis.XRange(context.Background(), keyspace.AgentOffers("production"), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Values["job"] == key {
			return []byte(e.Values["payload"].(string))
		}
	}
	t.Fatalf("no job %s is offered in zone production", key)
	return nil
}

// record waits until a deployment record reaches one of the statuses.
func (r *deliveryRig) record(t *testing.T, id string, statuses ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, _ := master(t, r.instance, "GET", "/api/v1/deployment/"+id, "")
		var rec map[string]any
		if resp.Code == 200 {
			decode(t, resp, &rec)
			if slices.Contains(statuses, rec["status"].(string)) {
				return rec
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s not %v within 20s: %d %s", id, statuses, resp.Code, resp.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *deliveryRig) deployed(t *testing.T) []string {
	raw, _ := os.ReadFile(filepath.Join(r.dir, "deployed.txt"))
	return strings.Fields(string(raw))
}

// pushTo returns the push fixture moved to another branch, with a fresh
// delivery id.
func pushTo(t *testing.T, branch string) fixtures.Fixture {
	f := withDelivery(fixture(t, "push.branch"))
	f.Body = []byte(strings.ReplaceAll(string(f.Body), "refs/heads/main", "refs/heads/"+branch))
	return f
}

const pushedCommit = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"

// TestDeliveryEndToEnd: a signed webhook → trigger → signed job → the
// agent runs a real command → the record shows it succeeded with its
// output, the service's release moved, and GitHub heard of each step.
func TestDeliveryEndToEnd(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	rig.runAgent(t, "agent-1", "")
	f := withDelivery(fixture(t, "push.branch"))
	if r := deliver(t, rig.instance, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	id := wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	rec := rig.record(t, id, "succeeded", "failed", "refused")
	if rec["status"] != "succeeded" || rec["agent"] != "agent-1" || !strings.Contains(rec["output"].(string), "deploying "+pushedCommit) {
		t.Fatalf("deployment record = %v", rec)
	}
	attempts := rec["attempts"].([]any)
	if len(attempts) != 1 || attempts[0].(map[string]any)["exit_code"] != float64(0) {
		t.Fatalf("attempts = %v", attempts)
	}
	if got := rig.deployed(t); len(got) != 1 || got[0] != pushedCommit {
		t.Fatalf("the action wrote %v", got)
	}
	var svc, rel map[string]any
	decode(t, must(master(t, rig.instance, "GET", "/api/v1/service/web-prod", "")), &svc)
	decode(t, must(master(t, rig.instance, "GET", "/api/v1/release/web-prod", "")), &rel)
	if svc["release"] != pushedCommit[:7] || dig(svc, "status")["deploying"] != false || dig(rel, "current")["version"] != pushedCommit[:7] {
		t.Fatalf("service %v, release %v: want release %s, not deploying", svc, rel, pushedCommit[:7])
	}
	want := []string{
		"POST /repos/Codertocat/Hello-World/deployments",
		"POST /repos/Codertocat/Hello-World/deployments/4242/statuses queued",
		"POST /repos/Codertocat/Hello-World/deployments/4242/statuses in_progress",
		"POST /repos/Codertocat/Hello-World/deployments/4242/statuses success",
	}
	if got := rig.github.seen(); !slices.Equal(got, want) {
		t.Fatalf("GitHub received %v, want %v", got, want)
	}
	var trail []map[string]any
	apiGet(t, rig.instance, "/api/v1/decisions/"+f.Header.Get("X-GitHub-Delivery"), &trail)
	decisionFor(t, trail, "receive")
	if d := decisionFor(t, trail, "deliver"); len(trail) != 2 || d["allowed"] != true || d["delivery"] != id {
		t.Fatalf("decisions = %v, want receive and an allowed deliver", trail)
	}
}

// TestDeliverDenied: a trigger fires for a branch the deliver policy
// refuses: nothing is queued, and the refusal is on the event's trail.
func TestDeliverDenied(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl, func(o *server.Options) { o.Worker = true })
	f := pushTo(t, "feature-x")
	if r := deliver(t, rig.instance, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	waitProcessed(t, rig.instance, f.Header.Get("X-GitHub-Delivery"))
	var trail []map[string]any
	apiGet(t, rig.instance, "/api/v1/decisions/"+f.Header.Get("X-GitHub-Delivery"), &trail)
	decisionFor(t, trail, "receive")
	if d := decisionFor(t, trail, "deliver"); len(trail) != 2 || d["allowed"] != false || d["trigger"] != "push-web" {
		t.Fatalf("decisions = %v, want a refused deliver", trail)
	}
	var rows []map[string]any
	decode(t, must(master(t, rig.instance, "GET", "/api/v1/deployment/", "")), &rows)
	if len(rows) != 0 {
		t.Fatalf("deployments recorded: %v", rows)
	}
	if n, err := rig.Redis.HLen(context.Background(), keyspace.AgentJobs("production")).Result(); err != nil || n != 0 {
		t.Fatalf("%d jobs offered to production (%v), want none", n, err)
	}
}

// TestWebhookTwiceDeploysOnce: a redelivered webhook, and the same event
// processed again, deliver once.
func TestWebhookTwiceDeploysOnce(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	rig.runAgent(t, "agent-1", "")
	f := withDelivery(fixture(t, "push.branch"))
	deliver(t, rig.instance, f)
	if r := deliver(t, rig.instance, f); r.Status != "duplicate" {
		t.Fatalf("second copy: %d %s", r.Code, r.Body)
	}
	id := wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	rig.record(t, id, "succeeded")
	// Process the stored event again, as a retried job would.
	ev := waitProcessed(t, rig.instance, f.Header.Get("X-GitHub-Delivery"))
	payload, _ := rig.Redis.Get(context.Background(), keyspace.Payload(keyspace.EventMember("acme-github", ev.ID))).Bytes()
	task, err := jobs.NewProcessEventTask(ev, payload, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asynq.NewClientFromRedisClient(rig.Redis).Enqueue(task, asynq.TaskID("again")); err != nil {
		t.Fatal(err)
	}
	waitJobDone(t, rig.Redis, jobs.QueueEvents, "again")
	if got := rig.deployed(t); len(got) != 1 {
		t.Fatalf("deployed %d times", len(got))
	}
	rig.job(t, delivery.JobKey(id, 1), leases.StateFinished)
	if n, err := rig.Redis.HLen(context.Background(), keyspace.AgentJobs("production")).Result(); err != nil || n != 1 {
		t.Fatalf("%d jobs offered to production (%v); want only the first delivery's", n, err)
	}
}

// TestAgentRefusesReplayAndRollback: a genuine job offered again by hand
// after it ran (as someone with the broker's Redis could), and a genuine
// job older than the last one its service ran, are refused and recorded
// apart; the delivery that ran keeps its record, and nothing runs twice.
func TestAgentRefusesReplayAndRollback(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	f := withDelivery(fixture(t, "push.branch"))
	deliver(t, rig.instance, f)
	id := wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	rig.job(t, delivery.JobKey(id, 1), leases.StateOffered)
	ran := rig.offered(t, delivery.JobKey(id, 1))
	rig.runAgent(t, "agent-1", "")
	rig.record(t, id, "succeeded")
	job, err := rig.verifier.Verify(ran)
	if err != nil || job.Sequence == 0 {
		t.Fatalf("the job that ran has no sequence: %+v %v", job, err)
	}
	q := rig.zoneJobs(t)
	put := func(key string, payload []byte) {
		t.Helper()
		if err := q.Offer(context.Background(), "production", key, payload, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	put("t-replay", ran)
	older := *job
	older.ID, older.Sequence, older.ExpiresAt = "d-older", job.Sequence-1, time.Now().Add(time.Hour)
	signed, err := rig.signer.Sign(&older)
	if err != nil {
		t.Fatal(err)
	}
	put("t-older", signed)
	for name, want := range map[string]string{
		"refused-t-replay": "already run to its end on this agent",
		"refused-t-older":  "older than one already finished for its service",
	} {
		rec := rig.record(t, name, "refused")
		if !strings.Contains(rec["reason"].(string), want) || rec["agent"] != "agent-1" {
			t.Errorf("%s: %v, want a refusal %q by agent-1", name, rec, want)
		}
	}
	if rec := rig.record(t, id, "succeeded", "refused"); rec["status"] != "succeeded" {
		t.Errorf("the delivery that ran is now %v", rec["status"])
	}
	if got := rig.deployed(t); len(got) != 1 {
		t.Fatalf("deployed %v, want the one job once", got)
	}
}

// TestAgentRefuses: jobs with a bad signature, for another zone, expired,
// naming an action the agent does not define, a parameter its action does
// not declare, or a value shaped as an option are refused, recorded, never
// offered again, and nothing runs. They are put on the zone's lease queue
// directly, as someone with the broker's Redis could.
func TestAgentRefuses(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	rig.runAgent(t, "agent-1", "")
	otherSeed, _, _ := wire.GenerateKey()
	forger, _ := wire.NewSigner("k1", otherSeed)
	job := func(id, zone, action string) *wire.Job {
		return &wire.Job{ID: id, Zone: zone, Service: "web-prod", Action: action,
			Params: map[string]string{"COMMIT": "evil"}, ExpiresAt: time.Now().Add(time.Hour)}
	}
	q := rig.zoneJobs(t)
	put := func(key string, payload []byte) {
		t.Helper()
		if err := q.Offer(context.Background(), "production", key, payload, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	forged, _ := forger.Sign(job("d-forged", "production", "deploy"))
	put("t-forged", forged)
	genuine, _ := rig.signer.Sign(job("d-tampered", "production", "deploy"))
	put("t-tampered", []byte(strings.Replace(string(genuine), "evil", "eviler", 1)))
	otherZone, _ := rig.signer.Sign(job("d-zone", "staging", "deploy"))
	put("t-zone", otherZone)
	unknown, _ := rig.signer.Sign(job("d-action", "production", "wipe-disk"))
	put("t-action", unknown)
	expired := job("d-expired", "production", "deploy")
	expired.ExpiresAt = time.Now().Add(-time.Minute)
	old, _ := rig.signer.Sign(expired)
	put("t-expired", old)
	undeclared := job("d-param", "production", "deploy")
	undeclared.Params["LD_PRELOAD"] = "/tmp/evil.so"
	withParam, _ := rig.signer.Sign(undeclared)
	put("t-param", withParam)
	dash := job("d-dash", "production", "deploy")
	dash.Params["COMMIT"] = "--upload-pack=evil"
	withDash, _ := rig.signer.Sign(dash)
	put("t-dash", withDash)

	for name, want := range map[string]string{
		"refused-t-forged":   "does not match",
		"refused-t-tampered": "does not match",
		"refused-t-zone":     `for zone "staging"`,
		"refused-t-action":   `no action "wipe-disk"`,
		"refused-t-expired":  "expired",
		"refused-t-param":    `declares no parameter "LD_PRELOAD"`,
		"refused-t-dash":     `starts with "-"`,
	} {
		rec := rig.record(t, name, "refused")
		if !strings.Contains(rec["reason"].(string), want) || rec["agent"] != "agent-1" {
			t.Errorf("%s: %v, want a refusal %q", name, rec, want)
		}
	}
	for _, key := range []string{"t-forged", "t-tampered", "t-zone", "t-action", "t-expired", "t-param", "t-dash"} {
		if j := rig.job(t, key, leases.StateFinished); j.Attempt != 1 || j.Agent != "agent-1" {
			t.Errorf("refused job %s: %+v, want finished by agent-1 on its first lease", key, j)
		}
	}
	if got := rig.deployed(t); len(got) != 0 {
		t.Fatalf("a refused job ran: %v", got)
	}
}

// TestOneDeliveryPerService: two triggers for one service fire on one
// event; their deliveries run one after the other, never together.
func TestOneDeliveryPerService(t *testing.T) {
	decl := deliveryDecl + `
  - name: push-web-again
    on: 'event.kind == "code.pushed"'
    service: web-prod
    action: deploy
    params: {COMMIT: event.commit}
`
	rig := startDelivery(t, newRedis(t), decl)
	rig.runAgent(t, "agent-1", `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c",
		"echo start $REFLEX_DELIVERY $(date +%s%N) >> log.txt; sleep 0.3; echo end $REFLEX_DELIVERY $(date +%s%N) >> log.txt"], "params": {"COMMIT": {}}}}}`)
	rig.runAgent(t, "agent-2", "") // a second agent of the zone, free to take work
	f := withDelivery(fixture(t, "push.branch"))
	deliver(t, rig.instance, f)
	a := wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	b := wire.ID("push-web-again", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	ra, rb := rig.record(t, a, "succeeded"), rig.record(t, b, "succeeded")
	startA, endA := times(t, ra)
	startB, endB := times(t, rb)
	if !(endA.Before(startB) || endB.Before(startA)) || !endA.Before(startB) {
		t.Fatalf("deliveries overlapped or ran out of order: %s–%s and %s–%s", startA, endA, startB, endB)
	}
}

func times(t *testing.T, rec map[string]any) (time.Time, time.Time) {
	a := rec["attempts"].([]any)[0].(map[string]any)
	s, _ := time.Parse(time.RFC3339Nano, a["started_at"].(string))
	e, _ := time.Parse(time.RFC3339Nano, a["finished_at"].(string))
	return s, e
}

// TestRetryAfterFailure: a delivery that fails its last attempt is
// archived as failed; an operator runs it again and it succeeds.
func TestRetryAfterFailure(t *testing.T) {
	decl := strings.Replace(deliveryDecl, "release: event.commit.substring(0, 7)", "release: event.commit.substring(0, 7)\n    max_attempts: 2", 1)
	rig := startDelivery(t, newRedis(t), decl)
	rig.runAgent(t, "agent-1", `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c", "test -f fixed || { echo broken; exit 1; }; echo ok"], "params": {"COMMIT": {}}}}}`)
	f := withDelivery(fixture(t, "push.branch"))
	deliver(t, rig.instance, f)
	id := wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	rec := rig.record(t, id, "failed")
	if n := len(rec["attempts"].([]any)); n != 2 {
		t.Fatalf("%d attempts before failing, want 2 (max_attempts)", n)
	}
	// Each attempt was a job of its own, each finished.
	first, second := rig.job(t, delivery.JobKey(id, 1), leases.StateFinished), rig.job(t, delivery.JobKey(id, 2), leases.StateFinished)
	if first.Attempt != 1 || second.Attempt != 1 {
		t.Fatalf("jobs %+v and %+v: want one lease each", first, second)
	}
	if err := os.WriteFile(filepath.Join(rig.dir, "fixed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r, _ := master(t, rig.instance, "POST", "/api/v1/deliveries/"+id+"/retry", "{}"); r.Code != 200 {
		t.Fatalf("retry: %d %s", r.Code, r.Body)
	}
	rec = rig.record(t, id, "succeeded")
	if n := len(rec["attempts"].([]any)); n != 3 {
		t.Fatalf("%d attempts in the record, want 3", n)
	}
	if r, _ := master(t, rig.instance, "POST", "/api/v1/deliveries/"+id+"/cancel", "{}"); r.Code != http.StatusConflict {
		t.Fatalf("cancelling a finished delivery: %d %s", r.Code, r.Body)
	}
}

// TestKeepLatestAndCancel: with keep_latest, a newer delivery replaces the
// one waiting behind a running delivery; a waiting one can be cancelled.
func TestKeepLatestAndCancel(t *testing.T) {
	decl := strings.Replace(deliveryDecl, "release: event.commit.substring(0, 7)", "keep_latest: true", 1)
	rig := startDelivery(t, newRedis(t), decl)
	// The first delivery runs until the test creates the file "go".
	rig.runAgent(t, "agent-1", `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c", "while [ ! -f go ]; do sleep 0.05; done; echo $COMMIT >> deployed.txt"], "params": {"COMMIT": {"env": "COMMIT"}}}}}`)
	send := func() string {
		f := withDelivery(fixture(t, "push.branch"))
		if r := deliver(t, rig.instance, f); r.Code != http.StatusAccepted {
			t.Fatalf("webhook: %d %s", r.Code, r.Body)
		}
		return wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	}
	first := send()
	rig.record(t, first, "running")
	second := send()
	rig.record(t, second, "waiting")
	third := send()
	rig.record(t, third, "waiting")
	if rec := rig.record(t, second, "superseded"); !strings.Contains(rec["reason"].(string), "newer delivery") {
		t.Fatalf("second = %v", rec)
	}
	if r, _ := master(t, rig.instance, "POST", "/api/v1/deliveries/"+third+"/cancel", "{}"); r.Code != 200 || r.Status != "cancelled" {
		t.Fatalf("cancel: %d %s", r.Code, r.Body)
	}
	if err := os.WriteFile(filepath.Join(rig.dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rig.record(t, first, "succeeded")
	waitFor(t, func() bool {
		n, err := rig.Redis.Exists(context.Background(), keyspace.DeliveryLock("web-prod")).Result()
		return err == nil && n == 0
	})
	rig.record(t, second, "superseded")
	rig.record(t, third, "cancelled")
	if got := rig.deployed(t); len(got) != 1 {
		t.Fatalf("deployed %v, want only the first delivery", got)
	}
}

// TestReaperFreesLostDeliveries: a delivery whose job vanished while its
// record says it is queued is recorded as failed and frees its service; a
// lock left by an ended delivery is released.
func TestReaperFreesLostDeliveries(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl) // no agent: jobs stay offered
	send := func() string {
		f := withDelivery(fixture(t, "push.branch"))
		deliver(t, rig.instance, f)
		id := wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
		rig.record(t, id, "queued")
		rig.job(t, delivery.JobKey(id, 1), leases.StateOffered)
		return id
	}
	expired := send()
	if held, err := rig.Redis.SIsMember(context.Background(), keyspace.DeliveryLocks(), "web-prod").Result(); err != nil || !held {
		t.Fatalf("the held service is not in the index the reaper reads: %v, %v", held, err)
	}
	d := &delivery.Dispatcher{
		Store: state.New(rig.Redis, state.Options{}), Redis: rig.Redis, Log: testLogger(), Leases: rig.zoneJobs(t),
		Client: asynq.NewClientFromRedisClient(rig.Redis), ReapAfter: time.Nanosecond,
	}
	ctx := context.Background()
	// Two hours on, no agent took the job, which expired after one.
	d.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if err := d.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	if rec := rig.record(t, expired, "failed"); !strings.Contains(rec["reason"].(string), "no agent of zone production took the job before it expired") {
		t.Fatalf("record = %v", rec)
	}
	rig.job(t, delivery.JobKey(expired, 1), leases.StateWithdrawn)

	// A job removed from the zone's offers while its record says queued.
	d.Now = nil
	removed := send()
	if _, err := d.Leases.Cancel(ctx, "production", delivery.JobKey(removed, 1)); err != nil {
		t.Fatal(err)
	}
	if err := d.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	if rec := rig.record(t, removed, "failed"); !strings.Contains(rec["reason"].(string), "lost") {
		t.Fatalf("record = %v", rec)
	}
	id := removed
	lock := keyspace.DeliveryLock("web-prod")
	if n, _ := rig.Redis.Exists(ctx, lock).Result(); n != 0 {
		t.Fatal("the lost delivery still holds its service")
	}
	// A lock left behind by a delivery that ended (taken, as every lock
	// is, with its service in the index of held locks).
	if err := rig.Redis.Set(ctx, lock, id, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rig.Redis.SAdd(ctx, keyspace.DeliveryLocks(), "web-prod").Err(); err != nil {
		t.Fatal(err)
	}
	if err := d.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := rig.Redis.Exists(ctx, lock).Result(); n != 0 {
		t.Fatal("a lock held by an ended delivery was not released")
	}
	if n, _ := rig.Redis.SCard(ctx, keyspace.DeliveryLocks()).Result(); n != 0 {
		t.Fatalf("%d services left in the index of held locks", n)
	}
}

// TestReaperSchedulesAMissingRetry: a delivery left retrying with no next
// attempt scheduled (as a release whose agents retried by themselves
// leaves it) gets its next attempt from the reaper, and runs.
func TestReaperSchedulesAMissingRetry(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	f := withDelivery(fixture(t, "push.branch"))
	deliver(t, rig.instance, f)
	id := wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	waitProcessed(t, rig.instance, f.Header.Get("X-GitHub-Delivery")) // its delivery dispatched, to the end
	d := &delivery.Dispatcher{
		Store: state.New(rig.Redis, state.Options{}), Redis: rig.Redis, Log: testLogger(), Leases: rig.zoneJobs(t),
		Client: asynq.NewClientFromRedisClient(rig.Redis), ReapAfter: time.Nanosecond,
	}
	ctx := context.Background()
	// The job as an older release would leave it: not offered, retrying.
	if _, err := d.Leases.Cancel(ctx, "production", delivery.JobKey(id, 1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Store.Merge(ctx, state.TypeDeploy, id, map[string]any{"status": "retrying"}, 0, "test"); err != nil {
		t.Fatal(err)
	}
	if err := d.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	rig.runAgent(t, "agent-1", "")
	rec := rig.record(t, id, "succeeded") // after the first backoff, 5s
	if rec["agent"] != "agent-1" {
		t.Fatalf("record = %v", rec)
	}
	rig.job(t, delivery.JobKey(id, 2), leases.StateFinished)
}
