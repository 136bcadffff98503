package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/redisconn"
	"github.com/reflexops/reflex/server"
)

// The embedded Redis must keep up as it fills: BenchmarkEmbedded sends the
// same stream of signed pushes through a full server (HTTP and worker, as
// "reflex serve" runs by default) twice in one run, first on the embedded
// Redis that "reflex serve" starts without REDIS_URL, then on a real one
// (REDIS_URL's server when it is set, else a private redis-server with
// appendfsync everysec), and compares them: medians over -benchtime Nx
// runs, each ratio taken within one run.
const (
	benchPushes = 20000
	benchConns  = 16
	benchWindow = 5000
)

func BenchmarkEmbedded(b *testing.B) {
	f := fixture(b, "push.branch")
	var embedded, real []pushRun
	for b.Loop() {
		embedded = append(embedded, runPushes(b, nil, f))
		real = append(real, runPushes(b, realRedisURL, f))
	}
	// Medians over the runs (-benchtime Nx), each ratio taken within a run.
	median := func(runs []pushRun, of func(e, r pushRun) float64) float64 {
		v := make([]float64, len(runs))
		for i := range runs {
			v[i] = of(runs[i], real[i])
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	b.ReportMetric(median(embedded, func(e, _ pushRun) float64 { return e.first }), "embedded-first5k-req/s")
	b.ReportMetric(median(embedded, func(e, _ pushRun) float64 { return e.last }), "embedded-last5k-req/s")
	b.ReportMetric(median(embedded, func(e, _ pushRun) float64 { return e.last / e.first }), "embedded-last/first")
	b.ReportMetric(median(embedded, func(_, r pushRun) float64 { return r.all }), "real-req/s")
	b.ReportMetric(median(embedded, func(e, r pushRun) float64 { return e.all / r.all }), "embedded/real")
	b.ReportMetric(median(embedded, func(e, _ pushRun) float64 { return e.processed }), "embedded-processed/s")
	b.ReportMetric(median(embedded, func(_, r pushRun) float64 { return r.processed }), "real-processed/s")
}

// pushRun holds one run's rates, in requests per second: the first and
// last benchWindow answers, all of them, and all pushes processed.
type pushRun struct {
	first, last, all, processed float64
}

// realRedisURL returns the real Redis of the comparison, which lasts as
// long as tb.
func realRedisURL(tb testing.TB) string {
	if os.Getenv("REDIS_URL") != "" {
		return redistest.New(tb).URL
	}
	return redistest.StartServerWith(tb, redistest.ServerOptions{Fsync: "everysec"}).URL
}

// runPushes starts Reflex on the Redis that redisURL returns (the embedded
// one when nil) as "reflex serve" opens it, sends benchPushes signed
// pushes with unique delivery ids over benchConns connections, waits
// until the worker has processed them all, and stops everything it
// started, that Redis included.
func runPushes(b *testing.B, redisURL func(testing.TB) string, f fixtures.Fixture) pushRun {
	b.Helper()
	sc := &scope{TB: b}
	defer sc.close()
	url := ""
	if redisURL != nil {
		url = redisURL(sc)
	}
	conn, err := redisconn.Open(context.Background(), url, "", testLogger())
	if err != nil {
		b.Fatal(err)
	}
	sc.Cleanup(func() { conn.Close() })
	in := start(sc, conn.Client, func(o *server.Options) {
		o.Concurrency, o.PollInterval = 0, 0 // "reflex serve"'s defaults
		if conn.Embedded {
			o.SpillAt = jobs.EmbeddedSpillAt
		}
	})
	signed := signedHeaders(f, f.Body, testSecret)
	transport := &http.Transport{MaxIdleConnsPerHost: benchConns, MaxConnsPerHost: benchConns}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	var (
		next, done atomic.Int64
		answered   = make([]time.Time, benchPushes)
		failure    = make(chan error, benchConns)
		wg         sync.WaitGroup
	)
	begin := time.Now()
	for range benchConns {
		wg.Go(func() {
			for next.Add(1) <= benchPushes {
				if err := push(hc, in.URL+"/hooks/acme-github", signed, f.Body); err != nil {
					failure <- err
					return
				}
				answered[done.Add(1)-1] = time.Now()
			}
		})
	}
	wg.Wait()
	close(failure)
	if err := <-failure; err != nil {
		b.Fatal(err)
	}
	waitDrained(b, conn.Client, 10*time.Minute)
	end := answered[benchPushes-1]
	rate := func(n int, from, to time.Time) float64 { return float64(n) / to.Sub(from).Seconds() }
	return pushRun{
		first:     rate(benchWindow, begin, answered[benchWindow-1]),
		last:      rate(benchWindow, answered[benchPushes-benchWindow-1], end),
		all:       rate(benchPushes, begin, end),
		processed: rate(benchPushes, begin, time.Now()),
	}
}

// push sends one signed delivery with a fresh delivery id and wants 202.
func push(hc *http.Client, url string, signed http.Header, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = signed.Clone()
	req.Header.Set("X-GitHub-Delivery", uuid.NewString())
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("push: %d %s", resp.StatusCode, answer)
	}
	return nil
}

// waitDrained waits until the events queue holds no job that is still to
// run, and fails when one failed.
func waitDrained(b *testing.B, rdb redis.UniversalClient, patience time.Duration) {
	b.Helper()
	inspector := asynq.NewInspectorFromRedisClient(rdb)
	deadline := time.Now().Add(patience)
	for {
		q, err := inspector.GetQueueInfo(jobs.QueueEvents)
		if err != nil {
			b.Fatal(err)
		}
		if q.Retry+q.Archived > 0 {
			b.Fatalf("%d jobs retrying and %d failed", q.Retry, q.Archived)
		}
		spilled, err := jobs.Spilled(context.Background(), rdb, jobs.QueueEvents)
		if err != nil {
			b.Fatal(err)
		}
		if q.Pending+q.Active+q.Scheduled+spilled == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d jobs still pending after %s", q.Pending+q.Active+spilled, patience)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scope is a testing.TB whose cleanups run when close is called instead
// of at the end of the benchmark, so one run's servers are stopped before
// the next run starts.
type scope struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
}

// Cleanup registers f to run at close.
func (s *scope) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

// close runs the cleanups, last registered first.
func (s *scope) close() {
	s.mu.Lock()
	fs := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for _, f := range slices.Backward(fs) {
		f()
	}
}
