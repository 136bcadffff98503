package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/server"
)

// latencyRate is the steady, moderate rate of the latency benchmarks.
const latencyRate = 20 // per second

// latencyServices is how many services the deliveries go to.
const latencyServices = 10

// BenchmarkDeliveryLatency measures, for webhooks arriving at a steady 20
// per second, the time from the intake's 202 to the agent starting the
// action (an http action to a local server, which notes the arrival): the
// worker takes the event, offers the signed job, and the agent, waiting in
// a long poll on the agent API, takes it, claims it and runs it. Reflex
// runs with its default worker settings. BenchmarkBaselineAsynqLatency
// measures a bare asynq enqueue → handler on the same Redis with the same
// poll interval (jobs.DefaultPollInterval) and rate. Run with
// -benchtime=200x; the p50 and p99 are reported as metrics.
func BenchmarkDeliveryLatency(b *testing.B) {
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived[r.Header.Get("X-Event")] = time.Now()
		mu.Unlock()
	}))
	defer hook.Close()
	// Deliveries to one service run one at a time, so the webhooks are
	// spread over ten services, each with its trigger: 2 per second each.
	decl := deliveryDecl[:strings.Index(deliveryDecl, "triggers:")] + "triggers:\n"
	for k := range latencyServices {
		decl += fmt.Sprintf("  - {name: t%d, on: 'event.kind == \"code.pushed\" && event.id.endsWith(\"-s%d\")', service: svc-%d, action: deploy, params: {EVENT: event.id}}\n", k, k, k)
	}
	rig := startDelivery(b, newRedis(b), decl, func(o *server.Options) { o.PollInterval, o.Concurrency = 0, 0 })
	for k := range latencyServices {
		master(b, rig.instance, "POST", "/api/v1/service", fmt.Sprintf(`{"name":"svc-%d","pipeline":"web","zone":"production"}`, k))
	}
	rig.runAgent(b, "agent-1", `{"actions": {"deploy": {"type": "http", "method": "POST", "url": "`+hook.URL+`", "headers": {"X-Event": "${EVENT}"}, "params": {"EVENT": {}}}}}`)
	f := fixture(b, "push.branch")
	accepted := map[string]time.Time{}
	tick := time.NewTicker(time.Second / latencyRate)
	defer tick.Stop()
	i := 0
	for b.Loop() {
		<-tick.C
		i++
		id := fmt.Sprintf("lat-%d-s%d", i, i%latencyServices)
		g := withDelivery(f)
		g.Header.Set("X-GitHub-Delivery", id)
		if r := deliver(b, rig.instance, g); r.Code != http.StatusAccepted {
			b.Fatalf("webhook: %d %s", r.Code, r.Body)
		}
		accepted[id] = time.Now()
	}
	b.StopTimer()
	waitAll(b, &mu, arrived, len(accepted))
	reportLatency(b, accepted, arrived)
}

func BenchmarkBaselineAsynqLatency(b *testing.B) {
	rdb := newRedis(b)
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 4, TaskCheckInterval: jobs.DefaultPollInterval, LogLevel: asynq.ErrorLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc("bench", func(_ context.Context, t *asynq.Task) error {
		mu.Lock()
		arrived[string(t.Payload())] = time.Now()
		mu.Unlock()
		return nil
	})
	if err := srv.Start(mux); err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown()
	client := asynq.NewClientFromRedisClient(rdb)
	sent := map[string]time.Time{}
	tick := time.NewTicker(time.Second / latencyRate)
	defer tick.Stop()
	i := 0
	for b.Loop() {
		<-tick.C
		i++
		id := fmt.Sprintf("lat-%d", i)
		if _, err := client.Enqueue(asynq.NewTask("bench", []byte(id))); err != nil {
			b.Fatal(err)
		}
		sent[id] = time.Now()
	}
	b.StopTimer()
	waitAll(b, &mu, arrived, len(sent))
	reportLatency(b, sent, arrived)
}

func waitAll(b *testing.B, mu *sync.Mutex, arrived map[string]time.Time, n int) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		got := len(arrived)
		mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d arrived within 60s", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func reportLatency(b *testing.B, from, to map[string]time.Time) {
	var lat []time.Duration
	for id, t := range from {
		lat = append(lat, to[id].Sub(t))
	}
	slices.Sort(lat)
	p := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
