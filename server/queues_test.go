package server_test

import (
	"net/http"
	"testing"

	"github.com/reflexops/reflex/server"
)

// TestQueues: GET /api/v1/queues shows each job queue's figures to whoever
// may read the event history; a webhook accepted while no worker runs is
// pending on the events queue.
func TestQueues(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.Worker = false })
	if r := deliver(t, in, withDelivery(fixture(t, "push.branch"))); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
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
			found = q.Pending == 1 && q.Size == 1
		}
	}
	if r.Code != http.StatusOK || !found {
		t.Fatalf("queues = %d %s, want events with one pending job", r.Code, r.Body)
	}
	key := newKey(t, in, "reader")
	if r, _ := call(t, in, key, "GET", "/api/v1/queues", ""); r.Code != http.StatusForbidden {
		t.Fatalf("a key without read on events: %d %s", r.Code, r.Body)
	}
}
