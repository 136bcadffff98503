package server_test

import (
	"context"
	"encoding/json"
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

// runAgent runs an agent of zone production in this process with an
// actions file whose deploy action appends the commit to deployed.txt.
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(ctx, agent.Options{
			Redis: r.Redis, Zone: "production", Name: name, Actions: file, Keys: r.verifier, Ledger: ledger,
			PollInterval: 10 * time.Millisecond, ShutdownTimeout: 5 * time.Second, Log: testLogger(),
		})
	}()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("agent did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

// task waits until the job of delivery id is in the given state on the
// production queue.
func (r *deliveryRig) task(t *testing.T, id string, want asynq.TaskState) *asynq.TaskInfo {
	t.Helper()
	inspector := asynq.NewInspectorFromRedisClient(r.Redis)
	var info *asynq.TaskInfo
	var err error
	for range 800 {
		if info, err = inspector.GetTaskInfo(wire.Queue("production"), id); err == nil && info.State == want {
			return info
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("job %s not %v within 20s: %+v, %v", id, want, info, err)
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
	if n, _ := asynq.NewInspectorFromRedisClient(rig.Redis).GetQueueInfo(wire.Queue("production")); n != nil && n.Size > 0 {
		t.Fatalf("%d jobs queued for production", n.Size)
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
	if q, err := asynq.NewInspectorFromRedisClient(rig.Redis).GetQueueInfo(wire.Queue("production")); err != nil || q.Pending+q.Active+q.Scheduled+q.Retry+q.Archived != 0 || q.Completed != 1 {
		t.Fatalf("production queue %+v, %v; want only the first delivery's job, completed", q, err)
	}
}

// TestAgentRefusesReplayAndRollback: a genuine job queued again by hand
// after it ran, and a genuine job older than the last one its service
// ran, are refused and recorded apart; the delivery that ran keeps its
// record, and nothing runs twice.
func TestAgentRefusesReplayAndRollback(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	rig.runAgent(t, "agent-1", "")
	f := withDelivery(fixture(t, "push.branch"))
	deliver(t, rig.instance, f)
	id := wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	rig.record(t, id, "succeeded")
	ran := rig.task(t, id, asynq.TaskStateCompleted)
	var env struct{ Body json.RawMessage }
	if err := json.Unmarshal(ran.Payload, &env); err != nil {
		t.Fatal(err)
	}
	var job wire.Job
	if err := json.Unmarshal(env.Body, &job); err != nil || job.Sequence == 0 {
		t.Fatalf("the job that ran has no sequence: %+v %v", job, err)
	}
	client := asynq.NewClientFromRedisClient(rig.Redis)
	put := func(taskID string, payload []byte) {
		t.Helper()
		if _, err := client.Enqueue(asynq.NewTask(wire.TypeRun, payload, asynq.Queue(wire.Queue("production")), asynq.TaskID(taskID))); err != nil {
			t.Fatal(err)
		}
	}
	put("t-replay", ran.Payload)
	older := job
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
		if !strings.Contains(rec["reason"].(string), want) {
			t.Errorf("%s: %v, want a refusal %q", name, rec, want)
		}
	}
	if rec := rig.record(t, id, "succeeded", "refused"); rec["status"] != "succeeded" {
		t.Errorf("the delivery that ran is now %v", rec["status"])
	}
	if got := rig.deployed(t); len(got) != 1 {
		t.Fatalf("deployed %v, want the one job once", got)
	}
}

// TestAgentRefuses: jobs with a bad signature, for another zone, or naming
// an action the agent does not define are refused, recorded, never retried,
// and nothing runs.
func TestAgentRefuses(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	rig.runAgent(t, "agent-1", "")
	otherSeed, _, _ := wire.GenerateKey()
	forger, _ := wire.NewSigner("k1", otherSeed)
	job := func(id, zone, action string) *wire.Job {
		return &wire.Job{ID: id, Zone: zone, Service: "web-prod", Action: action,
			Params: map[string]string{"COMMIT": "evil"}, ExpiresAt: time.Now().Add(time.Hour)}
	}
	client := asynq.NewClientFromRedisClient(rig.Redis)
	put := func(taskID string, payload []byte) {
		t.Helper()
		if _, err := client.Enqueue(asynq.NewTask(wire.TypeRun, payload, asynq.Queue(wire.Queue("production")), asynq.TaskID(taskID), asynq.MaxRetry(3))); err != nil {
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
	for _, id := range []string{"t-forged", "t-tampered", "t-zone", "t-action", "t-expired", "t-param", "t-dash"} {
		if info := rig.task(t, id, asynq.TaskStateArchived); info.Retried != 0 {
			t.Errorf("refused job %s was retried %d times", id, info.Retried)
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
	rig.task(t, id, asynq.TaskStateArchived) // the dead letters
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
	rig := startDelivery(t, newRedis(t), deliveryDecl) // no agent: jobs stay queued
	f := withDelivery(fixture(t, "push.branch"))
	deliver(t, rig.instance, f)
	id := wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	rig.record(t, id, "queued")
	rig.task(t, id, asynq.TaskStatePending)
	if held, err := rig.Redis.SIsMember(context.Background(), keyspace.DeliveryLocks(), "web-prod").Result(); err != nil || !held {
		t.Fatalf("the held service is not in the index the reaper reads: %v, %v", held, err)
	}
	inspector := asynq.NewInspectorFromRedisClient(rig.Redis)
	if err := inspector.DeleteTask(wire.Queue("production"), id); err != nil {
		t.Fatal(err)
	}
	d := &delivery.Dispatcher{
		Store: state.New(rig.Redis, state.Options{}), Redis: rig.Redis, Log: testLogger(),
		Client: asynq.NewClientFromRedisClient(rig.Redis), Inspector: inspector, ReapAfter: time.Nanosecond,
	}
	ctx := context.Background()
	if err := d.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	if rec := rig.record(t, id, "failed"); !strings.Contains(rec["reason"].(string), "lost") {
		t.Fatalf("record = %v", rec)
	}
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
