package agent

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/reflexops/reflex/wire"
)

// TestForward: a forward action posts the job's delivery byte for byte,
// signed with its local secret (never a job parameter's value); a job
// without a delivery fails for good; the file refuses a forward action
// that could not sign.
func TestForward(t *testing.T) {
	var got *http.Request
	var body []byte
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
	}))
	defer receiver.Close()
	f, err := actionsFile(t, `{
  "config": {"secret": "local"},
  "actions": {"fwd": {"type": "forward", "url": "`+receiver.URL+`/in", "sign": "hmac", "secret": "${secret}", "params": {"secret": {}}}}
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"ref":"refs/heads/main"}`)
	r := &Runner{File: f, Delivery: &wire.Forwarded{Connector: "github", Type: "push", ID: "d-42", Payload: payload}}
	if res := r.Run(context.Background(), "fwd", map[string]string{"secret": "attacker"}); !res.OK {
		t.Fatalf("forward: %+v", res)
	}
	mac := hmac.New(sha256.New, []byte("local"))
	mac.Write(payload)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); got.Header.Get("X-Reflex-Signature-256") != want {
		t.Errorf("signature %q, want %q (the local secret)", got.Header.Get("X-Reflex-Signature-256"), want)
	}
	if got.Header.Get("X-Reflex-Delivery") != "d-42" || got.Header.Get("X-Reflex-Event") != "push" || string(body) != string(payload) {
		t.Errorf("received %v %q", got.Header, body)
	}
	f.Actions["fwd"].Sign = "gitlab"
	if res := r.Run(context.Background(), "fwd", map[string]string{"secret": "attacker"}); !res.OK {
		t.Fatalf("forward as GitLab: %+v", res)
	}
	if got.Header.Get("X-Gitlab-Token") != "local" || got.Header.Get("X-Gitlab-Event") != "push" ||
		got.Header.Get("Idempotency-Key") != "d-42" || got.Header.Get("X-Gitlab-Event-UUID") != "d-42" || string(body) != string(payload) {
		t.Errorf("forwarded as GitLab: %v %q", got.Header, body)
	}
	r.Delivery = nil
	if res := r.Run(context.Background(), "fwd", nil); res.OK || !res.Permanent || !strings.Contains(res.Err.Error(), "forward: true") {
		t.Errorf("a job without a delivery: %+v, want a permanent failure", res)
	}
	for _, tt := range []struct{ action, want string }{
		{`{"type": "forward", "url": "http://x", "sign": "md5", "secret": "s"}`, `sign "md5"`},
		{`{"type": "forward", "url": "http://x", "sign": "github"}`, "needs a secret"},
		{`{"type": "forward", "sign": "github", "secret": "s"}`, "needs a url"},
	} {
		if _, err := actionsFile(t, `{"actions":{"a":`+tt.action+`}}`, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: LoadActions = %v, want %q", tt.action, err, tt.want)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
