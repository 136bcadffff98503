package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/server"
)

// TestQueues: GET /api/v1/queues shows each job queue's figures to whoever
// may read the event history; webhooks accepted while no worker runs are
// pending on the events queue, those beyond the pending list's bound (as
// on the embedded Redis) included.
func TestQueues(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.Worker, o.SpillAt = false, 1 })
	for range 3 {
		if r := deliver(t, in, withDelivery(fixture(t, "push.branch"))); r.Code != http.StatusAccepted {
			t.Fatalf("webhook: %d %s", r.Code, r.Body)
		}
	}
	r, _ := master(t, in, "GET", "/api/v1/queues", "")
	var queues []struct {
		Queue   string
		Size    int
		Pending int
	}
	decode(t, r, &queues)
	found := false
	for _, q := range queues {
		if q.Queue == "events" {
			found = q.Pending == 3 && q.Size == 3
		}
	}
	if r.Code != http.StatusOK || !found {
		t.Fatalf("queues = %d %s, want events with three pending jobs", r.Code, r.Body)
	}
	key := newKey(t, in, "reader")
	if r, _ := call(t, in, key, "GET", "/api/v1/queues", ""); r.Code != http.StatusForbidden {
		t.Fatalf("a key without read on events: %d %s", r.Code, r.Body)
	}
}

// TestSpilledJobsRun: with the pending list bounded, as on the embedded
// Redis, every accepted webhook is still processed.
func TestSpilledJobsRun(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.SpillAt = 2 })
	var ids []string
	for range 12 {
		f := withDelivery(fixture(t, "push.branch"))
		if r := deliver(t, in, f); r.Code != http.StatusAccepted {
			t.Fatalf("webhook: %d %s", r.Code, r.Body)
		}
		ids = append(ids, f.Header.Get("X-GitHub-Delivery"))
	}
	for _, id := range ids {
		waitProcessed(t, in, id)
	}
}

// TestProfiles: Go's runtime profiles are served to the master key, and to
// nobody else.
func TestProfiles(t *testing.T) {
	in := start(t, newRedis(t))
	if r, _ := master(t, in, "GET", "/debug/pprof/heap?debug=1", ""); r.Code != http.StatusOK || !strings.Contains(string(r.Body), "heap profile") {
		t.Fatalf("the master key's heap profile: %d %.200s", r.Code, r.Body)
	}
	key := newKey(t, in, "ops")
	if r, _ := call(t, in, key, "GET", "/debug/pprof/heap", ""); r.Code != http.StatusForbidden {
		t.Fatalf("another key: %d", r.Code)
	}
	if r, _ := call(t, in, "", "GET", "/debug/pprof/", ""); r.Code != http.StatusUnauthorized {
		t.Fatalf("no key: %d", r.Code)
	}
}

// TestHistoryTrimmedInBackground: the webhooks' answers never wait for a
// trim, and the server brings the history back to its bound soon after.
func TestHistoryTrimmedInBackground(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.Store.History = 3 })
	var last string
	for range 6 {
		f := withDelivery(fixture(t, "push.branch"))
		if r := deliver(t, in, f); r.Code != http.StatusAccepted {
			t.Fatalf("webhook: %d %s", r.Code, r.Body)
		}
		last = f.Header.Get("X-GitHub-Delivery")
		// The history orders events by their receive time, in
		// milliseconds: two in the same millisecond have no order.
		time.Sleep(2 * time.Millisecond)
	}
	waitProcessed(t, in, last)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, _ := master(t, in, "GET", "/api/v1/events?limit=100", "")
		var page []struct{ ID string }
		decode(t, r, &page)
		if len(page) == 3 && page[0].ID == last {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the history holds %d events 10s after the last webhook, want the 3 newest", len(page))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
