package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reflexops/reflex/internal/promtest"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/leases"
	"github.com/reflexops/reflex/metrics"
	"github.com/reflexops/reflex/policies"
)

// TestQueues: asynq's queues are reported by state, with their latency and
// whether they are paused, and each zone's agents' queue as
// "agents:<zone>"; a zone whose read fails, and one whose read outlasts
// the timeout, have no samples, count as errors, and leave the rest.
func TestQueues(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	client := asynq.NewClientFromRedisClient(r.Client)
	for _, opts := range [][]asynq.Option{
		{asynq.Queue("events")}, {asynq.Queue("events")},
		{asynq.Queue("events"), asynq.ProcessIn(time.Hour)},
		{asynq.Queue("deliveries"), asynq.TaskID("gone")},
	} {
		if _, err := client.Enqueue(asynq.NewTask("t", nil), opts...); err != nil {
			t.Fatal(err)
		}
	}
	inspector := asynq.NewInspectorFromRedisClient(r.Client)
	if err := inspector.ArchiveTask("deliveries", "gone"); err != nil {
		t.Fatal(err)
	}
	if err := inspector.PauseQueue("deliveries"); err != nil {
		t.Fatal(err)
	}
	zoneJobs := &leases.Queue{Redis: r.Client}
	t.Cleanup(func() { _ = zoneJobs.Close() })
	if err := zoneJobs.Offer(ctx, "production", "d1.1", []byte("job"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	q := &metrics.Queues{
		Inspector: inspector, Redis: r.Client, Leases: zoneJobs, Timeout: 500 * time.Millisecond,
		Zones: func(context.Context) ([]string, error) { return []string{"production", "Not-A-Zone"}, nil },
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(q)
	got, err := promtest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	s := promtest.Series
	size := func(queue, state string) string { return s("reflex_queue_size", "queue", queue, "state", state) }
	want := promtest.Samples{
		size("events", "pending"): 2, size("events", "active"): 0, size("events", "scheduled"): 1,
		size("events", "retry"): 0, size("events", "archived"): 0, size("events", "completed"): 0,
		size("deliveries", "pending"): 0, size("deliveries", "active"): 0, size("deliveries", "scheduled"): 0,
		size("deliveries", "retry"): 0, size("deliveries", "archived"): 1, size("deliveries", "completed"): 0,
		size("agents:production", "pending"): 1, size("agents:production", "active"): 0,
		s("reflex_queue_paused", "queue", "events"):     0,
		s("reflex_queue_paused", "queue", "deliveries"): 1,
		"reflex_queue_collect_errors_total":             1,
	}
	latencies := []string{"events", "deliveries", "agents:production"}
	for _, queue := range latencies {
		series := s("reflex_queue_latency_seconds", "queue", queue)
		if v, ok := got[series]; !ok || v < 0 || v > 60 {
			t.Errorf("%s = %v (present: %v), want a few seconds at most", series, v, ok)
		}
		delete(got, series)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}

	// A read that outlasts the timeout is given up on, and counted.
	q.Zones = func(ctx context.Context) ([]string, error) { <-ctx.Done(); return nil, ctx.Err() }
	start := time.Now()
	got, err = promtest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a scrape with a stuck read took %s, want about the 500ms timeout", took)
	}
	if n := got.Get("reflex_queue_collect_errors_total"); n < 2 {
		t.Errorf("errors counted after a stuck read: %v, want at least 2", n)
	}
	if _, ok := got[size("agents:production", "pending")]; ok {
		t.Error("a zone whose listing timed out still has samples")
	}
}

// allowReads allows reads and denies everything else.
type allowReads struct{ synced *string }

func (a allowReads) Authorize(_ context.Context, r policies.Request) policies.Decision {
	return policies.Decision{Allowed: r.Action == policies.ActionRead, Action: r.Action}
}

func (a allowReads) Sync(_ context.Context, id string) error {
	*a.synced = id
	return errors.New("synced")
}

// TestCountDecisions: every decision is counted by action and outcome, and
// passed on unchanged; Sync reaches the wrapped authorizer.
func TestCountDecisions(t *testing.T) {
	var synced string
	reg := prometheus.NewPedanticRegistry()
	authz := metrics.CountDecisions(allowReads{&synced}, reg)
	for _, a := range []policies.Action{policies.ActionRead, policies.ActionRead, policies.ActionWrite, policies.ActionTake} {
		if d := authz.Authorize(context.Background(), policies.Request{Action: a}); d.Allowed != (a == policies.ActionRead) {
			t.Errorf("%s: allowed %v, want the wrapped authorizer's answer", a, d.Allowed)
		}
	}
	got, err := promtest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	s := promtest.Series
	want := promtest.Samples{
		s("reflex_policy_decisions_total", "action", "read", "outcome", "allowed"): 2,
		s("reflex_policy_decisions_total", "action", "write", "outcome", "denied"): 1,
		s("reflex_policy_decisions_total", "action", "take", "outcome", "denied"):  1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
	if err := authz.Sync(context.Background(), "42-0"); err == nil || synced != "42-0" {
		t.Errorf("Sync = %v, synced %q: want the wrapped authorizer's answer for 42-0", err, synced)
	}
	if err := metrics.CountDecisions(policies.MasterOnly{}, prometheus.NewRegistry()).Sync(context.Background(), "1-0"); err != nil {
		t.Errorf("Sync over an authorizer that cannot sync = %v, want nil", err)
	}
}

// TestServe: the metrics are served without authentication on the
// listener given, only to GET /metrics, until the context ends.
func TestServe(t *testing.T) {
	ln, err := metrics.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "reflex_test_total", Help: "A test's counter."})
	reg.MustRegister(c)
	c.Add(3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- metrics.Serve(ctx, ln, reg, slog.New(slog.DiscardHandler)) }()
	base := "http://" + ln.Addr().String()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	samples, err := promtest.Parse(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || samples.Get("reflex_test_total") != 3 {
		t.Fatalf("GET /metrics: %d, %v, reflex_test_total = %v; want 200 and 3", resp.StatusCode, err, samples.Get("reflex_test_total"))
	}
	for _, path := range []string{"/", "/api/v1/events"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v after its context ended, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := metrics.Listen(ln.Addr().String() + "x"); err == nil {
		t.Error("Listen on a bad address: no error")
	}
}
