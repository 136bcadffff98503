package server_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/wire"
)

// TestRevokedAgentPollGetsNoJob: an agent whose key is deleted while its
// poll waits is not handed the job that comes next (401); the job is given
// back and another agent of the zone takes it at once.
func TestRevokedAgentPollGetsNoJob(t *testing.T) {
	rig := startDelivery(t, newRedis(t), deliveryDecl)
	key := rig.agentKey(t, "agent-1")
	peer := rawAgent{t, rig.instance, rig.agentKey(t, "agent-2")}

	type answer struct {
		code int
		body string
		err  error
	}
	polled := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, rig.URL+wire.PathNext+"?wait=15s", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			polled <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		polled <- answer{code: resp.StatusCode, body: string(body)}
	}()
	// Give the poll a moment to start waiting: it then authenticated
	// before the key is deleted. Started later, it is refused at once,
	// which the assertions below accept as well.
	time.Sleep(200 * time.Millisecond)
	if r, _ := master(t, rig.instance, "DELETE", "/api/v1/apikey/agent-1", ""); r.Code != http.StatusOK {
		t.Fatalf("delete the agent's key: %d %s", r.Code, r.Body)
	}
	id := sendPush(t, rig)

	select {
	case got := <-polled:
		if got.err != nil || got.code != http.StatusUnauthorized {
			t.Fatalf("the revoked agent's poll: got %d %s (%v), want 401 and no job", got.code, got.body, got.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the revoked agent's poll did not end within 30s")
	}
	if o := peer.next(); o.Job != delivery.JobKey(id, 1) {
		t.Fatalf("the other agent got %q, want the job the revoked one gave back, %q", o.Job, delivery.JobKey(id, 1))
	}
}
