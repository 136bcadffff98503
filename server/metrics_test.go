package server_test

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/agent"
	"github.com/reflexops/reflex/internal/promtest"
	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/wire"
)

// failMarker marks the deliveries whose Redis writes failMarked fails.
const failMarker = "xfailx-"

// failMarked fails every Redis command naming failMarker (the intake's
// write of a delivery whose id carries it), as an unreachable Redis
// would: the intake answers 503, and nothing else is disturbed.
type failMarked struct{}

func (failMarked) DialHook(next redis.DialHook) redis.DialHook { return next }

func (failMarked) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if marked(cmd) {
			cmd.SetErr(errMarked)
			return errMarked
		}
		return next(ctx, cmd)
	}
}

func (failMarked) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if marked(cmd) {
				cmd.SetErr(errMarked)
				return errMarked
			}
		}
		return next(ctx, cmds)
	}
}

var errMarked = &markedError{"connection refused (a test's failure)"}

// markedError is the error a failed command returns.
type markedError struct{ msg string }

func (e *markedError) Error() string { return e.msg }

func marked(cmd redis.Cmder) bool {
	for _, a := range cmd.Args() {
		if s, ok := a.(string); ok && strings.Contains(s, failMarker) {
			return true
		}
	}
	return false
}

// metricsDecl is the delivery scenario with a receive policy that denies
// branch deletions, and one attempt per delivery.
func metricsDecl() string {
	d := strings.Replace(deliveryDecl, "policies:\n", "policies:\n  - {name: no-branch-deletion, deny: true, expression: 'event.kind == \"branch.deleted\"'}\n", 1)
	d = strings.Replace(d, "policies: [verified]}", "policies: [verified, no-branch-deletion]}", 1)
	return strings.Replace(d, "release: event.commit.substring(0, 7)", "release: event.commit.substring(0, 7)\n    max_attempts: 1", 1)
}

// runMeasuredAgent runs an agent of zone production whose deploy action
// fails while the file "fail" exists, registering its metrics with reg.
func runMeasuredAgent(t *testing.T, rig *deliveryRig, name string, reg prometheus.Registerer) {
	t.Helper()
	file := writeActions(t, rig.dir, `{"actions": {"deploy": {"type": "system", "exec": ["sh", "-c", "test -f fail && exit 1; echo ok"], "params": {"COMMIT": {}}}}}`)
	ledger, err := agent.OpenLedger(filepath.Join(rig.dir, "ledger-"+name+".json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		err := agent.Run(ctx, agent.Options{
			Broker: rig.URL, APIKey: rig.agentKey(t, name), Zone: "production", Actions: file, Keys: rig.verifier, Ledger: ledger,
			ShutdownTimeout: 5 * time.Second, Log: testLogger(), Metrics: reg,
		})
		if err != nil {
			t.Errorf("agent %s: %v", name, err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// scrape reads /metrics with the admin key and parses it with
// Prometheus's text parser.
func scrape(t *testing.T, in *instance) promtest.Samples {
	t.Helper()
	r := apiGet(t, in, "/metrics", nil)
	if r.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", r.Code, r.Body)
	}
	samples, err := promtest.Parse(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return samples
}

// subset returns the samples of got that want names, 0 for those absent.
func subset(got, want promtest.Samples) promtest.Samples {
	out := promtest.Samples{}
	for series := range want {
		out[series] = got[series]
	}
	return out
}

// TestMetricsAfterAKnownMix sends a known mix of webhooks (accepted,
// duplicate, refused, denied by policy, failed to queue) and deliveries
// (succeeded, failed), and finds each in the counters of /metrics, parsed
// with Prometheus's text parser, and the agent's own.
func TestMetricsAfterAKnownMix(t *testing.T) {
	rdb := newRedis(t)
	rdb.AddHook(failMarked{})
	rig := startDelivery(t, rdb, metricsDecl(), logOnFailure(t))
	agentMetrics := prometheus.NewPedanticRegistry()
	runMeasuredAgent(t, rig, "agent-m", agentMetrics)

	var sent []http.Header
	send := func(status string) {
		t.Helper()
		f := withDelivery(fixture(t, "push.branch"))
		if r := deliver(t, rig.instance, f); r.Code != http.StatusAccepted {
			t.Fatalf("webhook: %d %s", r.Code, r.Body)
		}
		sent = append(sent, f.Header)
		rig.record(t, wire.ID("push-web", "acme-github", f.Header.Get("X-GitHub-Delivery")), status)
	}
	for range 3 {
		send("succeeded")
	}
	if err := os.WriteFile(filepath.Join(rig.dir, "fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		send("failed")
	}
	push := fixture(t, "push.branch")
	for _, h := range sent[:2] {
		f := push
		f.Header = h
		if r := deliver(t, rig.instance, f); r.Code != http.StatusOK || r.Status != "duplicate" {
			t.Fatalf("a delivery sent again: %d %s, want 200 duplicate", r.Code, r.Body)
		}
	}
	for range 2 {
		f := withDelivery(push)
		if r := post(t, rig.URL+"/hooks/acme-github", signedHeaders(f, f.Body, "not-the-secret"), f.Body); r.Code != http.StatusUnauthorized {
			t.Fatalf("a bad signature: %d %s, want 401", r.Code, r.Body)
		}
	}
	if r := post(t, rig.URL+"/hooks/nobody", signedHeaders(push, push.Body, testSecret), push.Body); r.Code != http.StatusNotFound {
		t.Fatalf("an unknown source: %d %s, want 404", r.Code, r.Body)
	}
	if r := deliver(t, rig.instance, withDelivery(fixture(t, "push.branch-deleted"))); r.Code != http.StatusForbidden {
		t.Fatalf("a branch deletion: %d %s, want 403", r.Code, r.Body)
	}
	for range 2 {
		f := withDelivery(push)
		f.Header.Set("X-GitHub-Delivery", failMarker+uuid.NewString())
		if r := deliver(t, rig.instance, f); r.Code != http.StatusServiceUnavailable {
			t.Fatalf("a delivery Redis fails to queue: %d %s, want 503", r.Code, r.Body)
		}
	}

	got := scrape(t, rig.instance)
	s := promtest.Series
	hooks := func(name, outcomeLabel, outcome string) string {
		return s(name, "source", "acme-github", "connector", "github", outcomeLabel, outcome)
	}
	want := promtest.Samples{
		hooks("reflex_webhooks_received_total", "outcome", "accepted"):                                5,
		hooks("reflex_webhooks_received_total", "outcome", "duplicate"):                               2,
		hooks("reflex_webhooks_received_total", "outcome", "refused"):                                 2,
		hooks("reflex_webhooks_received_total", "outcome", "denied"):                                  1,
		hooks("reflex_webhooks_received_total", "outcome", "failed"):                                  2,
		s("reflex_webhooks_received_total", "source", "", "connector", "", "outcome", "refused"):      1,
		hooks("reflex_webhook_refusals_total", "reason", "unauthorized"):                              2,
		hooks("reflex_webhook_refusals_total", "reason", "policy"):                                    1,
		s("reflex_webhook_refusals_total", "source", "", "connector", "", "reason", "unknown_source"): 1,
		hooks("reflex_webhook_verification_failures_total", "reason", "unauthorized"):                 2,
		s("reflex_webhook_enqueue_failures_total", "source", "acme-github"):                           2,
		s("reflex_webhook_intake_duration_seconds_count", "outcome", "accepted"):                      5,
		s("reflex_webhook_intake_duration_seconds_count", "outcome", "duplicate"):                     2,
		s("reflex_webhook_intake_duration_seconds_count", "outcome", "refused"):                       3,
		s("reflex_webhook_intake_duration_seconds_count", "outcome", "denied"):                        1,
		s("reflex_webhook_intake_duration_seconds_count", "outcome", "failed"):                        2,
		// Receive is decided before de-duplication and queueing.
		s("reflex_policy_decisions_total", "action", "receive", "outcome", "allowed"):                     9,
		s("reflex_policy_decisions_total", "action", "receive", "outcome", "denied"):                      1,
		s("reflex_policy_decisions_total", "action", "deliver", "outcome", "allowed"):                     5,
		s("reflex_policy_decisions_total", "action", "take", "outcome", "allowed"):                        5,
		s("reflex_jobs_total", "type", "event:process", "outcome", "succeeded"):                           5,
		s("reflex_job_duration_seconds_count", "type", "event:process"):                                   5,
		s("reflex_deliveries_total", "zone", "production", "service", "web-prod", "outcome", "succeeded"): 3,
		s("reflex_deliveries_total", "zone", "production", "service", "web-prod", "outcome", "failed"):    2,
		s("reflex_queue_size", "queue", "agents:production", "state", "pending"):                          0,
		s("reflex_queue_size", "queue", "agents:production", "state", "active"):                           0,
		"reflex_queue_collect_errors_total":                                                               0,
	}
	if diff := cmp.Diff(want, subset(got, want)); diff != "" {
		t.Errorf("/metrics (-want +got):\n%s", diff)
	}
	for _, series := range []string{
		s("reflex_queue_size", "queue", "events", "state", "pending"),
		s("reflex_queue_latency_seconds", "queue", "events"),
		s("reflex_queue_latency_seconds", "queue", "agents:production"),
	} {
		if _, ok := got[series]; !ok {
			t.Errorf("/metrics has no %s", series)
		}
	}
	seen := got[s("reflex_agent_last_seen_timestamp_seconds", "zone", "production", "agent", "agent-m")]
	if at := time.Unix(int64(seen), 0); time.Since(at) > time.Minute {
		t.Errorf("agent-m last seen at %s (%v), want within the last minute", at, seen)
	}

	// The agent counts a job once its report went through, a moment after
	// the record shows it.
	wantAgent := promtest.Samples{
		s("reflex_agent_jobs_total", "action", "deploy", "outcome", "succeeded"): 3,
		s("reflex_agent_jobs_total", "action", "deploy", "outcome", "failed"):    2,
		s("reflex_agent_job_duration_seconds_count", "action", "deploy"):         5,
		"reflex_agent_connected":         1,
		"reflex_agent_poll_errors_total": 0,
	}
	var diff string
	for range 100 {
		gotAgent, err := promtest.Gather(agentMetrics)
		if err != nil {
			t.Fatal(err)
		}
		if gotAgent["reflex_agent_polls_total"] < 5 {
			diff = "fewer than 5 polls"
		} else if diff = cmp.Diff(wantAgent, subset(gotAgent, wantAgent)); diff == "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if diff != "" {
		t.Errorf("the agent's metrics (-want +got):\n%s", diff)
	}
	exposed, err := promtest.Gather(agentMetrics)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(exposed, got)
	checkDocsNames(t, exposed)
}

// TestMetricsElsewhere: with the metrics served on an address of their
// own, the HTTP listener serves no /metrics, and what the server counts
// lands in the registry given.
func TestMetricsElsewhere(t *testing.T) {
	reg := prometheus.NewRegistry()
	in := start(t, newRedis(t), func(o *server.Options) { o.Metrics, o.MetricsElsewhere = reg, true })
	if r := apiGet(t, in, "/metrics", nil); r.Code != http.StatusNotFound {
		t.Fatalf("GET /metrics on the HTTP listener: %d, want 404", r.Code)
	}
	if r := deliver(t, in, withDelivery(fixture(t, "push.branch"))); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	got, err := promtest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	if n := got.Get("reflex_webhooks_received_total", "source", "acme-github", "connector", "github", "outcome", "accepted"); n != 1 {
		t.Fatalf("accepted webhooks in the registry given: %v, want 1", n)
	}
}
