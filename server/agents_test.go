package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/agent"
	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/leases"
	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// rawAgent speaks the agent API by hand, as a misbehaving or hostile agent
// could.
type rawAgent struct {
	t   *testing.T
	in  *instance
	key string
}

func (a rawAgent) post(path string, body any) reply {
	a.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		a.t.Fatal(err)
	}
	r, _ := call(a.t, a.in, a.key, "POST", path, string(raw))
	return r
}

// next polls for a job, failing unless one comes within 5s.
func (a rawAgent) next() wire.Offer {
	a.t.Helper()
	r := a.post(wire.PathNext+"?wait=5s", nil)
	if r.Code != http.StatusOK {
		a.t.Fatalf("poll: %d %s", r.Code, r.Body)
	}
	var o wire.Offer
	decode(a.t, r, &o)
	return o
}

func (a rawAgent) report(o wire.Offer, r wire.Report) reply {
	a.t.Helper()
	if r.Lease == "" {
		r.Lease = o.Lease
	}
	if r.At.IsZero() {
		r.At = time.Now()
	}
	return a.post(wire.JobPath(o.Job, wire.OpReport), r)
}

// claim takes the job of delivery id, which must be the next of the zone,
// and reports it started; it returns once the record says running.
func (a rawAgent) claim(rig *deliveryRig, id string) wire.Offer {
	a.t.Helper()
	rig.record(a.t, id, "queued")
	o := a.next()
	if r := a.report(o, wire.Report{Kind: wire.ReportStarted}); r.Code != http.StatusAccepted {
		a.t.Fatalf("started: %d %s", r.Code, r.Body)
	}
	rig.record(a.t, id, "running")
	return o
}

// sendPush sends a push to main and returns its delivery id.
func sendPush(t *testing.T, rig *deliveryRig) string {
	t.Helper()
	f := withDelivery(fixture(t, "push.branch"))
	if r := deliver(t, rig.instance, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	return wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
}

// TestLeaseHolderOnly: only the agent that holds a job's lease may act on
// it. Another agent of the zone, an agent of another zone, the holder with
// another lease id and a key that is not an agent's are refused (403, or
// 409 for a lease that is not held), and nothing changes; the holder's
// reports move the delivery, and a report sent again is applied once.
func TestLeaseHolderOnly(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	holder := rawAgent{t, rig.instance, rig.agentKey(t, "agent-1")}
	peer := rawAgent{t, rig.instance, rig.agentKey(t, "agent-2")}
	staging := rawAgent{t, rig.instance, rig.zoneKey(t, "agent-s", "staging")}
	admin := rawAgent{t, rig.instance, adminKey}
	id := sendPush(t, rig)
	rig.record(t, id, "queued")
	o := holder.next()
	if o.Job != delivery.JobKey(id, 1) || o.Attempt != 1 || len(o.Lease) != 32 {
		t.Fatalf("offer = %+v", o)
	}
	if _, err := rig.verifier.Verify(o.Signed); err != nil {
		t.Fatalf("the offered job does not verify: %v", err)
	}
	succeeded := wire.Report{Kind: wire.ReportFinished, Succeeded: true, Output: "forged"}
	refusals := []struct {
		name string
		r    reply
		want int
	}{
		{"another agent's report", peer.report(o, succeeded), http.StatusForbidden},
		{"another agent's renewal", peer.post(wire.JobPath(o.Job, wire.OpRenew), wire.LeaseRef{Lease: o.Lease}), http.StatusForbidden},
		{"another agent's release", peer.post(wire.JobPath(o.Job, wire.OpRelease), wire.LeaseRef{Lease: o.Lease}), http.StatusForbidden},
		{"another zone's report", staging.report(o, succeeded), http.StatusForbidden},
		{"another zone's output", staging.post(wire.JobPath(o.Job, wire.OpOutput), wire.Output{Lease: o.Lease, Data: []byte("x")}), http.StatusForbidden},
		{"another lease id", holder.report(o, wire.Report{Lease: strings.Repeat("0", 32), Kind: wire.ReportFinished, Succeeded: true}), http.StatusConflict},
		{"no lease id", holder.post(wire.JobPath(o.Job, wire.OpRenew), wire.LeaseRef{}), http.StatusConflict},
		{"a key that is not an agent's", admin.report(o, succeeded), http.StatusForbidden},
		{"an unknown kind", holder.report(o, wire.Report{Kind: "done"}), http.StatusBadRequest},
		{"an unknown operation", holder.post("/api/v1/agents/jobs/"+o.Job+"/explode", wire.LeaseRef{Lease: o.Lease}), http.StatusNotFound},
	}
	for _, tt := range refusals {
		if tt.r.Code != tt.want || tt.r.Status != "failed" || tt.r.Message == "" {
			t.Errorf("%s: %d %s, want %d with a message", tt.name, tt.r.Code, tt.r.Body, tt.want)
		}
	}
	if r := (rawAgent{t, rig.instance, ""}).report(o, succeeded); r.Code != http.StatusUnauthorized {
		t.Errorf("no key: %d %s", r.Code, r.Body)
	}
	// Nothing changed: still queued, still the holder's.
	if rec := rig.record(t, id, "queued", "running", "succeeded"); rec["status"] != "queued" {
		t.Fatalf("after the refused calls the delivery is %v", rec["status"])
	}
	if j := rig.job(t, o.Job, leases.StateLeased, leases.StateFinished); j.State != leases.StateLeased || j.Agent != "agent-1" || j.LeaseID != o.Lease {
		t.Fatalf("after the refused calls the job is %+v", j)
	}

	if r := holder.report(o, wire.Report{Kind: wire.ReportStarted}); r.Code != http.StatusAccepted {
		t.Fatalf("started: %d %s", r.Code, r.Body)
	}
	rig.record(t, id, "running")
	done := wire.Report{Kind: wire.ReportFinished, Succeeded: true, Output: "deployed", StartedAt: time.Now()}
	for range 2 { // sent again, as an agent does when an answer is lost
		if r := holder.report(o, done); r.Code != http.StatusAccepted {
			t.Fatalf("finished: %d %s", r.Code, r.Body)
		}
	}
	rec := rig.record(t, id, "succeeded")
	if rec["agent"] != "agent-1" || rec["output"] != "deployed" || len(rec["attempts"].([]any)) != 1 {
		t.Fatalf("record = %v", rec)
	}
	// A finished job takes no renewal, and no report of another kind.
	if r := holder.post(wire.JobPath(o.Job, wire.OpRenew), wire.LeaseRef{Lease: o.Lease}); r.Code != http.StatusConflict {
		t.Errorf("renewal of a finished job: %d %s", r.Code, r.Body)
	}
	if r := holder.report(o, wire.Report{Kind: wire.ReportStarted}); r.Code != http.StatusConflict {
		t.Errorf("a start after the end: %d %s", r.Code, r.Body)
	}
}

// TestTwoAgentsOneJob: two agents of a zone poll; one webhook's job runs
// once, on one of them.
func TestTwoAgentsOneJob(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	rig.runAgent(t, "agent-1", "")
	rig.runAgent(t, "agent-2", "")
	id := sendPush(t, rig)
	rec := rig.record(t, id, "succeeded")
	if j := rig.job(t, delivery.JobKey(id, 1), leases.StateFinished); j.Attempt != 1 || j.Agent != rec["agent"] {
		t.Fatalf("job %+v, record by %v: want one lease, the record's agent's", j, rec["agent"])
	}
	if got := rig.deployed(t); len(got) != 1 {
		t.Fatalf("deployed %v, want once", got)
	}
}

// TestCancelRunning: cancelling a delivery an agent runs stops its
// action at the next renewal; the record says cancelled, the service is
// free, and what the action would have done after never happens.
func TestCancelRunning(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl, func(o *server.Options) { o.AgentLeaseTTL = 1500 * time.Millisecond })
	rig.runAgent(t, "agent-1", `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c",
		"echo started > started.txt; while [ ! -f go ]; do sleep 0.05; done; echo deployed >> deployed.txt"], "params": {"COMMIT": {}}}}}`)
	id := sendPush(t, rig)
	rig.record(t, id, "running")
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(rig.dir, "started.txt")); return err == nil })
	r, _ := master(t, rig.instance, "POST", "/api/v1/deliveries/"+id+"/cancel", "{}")
	if r.Code != http.StatusAccepted || r.Status != "cancelling" {
		t.Fatalf("cancel: %d %s", r.Code, r.Body)
	}
	rec := rig.record(t, id, "cancelled")
	if !strings.Contains(rec["reason"].(string), "cancel") {
		t.Errorf("record = %v", rec)
	}
	if err := os.WriteFile(filepath.Join(rig.dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var svc map[string]any
	decode(t, must(master(t, rig.instance, "GET", "/api/v1/service/web-prod", "")), &svc)
	if dig(svc, "status")["deploying"] != false {
		t.Errorf("service = %v, want not deploying", svc)
	}
	// A new delivery of the service runs: the cancelled one let it go.
	next := sendPush(t, rig)
	rig.record(t, next, "succeeded")
	if got := rig.deployed(t); len(got) != 1 {
		t.Fatalf("deployed %v, want the new delivery's line only: the cancelled action went on", got)
	}
}

// TestLiveOutput: a running delivery's output is readable while it runs;
// a chunk sent twice is taken once, and one that would leave a gap is
// refused with the length held.
func TestLiveOutput(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	stop := rig.runAgent(t, "agent-1", `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c",
		"echo step one; while [ ! -f go ]; do sleep 0.05; done; echo step two"], "params": {"COMMIT": {}}}}}`)
	id := sendPush(t, rig)
	rig.record(t, id, "running")
	output := func() string { return liveOutput(t, rig, id) }
	waitFor(t, func() bool { return strings.Contains(output(), "step one") })
	if got := output(); strings.Contains(got, "step two") {
		t.Fatalf("output before the gate = %q", got)
	}
	if err := os.WriteFile(filepath.Join(rig.dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rig.record(t, id, "succeeded")
	if got := output(); !strings.Contains(got, "step one") || !strings.Contains(got, "step two") {
		t.Fatalf("output after the end = %q", got)
	}

	// By hand: offsets are exact.
	stop()
	holder := rawAgent{t, rig.instance, rig.agentKey(t, "agent-x")}
	next := sendPush(t, rig)
	o := holder.claim(rig, next)
	chunks := []struct {
		offset int64
		data   string
		code   int
		length int64
	}{
		{0, "abc", 200, 3},
		{0, "abc", 200, 3}, // sent again
		{1, "bcd", 200, 4}, // overlaps: only what is new is taken
		{6, "xyz", 416, 4}, // a gap
		{4, "ef\x00\xff", 200, 8},
	}
	for _, c := range chunks {
		r := holder.post(wire.JobPath(o.Job, wire.OpOutput), wire.Output{Lease: o.Lease, Offset: c.offset, Data: []byte(c.data)})
		var ack wire.OutputAck
		decode(t, r, &ack)
		if r.Code != c.code || ack.Length != c.length {
			t.Fatalf("chunk at %d: %d %s, want %d with length %d", c.offset, r.Code, r.Body, c.code, c.length)
		}
	}
	if got := liveOutput(t, rig, next); got != "abcdef\x00\xff" {
		t.Fatalf("output = %q", got)
	}
}

// liveOutput reads a delivery's output through the API.
func liveOutput(t *testing.T, rig *deliveryRig, id string) string {
	t.Helper()
	r, _ := master(t, rig.instance, "GET", "/api/v1/deliveries/"+id+"/output", "")
	if r.Code != http.StatusOK {
		t.Fatalf("output: %d %s", r.Code, r.Body)
	}
	return string(r.Body)
}

// TestTakePolicy: which agents may take which jobs is a policy decision.
// A job an agent may not take is given back at once for another, and
// passed over for the jobs it may take; the built-in take-own-zone policy
// gives way to a declared one.
func TestTakePolicy(t *testing.T) {
	decl := strings.Replace(deliveryDecl, "scopes:\n", "scopes:\n  - {name: take, actions: [take], types: [deployment], mode: global, policies: [deployers]}\n", 1)
	decl = strings.Replace(decl, "policies:\n", "policies:\n  - {name: deployers, expression: '\"deployers\" in caller.groups || object.service == \"web-test\"'}\n", 1)
	decl += `
  - name: push-web-test
    on: 'event.kind == "code.pushed"'
    service: web-test
    action: deploy
    params: {COMMIT: event.commit}
`
	rig := startDelivery(t, newRedis(t), decl)
	master(t, rig.instance, "POST", "/api/v1/service", `{"name":"web-test","pipeline":"web","zone":"production"}`)
	outsider := rawAgent{t, rig.instance, rig.agentKey(t, "agent-out")}
	insider := rawAgent{t, rig.instance, rig.zoneKey(t, "agent-in", "production", `,"groups":["deployers"]`)}
	if r, _ := master(t, rig.instance, "GET", "/api/v1/policy/take-own-zone", ""); r.Code != http.StatusNotFound {
		t.Fatalf("the built-in take policy exists beside a declared one: %d", r.Code)
	}
	f := withDelivery(fixture(t, "push.branch"))
	if r := deliver(t, rig.instance, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	prod := wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	test := wire.ID("push-web-test", "acme-github", f.Header.Get("X-GitHub-Delivery"))
	rig.record(t, prod, "queued")
	rig.record(t, test, "queued")
	// The outsider may take the test job only: it gets it, whichever of
	// the two comes first, and then nothing more.
	if o := outsider.next(); o.Job != delivery.JobKey(test, 1) {
		t.Fatalf("the outsider got %+v, want the web-test job", o)
	}
	if r := outsider.post(wire.PathNext+"?wait=1s", nil); r.Code != http.StatusNoContent {
		t.Fatalf("the outsider's second poll: %d %s, want nothing", r.Code, r.Body)
	}
	if o := insider.next(); o.Job != delivery.JobKey(prod, 1) || o.Attempt == 0 {
		t.Fatalf("the insider got %+v", o)
	}
}

// TestCancelAGivenBackJob: a job its agent gave back, held by nobody, is
// cancelled at once.
func TestCancelAGivenBackJob(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	a := rawAgent{t, rig.instance, rig.agentKey(t, "agent-1")}
	id := sendPush(t, rig)
	rig.record(t, id, "queued")
	o := a.next()
	if r := a.post(wire.JobPath(o.Job, wire.OpRelease), wire.LeaseRef{Lease: o.Lease}); r.Code != http.StatusNoContent {
		t.Fatalf("release: %d %s", r.Code, r.Body)
	}
	r, _ := master(t, rig.instance, "POST", "/api/v1/deliveries/"+id+"/cancel", "{}")
	if r.Code != http.StatusOK || r.Status != "cancelled" {
		t.Fatalf("cancel: %d %s, want cancelled at once", r.Code, r.Body)
	}
	rig.record(t, id, "cancelled")
	rig.job(t, o.Job, leases.StateWithdrawn)
}

// TestLateReportAfterReaping: a job ends on its agent, but its report is
// applied only after the reaper gave up on it: the record keeps what the
// reaper decided (the service has moved on), the attempt shows how it
// really ended, and no new attempt is offered.
func TestLateReportAfterReaping(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	a := rawAgent{t, rig.instance, rig.agentKey(t, "agent-1")}
	id := sendPush(t, rig)
	o := a.claim(rig, id)
	// The lease is finished, as the report's call does first; the report
	// itself is not applied yet.
	q := rig.zoneJobs(t)
	ctx := context.Background()
	if err := q.Finish(ctx, "production", o.Job, o.Lease); err != nil {
		t.Fatal(err)
	}
	d := &delivery.Dispatcher{
		Store: state.New(rig.Redis, state.Options{}), Redis: rig.Redis, Log: testLogger(), Leases: q,
		Client: asynq.NewClientFromRedisClient(rig.Redis), ReapAfter: time.Hour,
	}
	if err := d.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	if rec := rig.record(t, id, "running", "failed"); rec["status"] != "running" {
		t.Fatalf("the reaper gave up on a job that just ended: %v", rec)
	}
	d.ReapAfter = time.Nanosecond
	if err := d.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	if rec := rig.record(t, id, "failed"); !strings.Contains(rec["reason"].(string), "no report of its end came") {
		t.Fatalf("record = %v", rec)
	}
	if r := a.report(o, wire.Report{Kind: wire.ReportFinished, Succeeded: true, Output: "done after all"}); r.Code != http.StatusAccepted {
		t.Fatalf("the late report: %d %s", r.Code, r.Body)
	}
	waitFor(t, func() bool {
		rec := rig.record(t, id, "failed")
		at := rec["attempts"].([]any)[0].(map[string]any)
		return at["status"] == "succeeded"
	})
	rec := rig.record(t, id, "failed")
	if len(rec["attempts"].([]any)) != 1 {
		t.Fatalf("record = %v", rec)
	}
	if n, err := rig.Redis.HLen(ctx, keyspace.AgentJobs("production")).Result(); err != nil || n != 1 {
		t.Fatalf("%d jobs in the zone (%v): a new attempt was offered", n, err)
	}
}

// TestAgentStopsWhenItsLeaseIsLost: a running job whose lease Reflex no
// longer grants (finished, here, as if another agent's) is stopped at the
// agent's next renewal, and nothing of it is reported.
func TestAgentStopsWhenItsLeaseIsLost(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl, func(o *server.Options) { o.AgentLeaseTTL = 1500 * time.Millisecond })
	rig.runAgent(t, "agent-1", `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c",
		"echo started > started.txt; sleep 2; echo deployed >> deployed.txt"], "params": {"COMMIT": {}}}}}`)
	id := sendPush(t, rig)
	rig.record(t, id, "running")
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(rig.dir, "started.txt")); return err == nil })
	q := rig.zoneJobs(t)
	j, err := q.Lookup(context.Background(), "production", delivery.JobKey(id, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Finish(context.Background(), "production", delivery.JobKey(id, 1), j.LeaseID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // past the action's end, had it gone on
	if got := rig.deployed(t); len(got) != 0 {
		t.Fatalf("the action went on after its lease was lost: %v", got)
	}
	if rec := rig.record(t, id, "running", "succeeded", "failed"); rec["status"] != "running" {
		t.Fatalf("the agent reported a job whose lease it lost: %v", rec)
	}
}

// TestLostTooOften: a job whose agents stop before finishing it as many
// times as its trigger allows is ended as lost, not offered for ever.
func TestLostTooOften(t *testing.T) {
	decl := strings.Replace(deliveryDecl, "release: event.commit.substring(0, 7)", "release: event.commit.substring(0, 7)\n    max_attempts: 1", 1)
	rig := startDelivery(t, newRedis(t), decl, func(o *server.Options) { o.AgentLeaseTTL = time.Second })
	a := rawAgent{t, rig.instance, rig.agentKey(t, "agent-1")}
	id := sendPush(t, rig)
	a.claim(rig, id)
	// The agent goes silent; its lease runs out; the next poll finds the
	// job has had its one attempt.
	time.Sleep(1200 * time.Millisecond)
	if r := a.post(wire.PathNext+"?wait=2s", nil); r.Code != http.StatusNoContent {
		t.Fatalf("poll after the lease ran out: %d %s, want nothing", r.Code, r.Body)
	}
	rec := rig.record(t, id, "failed")
	if !strings.Contains(rec["reason"].(string), "stopped before finishing it 1 times") {
		t.Fatalf("record = %v", rec)
	}
}

// TestAgentWrongZone: an agent started for another zone than its key's
// does not start, and says why.
func TestAgentWrongZone(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	file := writeActions(t, rig.dir, `{"actions": {"deploy": {"type": "system", "exec": ["true"]}}}`)
	ledger, err := agent.OpenLedger(filepath.Join(rig.dir, "ledger.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = agent.Run(ctx, agent.Options{Broker: rig.URL, APIKey: rig.agentKey(t, "agent-1"), Zone: "staging",
		Actions: file, Keys: rig.verifier, Ledger: ledger, Log: testLogger()})
	if err == nil || !strings.Contains(err.Error(), `bound to zone "production"`) {
		t.Fatalf("Run = %v, want a refusal naming the key's zone", err)
	}
	err = agent.Run(ctx, agent.Options{Broker: rig.URL, APIKey: "agent-1.wrong", Zone: "production",
		Actions: file, Keys: rig.verifier, Ledger: ledger, Log: testLogger()})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Run with a wrong key = %v, want a 401 refusal", err)
	}
}

func writeActions(t *testing.T, dir, content string) *agent.ActionsFile {
	t.Helper()
	path := filepath.Join(dir, "actions-"+t.Name()+".json")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	file, err := agent.LoadActions(path)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// TestTwoReplicas: an agent long-polls one replica (HTTP only); the
// webhook goes to another, whose worker offers the job; the waiting poll
// on the first replica takes it at once.
func TestTwoReplicas(t *testing.T) {
	rdb := newRedis(t)
	rig := startDelivery(t, rdb, deliveryDecl)
	front := start(t, rdb, func(o *server.Options) { o.Worker = false; o.Config = nil })
	key := rig.agentKey(t, "agent-1")
	polled := make(chan reply, 1)
	go func() {
		r, _ := call(t, front, key, "POST", wire.PathNext+"?wait=10s", "")
		polled <- r
	}()
	time.Sleep(200 * time.Millisecond) // the poll waits on the front replica
	id := sendPush(t, rig)
	select {
	case r := <-polled:
		var o wire.Offer
		decode(t, r, &o)
		if r.Code != http.StatusOK || o.Job != delivery.JobKey(id, 1) {
			t.Fatalf("the front replica's poll: %d %s", r.Code, r.Body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the poll on the other replica did not get the job within 5s")
	}
}

// TestPolicyTestTake: the policy test decides take as a real take is
// decided: the caller is the stored agent key it names (its kind and zone),
// and a caller it cannot find is never taken for the master key.
func TestPolicyTestTake(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	rig.agentKey(t, "agent-1")
	rig.zoneKey(t, "agent-s", "staging")
	id := sendPush(t, rig)
	rig.record(t, id, "queued")
	for _, tt := range []struct {
		caller string
		want   bool
	}{
		{`{"name":"agent-1"}`, true},
		{`{"name":"agent-s"}`, false},
		{`{"name":"ghost","master":true,"kind":"agent","zone":"production"}`, true}, // as stated, never master
		{`{"name":"ghost","master":true}`, false},
	} {
		r, _ := master(t, rig.instance, "POST", "/api/v1/decisions/test",
			`{"action":"take","type":"deployment","name":"`+id+`","caller":`+tt.caller+`}`)
		var d struct {
			Allowed bool
			Reason  string
		}
		decode(t, r, &d)
		if r.Code != http.StatusOK || d.Allowed != tt.want {
			t.Errorf("take by %s: %d %s, want allowed %v", tt.caller, r.Code, r.Body, tt.want)
		}
	}
}
