package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/github"
	"github.com/reflexops/reflex/wire"
)

// TestForwardInward: a trigger that forwards hands the verified GitHub
// push to a receiver inside the network through the agent, re-signed with
// the receiver's own secret as GitHub signs, with the original delivery id
// and the payload byte for byte.
func TestForwardInward(t *testing.T) {
	const localSecret = "receiver-secret"
	type received struct {
		err          error
		event, id    string
		body         []byte
		fromInternet bool
	}
	var (
		mu  sync.Mutex
		got []received
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := &connectors.Request{Source: "flux", Header: r.Header, Body: body}
		rec := received{
			err:   github.New().Verify(context.Background(), req, [][]byte{[]byte(localSecret)}),
			event: r.Header.Get(github.HeaderEvent), id: r.Header.Get(github.HeaderDelivery), body: body,
			fromInternet: github.New().Verify(context.Background(), req, [][]byte{[]byte(testSecret)}) == nil,
		}
		mu.Lock()
		got = append(got, rec)
		mu.Unlock()
	}))
	defer receiver.Close()
	decl := deliveryDecl + `
  - name: push-to-flux
    on: 'event.kind == "code.pushed"'
    service: web-prod
    action: to-flux
    forward: true
`
	rig := startDelivery(t, newRedis(t), decl)
	t.Setenv("FLUX_WEBHOOK_SECRET", localSecret)
	rig.runAgent(t, "agent-1", `{"actions": {
  "deploy": {"type": "system", "exec": ["true"], "params": {"COMMIT": {}}},
  "to-flux": {"type": "forward", "url": "`+receiver.URL+`/hook/web", "sign": "github", "secret": "${FLUX_WEBHOOK_SECRET}"}
}}`)
	f := withDelivery(fixture(t, "push.branch"))
	deliver(t, rig.instance, f)
	id := wire.ID("push-to-flux", "acme-github", f.Header.Get(github.HeaderDelivery))
	rec := rig.record(t, id, "succeeded", "failed")
	if rec["status"] != "succeeded" {
		t.Fatalf("the forward delivery: %v", rec)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("the receiver got %d deliveries, want 1", len(got))
	}
	r := got[0]
	switch {
	case r.err != nil:
		t.Errorf("the receiver could not verify the local signature: %v", r.err)
	case r.fromInternet:
		t.Error("the forwarded delivery is signed with the provider's secret, not the local one")
	case r.id != f.Header.Get(github.HeaderDelivery) || r.event != "push":
		t.Errorf("the receiver saw delivery %q of %q, want the original %q of push", r.id, r.event, f.Header.Get(github.HeaderDelivery))
	case string(r.body) != string(f.Body):
		t.Errorf("the payload changed on the way:\n%s", r.body)
	}
	if !strings.Contains(rec["output"].(string), "forward push") {
		t.Errorf("output: %v", rec["output"])
	}
}
