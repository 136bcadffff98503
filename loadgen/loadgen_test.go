package loadgen

import (
	"context"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/github"
	"github.com/reflexops/reflex/internal/redistest"
)

// TestDeliveries: every delivery is genuine (its connector verifies it
// with the secret), has an id of its own, and the fixtures come in turn,
// the ping left out.
func TestDeliveries(t *testing.T) {
	d, err := NewDeliveries("github", "run-", []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	conn := &github.Connector{}
	seen := map[string]bool{}
	types := map[string]bool{}
	for range 2 * d.Len() {
		id, h, body := d.Next()
		if seen[id] || !strings.HasPrefix(id, "run-") {
			t.Fatalf("delivery id %q repeated or without the run's prefix", id)
		}
		seen[id] = true
		if h.Get(github.HeaderDelivery) != id {
			t.Fatalf("delivery header %q, want %q", h.Get(github.HeaderDelivery), id)
		}
		req := &connectors.Request{Header: h, Body: body}
		if err := conn.Verify(context.Background(), req, [][]byte{[]byte("s3cret")}); err != nil {
			t.Fatalf("delivery %s does not verify: %v", id, err)
		}
		if err := conn.Verify(context.Background(), req, [][]byte{[]byte("other")}); err == nil {
			t.Fatalf("delivery %s verifies with another secret", id)
		}
		types[h.Get(github.HeaderEvent)] = true
	}
	if types["ping"] || len(types) < 5 {
		t.Fatalf("event types sent: %v; want the fixtures' mix without ping", types)
	}
	if _, err := NewDeliveries("nope", "", nil); err == nil {
		t.Error("an unknown connector was accepted")
	}
}

// TestBaselineUnderLoad: the baseline server takes a load on a real Redis
// (or the embedded one): every delivery is answered 202, a wrong signature
// 401, the backlog drains, and Redis's commands are counted.
func TestBaselineUnderLoad(t *testing.T) {
	r := redistest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- (&Baseline{Redis: r.Client, Secret: []byte("s3cret"), Worker: true, Log: slog.New(slog.DiscardHandler)}).Serve(ctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	url := "http://" + ln.Addr().String() + "/hooks/acme-github"
	d, err := NewDeliveries("github", "base-", []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	target := Target{Name: "baseline", HookURL: url, Backlog: QueueBacklog(r.Client, BaselineQueue)}
	m, err := Run(context.Background(), target, Load{Deliveries: d, Connections: 4, Requests: 200}, r.Client)
	if err != nil {
		t.Fatal(err)
	}
	if m.Result.Sent != 200 || m.Result.Status[http.StatusAccepted] != 200 || len(m.Result.Accepted) != 200 {
		t.Fatalf("answers: sent %d, %v", m.Result.Sent, m.Result.Status)
	}
	if n, err := target.Backlog(context.Background()); err != nil || n != 0 {
		t.Fatalf("backlog after the run: %d, %v", n, err)
	}
	// The embedded Redis keeps no command statistics.
	if os.Getenv("REDIS_URL") != "" && (m.Commands < 200 || m.Scripts < 200) {
		t.Errorf("Redis commands %d, scripts %d: want at least one enqueue each", m.Commands, m.Scripts)
	}
	if m.Result.Percentile(0.5) <= 0 || m.Result.Percentile(1) < m.Result.Percentile(0.99) {
		t.Errorf("latencies: p50 %s, p99 %s, max %s", m.Result.Percentile(0.5), m.Result.Percentile(0.99), m.Result.Percentile(1))
	}
	wrong, _ := NewDeliveries("github", "bad-", []byte("wrong"))
	m, err = Run(context.Background(), target, Load{Deliveries: wrong, Connections: 2, Requests: 10}, r.Client)
	if err != nil || m.Result.Status[http.StatusUnauthorized] != 10 {
		t.Fatalf("a wrong secret: %v %v, want 10×401", m.Result.Status, err)
	}
}

// TestRatedLoad: at a rate, a load sends about that many per second.
func TestRatedLoad(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	d, _ := NewDeliveries("github", "rate-", []byte("s"))
	l := Load{URL: "http://" + ln.Addr().String(), Deliveries: d, Connections: 4, Rate: 200, Requests: 100}
	res, err := l.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// 100 at 200/s take half a second, not less.
	if res.Sent != 100 || res.Elapsed < 450*time.Millisecond {
		t.Fatalf("sent %d in %s, want 100 in about 0.5s", res.Sent, res.Elapsed)
	}
	if _, err := (&Load{Deliveries: d}).Run(context.Background()); err == nil {
		t.Error("an unbounded load was accepted")
	}
}

func TestSummarize(t *testing.T) {
	mk := func(target string, rps float64) *Measure {
		return &Measure{Target: target, IntakeCPU: -1, TotalCPU: -1, Commands: -1, Scripts: -1,
			Result: &Result{Sent: int(rps), Elapsed: time.Second, Status: map[int]int{202: int(rps)}, Accepted: make([]string, int(rps))}}
	}
	rows := Summarize([]*Measure{mk("reflex", 90), mk("baseline", 100), mk("reflex", 80), mk("baseline", 120), mk("reflex", 100), mk("baseline", 110)})
	r := rows[0]
	if r.Metric != "requests per second" || r.Reflex != 90 || r.Baseline != 110 || math.Abs(r.Ratio-90.0/110) > 1e-9 {
		t.Fatalf("rps row = %+v, want medians 90 and 110", r)
	}
	for _, row := range rows {
		if row.Metric == "Redis commands per delivery" && !math.IsNaN(row.Reflex) {
			t.Errorf("an unknown figure is %v, want NaN", row.Reflex)
		}
	}
}
