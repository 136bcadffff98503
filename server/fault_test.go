package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/redisconn"
)

// withDelivery returns a copy of a fixture with a fresh delivery id.
func withDelivery(f fixtures.Fixture) fixtures.Fixture {
	f.Header = f.Header.Clone()
	f.Header.Set("X-GitHub-Delivery", uuid.NewString())
	return f
}

// TestRedisOutage stops a private redis-server mid-test: deliveries are
// refused with 503 and Retry-After while it is down, accepted again once it
// is back, and every delivery that was ever accepted gets processed.
func TestRedisOutage(t *testing.T) {
	redisconn.RouteLogs(testLogger())
	srv := redistest.StartServer(t)
	opts, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// A stopped server refuses connections at once; the read and write
	// timeouts only have to outlast an fsync on a busy disk (the server
	// syncs every write).
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 500*time.Millisecond, 5*time.Second, 5*time.Second
	opts.MaxRetries = 1
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	in := start(t, rdb, logOnFailure(t))
	push := fixture(t, "push.branch")

	var accepted []string
	send := func() reply {
		r := deliver(t, in, withDelivery(push))
		if r.Code == http.StatusAccepted {
			accepted = append(accepted, r.ID)
		}
		return r
	}
	for range 5 {
		if r := send(); r.Code != http.StatusAccepted {
			t.Fatalf("before the outage: %d %s", r.Code, r.Body)
		}
	}

	srv.Stop()
	for range 3 {
		r := send()
		if r.Code != http.StatusServiceUnavailable || r.Status != "failed" || r.RetryAfter == "" {
			t.Fatalf("during the outage: %d %s (Retry-After %q), want 503 failed with Retry-After", r.Code, r.Body, r.RetryAfter)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, in.URL+"/readyz", nil)
	if r := do(t, req); r.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage answered %d", r.Code)
	}

	srv.Start()
	// Accepted again once it is back: each delivery, sent again on a 503
	// with the same delivery id as a provider would, is accepted within
	// 10 s. (A server that syncs every write to a busy disk may still stall
	// a moment after its restart; a reply lost then may hide a job that was
	// queued, which the same id then finds as a duplicate.)
	for i := range 6 {
		f := withDelivery(push)
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := deliver(t, in, f)
			if r.Code == http.StatusAccepted || r.Status == "duplicate" {
				accepted = append(accepted, f.Header.Get("X-GitHub-Delivery"))
				break
			}
			if r.Code != http.StatusServiceUnavailable || time.Now().After(deadline) {
				t.Fatalf("delivery %d after Redis came back: %d %s", i+1, r.Code, r.Body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// A job whose dequeue reply was lost when Redis died stays "active"
	// until asynq's once-a-minute recoverer finds its lease expired for 30 s
	// (up to about two minutes) and returns it to the queue: eventually
	// processed, never lost.
	for _, id := range accepted {
		waitProcessedWithin(t, in, id, 3*time.Minute)
	}
	if n, err := rdb.ZCard(context.Background(), keyspace.Events()).Result(); err != nil || n != int64(len(accepted)) {
		t.Errorf("%d events stored, want the %d accepted (%v)", n, len(accepted), err)
	}
}
