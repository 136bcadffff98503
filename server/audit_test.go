package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/server"
)

// auditLine is the part of a log line the audit trail is about.
type auditLine struct {
	Msg       string `json:"msg"`
	Op        string `json:"op"`
	Type      string `json:"type"`
	Name      string `json:"name"`
	Revision  int64  `json:"revision"`
	APIKey    string `json:"apikey"`
	Remote    string `json:"remote"`
	RequestID string `json:"request_id"`
}

// jsonLog sends the server's log, from info level, to buf as JSON lines.
func jsonLog(buf *syncBuffer) func(*server.Options) {
	return func(o *server.Options) {
		o.Log = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
}

// auditLines returns the audit lines of one request, once its access-log
// line (written after them) is in the log.
func auditLines(t *testing.T, log *syncBuffer, requestID string) []auditLine {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var audits []auditLine
		answered := false
		for _, raw := range strings.Split(log.String(), "\n") {
			var l auditLine
			if json.Unmarshal([]byte(raw), &l) != nil || l.RequestID != requestID {
				continue
			}
			switch l.Msg {
			case "audit":
				audits = append(audits, l)
			case "http request":
				answered = true
			}
		}
		if answered {
			return audits
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access-log line for request %s within 10s", requestID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAuditLog: every change made through the API writes one "audit" line
// per object changed, naming the operation, the object, the revision, the
// API key and the client's address (through a trusted proxy); a refused or
// idle write writes none; no line holds a secret.
func TestAuditLog(t *testing.T) {
	var log syncBuffer
	in := start(t, newRedis(t), jsonLog(&log), func(o *server.Options) { o.TrustedProxies = []string{"127.0.0.1"} })
	const client = "203.0.113.7"
	send := func(step, key, method, path, body string, header ...string) reply {
		t.Helper()
		header = append(header, "X-Request-Id", "audit-"+step, "X-Forwarded-For", client)
		r, _ := call(t, in, key, method, path, body, header...)
		return r
	}
	line := func(step, op, typ, name string, revision int64, key string) auditLine {
		return auditLine{Msg: "audit", Op: op, Type: typ, Name: name, Revision: revision, APIKey: key, Remote: client, RequestID: "audit-" + step}
	}

	// A key to change, and to try writes with that no policy allows.
	r := send("create-key", adminKey, "POST", "/api/v1/apikey", `{"name":"ci"}`)
	var created struct{ Key string }
	decode(t, r, &created)
	if r.Code != http.StatusCreated {
		t.Fatalf("create key: %d %s", r.Code, r.Body)
	}
	r = send("add-secret", adminKey, "POST", "/api/v1/apikey/ci/secrets", "")
	var rotated struct{ Key string }
	decode(t, r, &rotated)
	var doc struct{ Secrets []struct{ ID string } }
	decode(t, must(master(t, in, "GET", "/api/v1/apikey/ci", "")), &doc)
	if r.Code != http.StatusCreated || len(doc.Secrets) != 2 {
		t.Fatalf("add secret: %d %s; key %+v", r.Code, r.Body, doc)
	}
	steps := []struct {
		step, key, method, path, body string
		header                        []string
		wantCode                      int
		want                          []auditLine
	}{
		{"create", adminKey, "POST", "/api/v1/pipeline", `{"name":"bct"}`, nil, 201,
			[]auditLine{line("create", "create", "pipeline", "bct", 1, "master")}},
		{"merge", adminKey, "PATCH", "/api/v1/pipeline/bct", `{"title":"BCT"}`, []string{"Content-Type", "application/merge-patch+json"}, 200,
			[]auditLine{line("merge", "update", "pipeline", "bct", 2, "master")}},
		{"replace", adminKey, "PUT", "/api/v1/pipeline/bct", `{"title":"Bat'leth"}`, nil, 200,
			[]auditLine{line("replace", "update", "pipeline", "bct", 3, "master")}},
		{"unchanged", adminKey, "PUT", "/api/v1/pipeline/bct", `{"title":"Bat'leth"}`, nil, 202, nil},
		{"invalid", adminKey, "PATCH", "/api/v1/pipeline/bct", `{"services":"x"}`, nil, 400, nil},
		{"refused", created.Key, "PATCH", "/api/v1/pipeline/bct", `{"title":"x"}`, nil, 403, nil},
		{"stale", adminKey, "DELETE", "/api/v1/pipeline/bct", "", []string{"If-Match", `"1"`}, 412, nil},
		{"delete", adminKey, "DELETE", "/api/v1/pipeline/bct", "", nil, 200,
			[]auditLine{line("delete", "delete", "pipeline", "bct", 3, "master")}},
		{"remove-secret", adminKey, "DELETE", "/api/v1/apikey/ci/secrets/" + doc.Secrets[0].ID, "", nil, 200,
			[]auditLine{line("remove-secret", "remove-secret", "apikey", "ci", 3, "master")}},
		{"apply", adminKey, "POST", "/api/v1/apply", "policies:\n  - {name: always, expression: 'true'}\napikeys:\n  - {name: deployer}\n",
			[]string{"Content-Type", "application/yaml"}, 200, []auditLine{
				line("apply", "create", "apikey", "deployer", 1, "master"),
				line("apply", "create", "policy", "always", 1, "master"),
			}},
		{"delete-key", adminKey, "DELETE", "/api/v1/apikey/ci", "", nil, 200,
			[]auditLine{line("delete-key", "delete", "apikey", "ci", 3, "master")}},
	}
	// An apply's changes land together: their lines come in any order.
	byObject := cmpopts.SortSlices(func(a, b auditLine) bool { return a.Type+"/"+a.Name < b.Type+"/"+b.Name })
	var shown []string // keys the answers showed, once
	for _, s := range steps {
		r := send(s.step, s.key, s.method, s.path, s.body, s.header...)
		if r.Code != s.wantCode {
			t.Fatalf("%s: got %d %s, want %d", s.step, r.Code, r.Body, s.wantCode)
		}
		var answer struct{ Keys map[string]string }
		_ = json.Unmarshal(r.Body, &answer)
		for _, k := range answer.Keys {
			shown = append(shown, k)
		}
		got := auditLines(t, &log, "audit-"+s.step)
		if diff := cmp.Diff(s.want, got, byObject); diff != "" {
			t.Errorf("%s: audit lines (-want +got):\n%s", s.step, diff)
		}
	}

	// A replayed event is audited under the event's source and id.
	r = deliver(t, in, fixture(t, "push.branch"))
	if r.Code != http.StatusAccepted {
		t.Fatalf("deliver: %d %s", r.Code, r.Body)
	}
	id := r.ID
	waitProcessed(t, in, id)
	if r := send("replay", adminKey, "POST", "/api/v1/events/"+id+"/replay", ""); r.Code != http.StatusAccepted {
		t.Fatalf("replay: %d %s", r.Code, r.Body)
	}
	want := []auditLine{line("replay", "replay", "event", "acme-github/"+id, 0, "master")}
	if diff := cmp.Diff(want, auditLines(t, &log, "audit-replay")); diff != "" {
		t.Errorf("replay: audit lines (-want +got):\n%s", diff)
	}
	// Operating a queue is audited under the queue's name.
	for _, op := range []string{"pause", "resume"} {
		if r := send(op, adminKey, "POST", "/api/v1/queues/"+jobs.QueueEvents+"/"+op, ""); r.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", op, r.Code, r.Body)
		}
		want := []auditLine{line(op, op, "queue", jobs.QueueEvents, 0, "master")}
		if diff := cmp.Diff(want, auditLines(t, &log, "audit-"+op)); diff != "" {
			t.Errorf("%s: audit lines (-want +got):\n%s", op, diff)
		}
	}

	all := log.String()
	secrets := map[string]string{
		"the created key":  strings.TrimPrefix(created.Key, "ci."),
		"the added key":    strings.TrimPrefix(rotated.Key, "ci."),
		"the master key":   adminKey,
		"a webhook secret": testSecret,
	}
	if len(shown) != 1 {
		t.Fatalf("the apply showed keys %q, want one", shown)
	}
	_, secrets["the applied key"], _ = strings.Cut(shown[0], ".")
	for what, secret := range secrets {
		if secret == "" || bytes.Contains([]byte(all), []byte(secret)) {
			t.Errorf("the log holds %s (%q)", what, secret)
		}
	}
}

// TestAuditDeliveryOperations: cancelling a delivery and running it again
// each write one audit line naming the delivery.
func TestAuditDeliveryOperations(t *testing.T) {
	var log syncBuffer
	rig := startDelivery(t, newRedis(t), deliveryDecl, jsonLog(&log))
	id := sendPush(t, rig)
	rig.record(t, id, "queued")
	for _, tt := range []struct {
		op     string
		status []string
	}{
		{"cancel", []string{"cancelled"}},
		{"retry", []string{"queued"}},
	} {
		r, _ := master(t, rig.instance, "POST", "/api/v1/deliveries/"+id+"/"+tt.op, "", "X-Request-Id", "audit-"+tt.op)
		if r.Code != http.StatusOK {
			t.Fatalf("%s: got %d %s, want 200", tt.op, r.Code, r.Body)
		}
		rig.record(t, id, tt.status...)
		want := []auditLine{{Msg: "audit", Op: tt.op, Type: "deployment", Name: id, APIKey: "master", Remote: "127.0.0.1", RequestID: "audit-" + tt.op}}
		if diff := cmp.Diff(want, auditLines(t, &log, "audit-"+tt.op)); diff != "" {
			t.Errorf("%s: audit lines (-want +got):\n%s", tt.op, diff)
		}
	}
}

// TestAuditHooks: an apply of the declared hooks audits each hook it
// changes at the provider, and a rotation audits the source's new secret
// and the hook it updated, never the secret itself.
func TestAuditHooks(t *testing.T) {
	var log syncBuffer
	gh := newFakeGitHubHooks(t)
	in := startWithHooks(t, gh, jsonLog(&log))
	const hook = "acme-github@github:acme/api"
	steps := []struct {
		step, path, body string
		want             []auditLine
	}{
		{"hooks-apply", "/api/v1/hooks/apply", `{}`, []auditLine{{Op: "create", Type: "hook", Name: hook}}},
		{"hooks-rotate", "/api/v1/hooks/rotate", `{"source":"acme-github"}`, []auditLine{
			{Op: "rotate-secret", Type: "source", Name: "acme-github"},
			{Op: "update", Type: "hook", Name: hook},
		}},
	}
	for _, s := range steps {
		if r, _ := master(t, in, "POST", s.path, s.body, "X-Request-Id", "audit-"+s.step); r.Code != http.StatusOK {
			t.Fatalf("%s: got %d %s, want 200", s.step, r.Code, r.Body)
		}
		for i := range s.want {
			s.want[i].Msg, s.want[i].APIKey, s.want[i].Remote, s.want[i].RequestID = "audit", "master", "127.0.0.1", "audit-"+s.step
		}
		if diff := cmp.Diff(s.want, auditLines(t, &log, "audit-"+s.step)); diff != "" {
			t.Errorf("%s: audit lines (-want +got):\n%s", s.step, diff)
		}
	}
	if _, secret := gh.hookOf(t); secret == "" || strings.Contains(log.String(), secret) {
		t.Errorf("the hook's secret %q is empty or in the log", secret)
	}
}
