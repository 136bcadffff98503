package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/state"
)

// TestPushEndToEnd: a signed push is accepted, processed within seconds,
// readable by the id the intake returned, and moves its branch head.
func TestPushEndToEnd(t *testing.T) {
	in := start(t, newRedis(t), nil)
	f := fixture(t, "push.branch")
	r := deliver(t, in, f)
	if r.Code != http.StatusAccepted || r.Status != "accepted" || r.ID != f.Header.Get("X-GitHub-Delivery") {
		t.Fatalf("delivery answered %d %s, want 202 accepted with the delivery id", r.Code, r.Body)
	}
	ev := waitProcessed(t, in, r.ID)
	if ev.Repository == nil || ev.Repository.Name != "Codertocat/Hello-World" {
		t.Errorf("repository = %+v", ev.Repository)
	}
	if ev.Ref != "refs/heads/main" || ev.Commit != "ec26c3e57ca3a959ca5aad62de7213c562f8c821" || ev.Kind != event.KindCodePushed {
		t.Errorf("ref, commit, kind = %q, %q, %q", ev.Ref, ev.Commit, ev.Kind)
	}
	if ev.ProcessedAt == nil || ev.ProcessedAt.Before(ev.ReceivedAt) {
		t.Errorf("processed_at = %v, received_at = %v", ev.ProcessedAt, ev.ReceivedAt)
	}
	var repo map[string]any
	if r := apiGet(t, in, "/api/v1/state/acme-github:Codertocat:Hello-World", &repo); r.Code != http.StatusOK {
		t.Fatalf("repository state answered %d %s", r.Code, r.Body)
	}
	main := dig(repo, "branches", "main")
	if main["commit"] != ev.Commit || main["event"] != ev.ID || repo["updated_by"] != "reflex:worker" {
		t.Errorf("repository state = %v, want main at %s from event %s", repo, ev.Commit, ev.ID)
	}
	var payload map[string]any
	if r := apiGet(t, in, "/api/v1/events/"+ev.ID+"/payload", &payload); r.Code != http.StatusOK || payload["ref"] != "refs/heads/main" {
		t.Errorf("payload answered %d with ref %v", r.Code, payload["ref"])
	}
	var ce event.CloudEvent
	apiGet(t, in, "/api/v1/events/"+ev.ID+"?format=cloudevents", &ce)
	if ce.SpecVersion != "1.0" || ce.ID != ev.ID || ce.Source != "/sources/acme-github" || ce.Type != "dev.reflex.code.pushed" || ce.Subject != "Codertocat/Hello-World" {
		t.Errorf("CloudEvent = %+v", ce)
	}
}

// TestEveryFixtureIsAccepted: each fixture goes through the real server and
// is stored exactly as its golden file says, with only the processing
// fields added; the ping is answered without a job.
func TestEveryFixtureIsAccepted(t *testing.T) {
	in := start(t, newRedis(t), nil)
	for _, name := range []string{"push.tag", "workflow_run.completed", "package.published", "issues.opened", "deployment_status.created"} {
		f := fixture(t, name)
		r := deliver(t, in, f)
		if r.Code != http.StatusAccepted {
			t.Fatalf("%s answered %d %s", name, r.Code, r.Body)
		}
		ev := waitProcessed(t, in, r.ID)
		if ev.Type != f.Header.Get("X-GitHub-Event") {
			t.Errorf("%s stored as type %q", name, ev.Type)
		}
	}
	var repo map[string]any
	apiGet(t, in, "/api/v1/state/acme-github:octo-org:octo-repo", &repo)
	if wf := dig(repo, "workflows", "test"); wf["status"] != "finished" || wf["outcome"] != "success" || wf["number"] != float64(163) {
		t.Errorf("workflow test = %v, want run 163 finished with success", wf)
	}
	var build map[string]any
	apiGet(t, in, "/api/v1/build/acme-github:octo-org:octo-repo:3484a3fb816e", &build)
	if build["state"] != "succeeded" || build["version"] != "3484a3fb816e0859fd6e1cea078d76385ff50625" || dig(build, "steps", "test")["outcome"] != "success" {
		t.Errorf("build = %v, want succeeded with step test", build)
	}
	var image map[string]any
	apiGet(t, in, "/api/v1/build/acme-github:Codertocat:hello-world-npm:6c62fb45fe66", &image)
	if a := dig(image, "artifact"); a["reference"] != "ghcr.io/Codertocat/hello-world:1.4.2" || a["digest"] == nil {
		t.Errorf("build artifact = %v, want the published image", a)
	}
	ping := fixture(t, "ping")
	r := deliver(t, in, ping)
	if r.Code != http.StatusOK || r.Status != "ok" {
		t.Fatalf("ping answered %d %s, want 200 ok", r.Code, r.Body)
	}
	if r := apiGet(t, in, "/api/v1/events/"+ping.Header.Get("X-GitHub-Delivery"), nil); r.Code != http.StatusNotFound {
		t.Errorf("a ping was stored as an event (%d)", r.Code)
	}
}

func TestFormEncodedDelivery(t *testing.T) {
	in := start(t, newRedis(t), nil)
	f := fixture(t, "push.branch")
	body := []byte(url.Values{"payload": {string(f.Body)}}.Encode())
	h := signedHeaders(f, body, testSecret)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	r := post(t, in.URL+"/hooks/acme-github", h, body)
	if r.Code != http.StatusAccepted {
		t.Fatalf("form delivery answered %d %s", r.Code, r.Body)
	}
	if ev := waitProcessed(t, in, r.ID); ev.Commit != "ec26c3e57ca3a959ca5aad62de7213c562f8c821" {
		t.Errorf("commit = %q", ev.Commit)
	}
}

// dig walks nested JSON objects.
func dig(doc map[string]any, path ...string) map[string]any {
	for _, p := range path {
		doc, _ = doc[p].(map[string]any)
	}
	return doc
}

// pendingTasks counts the event jobs waiting in the queue.
func pendingTasks(t *testing.T, in *instance) int {
	t.Helper()
	tasks, err := asynq.NewInspectorFromRedisClient(in.Redis).ListPendingTasks(jobs.QueueEvents, asynq.PageSize(1000))
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(tasks)
}

// TestDuplicateWhileQueued: with no worker running, copies of a delivery,
// one after another and many at the same moment, queue exactly one job.
func TestDuplicateWhileQueued(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.Worker = false })
	f := fixture(t, "push.branch")
	if r := deliver(t, in, f); r.Code != http.StatusAccepted {
		t.Fatalf("first copy answered %d %s", r.Code, r.Body)
	}
	if r := deliver(t, in, f); r.Code != http.StatusOK || r.Status != "duplicate" {
		t.Fatalf("second copy answered %d %s, want 200 duplicate", r.Code, r.Body)
	}

	g := fixture(t, "push.tag")
	codes := concurrentDeliveries(t, in, g, 20)
	if codes[http.StatusAccepted] != 1 || codes[http.StatusOK] != 19 {
		t.Fatalf("20 concurrent copies answered %v, want one 202 and nineteen 200", codes)
	}
	if n := pendingTasks(t, in); n != 2 {
		t.Fatalf("%d jobs queued for two distinct deliveries, want 2", n)
	}
	ev, err := state.New(in.Redis, state.Options{}).Event(context.Background(), g.Header.Get("X-GitHub-Delivery"), "")
	if err != nil || ev.Status != event.StatusQueued {
		t.Fatalf("queued event = %+v, %v; want status queued", ev, err)
	}
}

// TestDuplicateAfterProcessing: once the job has run and its task is gone,
// the dedupe record still catches a redelivery, also concurrent ones.
func TestDuplicateAfterProcessing(t *testing.T) {
	in := start(t, newRedis(t), nil)
	f := fixture(t, "workflow_run.completed")
	r := deliver(t, in, f)
	if r.Code != http.StatusAccepted {
		t.Fatalf("first copy answered %d %s", r.Code, r.Body)
	}
	first := waitProcessed(t, in, r.ID)
	codes := concurrentDeliveries(t, in, f, 10)
	if codes[http.StatusOK] != 10 {
		t.Fatalf("redeliveries after processing answered %v, want ten 200 duplicate", codes)
	}
	again := waitProcessed(t, in, r.ID)
	if !again.ProcessedAt.Equal(*first.ProcessedAt) {
		t.Errorf("the event was processed again: processed_at %v then %v", first.ProcessedAt, again.ProcessedAt)
	}
	waitJobDone(t, in.Redis, jobs.QueueEvents, "acme-github/"+r.ID)
	processed, err := asynq.NewInspectorFromRedisClient(in.Redis).GetQueueInfo(jobs.QueueEvents)
	if err != nil {
		t.Fatal(err)
	}
	if processed.ProcessedTotal != 1 {
		t.Errorf("the worker processed %d jobs for one delivery, want 1", processed.ProcessedTotal)
	}
}

// concurrentDeliveries posts n copies of a fixture at the same moment and
// counts the answers by status code.
func concurrentDeliveries(t *testing.T, in *instance, f fixtures.Fixture, n int) map[int]int {
	t.Helper()
	var (
		mu    sync.Mutex
		codes = map[int]int{}
		wg    sync.WaitGroup
		gate  = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-gate
			r := deliver(t, in, f)
			mu.Lock()
			codes[r.Code]++
			mu.Unlock()
		})
	}
	close(gate)
	wg.Wait()
	return codes
}

// TestUnknownSourceAndErrors: one case per error class, each with its
// status and an actionable message that never echoes a secret.
// notJSON is a push whose ref decodes, but whose unread field is not JSON
// (a number with a leading zero).
var notJSON = []byte(`{"ref":"refs/heads/main","after":"ec26c3e57ca3a959ca5aad62de7213c562f8c821","unread":01}`)

// notUTF8 is a push whose ref holds bytes that are not UTF-8: Go's JSON
// decoder would take it (as U+FFFD), but it is not valid JSON to serve.
var notUTF8 = []byte("{\"ref\":\"refs/heads/ma\xffin\",\"repository\":{\"full_name\":\"a/b\"}}")

func TestIntakeErrors(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.MaxBody = 64 << 10 })
	f := fixture(t, "push.branch")
	good := func() http.Header { return signedHeaders(f, f.Body, testSecret) }
	big := bytes.Repeat([]byte("x"), 64<<10+1)
	tests := []struct {
		name    string
		path    string
		header  func() http.Header
		body    []byte
		chunked bool
		want    int
		message string
	}{
		{name: "unknown source", path: "/hooks/nope", header: good, body: f.Body, want: 404, message: `no source named "nope" is configured`},
		{name: "bad signature", path: "/hooks/acme-github", header: func() http.Header { return signedHeaders(f, f.Body, "wrong") }, body: f.Body, want: 401, message: "does not match"},
		{name: "tampered body", path: "/hooks/acme-github", header: good, body: append(bytes.Clone(f.Body), ' '), want: 401, message: "does not match"},
		{name: "missing signature", path: "/hooks/acme-github", header: func() http.Header { return f.Header.Clone() }, body: f.Body, want: 401, message: "X-Hub-Signature-256 header is missing"},
		{name: "sha1 only", path: "/hooks/acme-github", header: func() http.Header {
			h := f.Header.Clone()
			h.Set("X-Hub-Signature", "sha1=0000000000000000000000000000000000000000")
			return h
		}, body: f.Body, want: 401, message: "only the SHA-1"},
		{name: "unsupported content type", path: "/hooks/acme-github", header: func() http.Header {
			h := signedHeaders(f, []byte("<push/>"), testSecret)
			h.Set("Content-Type", "application/xml")
			return h
		}, body: []byte("<push/>"), want: 415, message: "application/xml"},
		{name: "malformed body", path: "/hooks/acme-github", header: func() http.Header { return signedHeaders(f, []byte(`{"ref":`), testSecret) }, body: []byte(`{"ref":`), want: 400, message: "not valid JSON"},
		{name: "missing delivery id", path: "/hooks/acme-github", header: func() http.Header {
			h := good()
			h.Del("X-GitHub-Delivery")
			return h
		}, body: f.Body, want: 400, message: "X-GitHub-Delivery header is missing"},
		{name: "event type not a name", path: "/hooks/acme-github", header: func() http.Header {
			h := good()
			h.Set("X-GitHub-Event", "../../x")
			return h
		}, body: f.Body, want: 400, message: "X-GitHub-Event header may hold only"},
		{name: "event type of 60 KB", path: "/hooks/acme-github", header: func() http.Header {
			h := good()
			h.Set("X-GitHub-Event", strings.Repeat("p", 60<<10))
			return h
		}, body: f.Body, want: 400, message: "X-GitHub-Event header is longer than 64"},
		{name: "payload not UTF-8", path: "/hooks/acme-github", header: func() http.Header { return signedHeaders(f, notUTF8, testSecret) }, body: notUTF8, want: 400, message: "not valid UTF-8"},
		// A fast decoder skips fields it does not read without checking
		// them: the payload is still refused, since it is stored as JSON.
		{name: "payload not JSON in a skipped field", path: "/hooks/acme-github", header: func() http.Header { return signedHeaders(f, notJSON, testSecret) }, body: notJSON, want: 400, message: "not valid JSON"},
		{name: "declared too large", path: "/hooks/acme-github", header: good, body: big, want: 413, message: "larger than the limit of 65536 bytes"},
		{name: "chunked too large", path: "/hooks/acme-github", header: good, body: big, chunked: true, want: 413, message: "larger than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(bytes.NewReader(tt.body)) // unknown length: sent chunked
			}
			req, err := http.NewRequest(http.MethodPost, in.URL+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tt.header()
			r := do(t, req)
			if r.Code != tt.want || r.Status != "failed" || !strings.Contains(r.Message, tt.message) {
				t.Fatalf("answered %d %s, want %d failed with %q", r.Code, r.Body, tt.want, tt.message)
			}
			if bytes.Contains(r.Body, []byte(testSecret)) || bytes.Contains(r.Body, []byte("old-secret")) {
				t.Fatalf("the answer echoes a secret: %s", r.Body)
			}
		})
	}
	if n := pendingTasks(t, in); n != 0 {
		t.Errorf("%d jobs queued by refused deliveries", n)
	}
}

func TestAPIRequiresAdminKey(t *testing.T) {
	in := start(t, newRedis(t), nil)
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"no key", "", 401},
		{"wrong key", "Bearer nope", 401},
		{"not bearer", "Basic " + adminKey, 401},
		{"admin key", "Bearer " + adminKey, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, in.URL+"/api/v1/events", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			if r := do(t, req); r.Code != tt.want {
				t.Fatalf("answered %d %s, want %d", r.Code, r.Body, tt.want)
			}
		})
	}
}

func TestEventsListNewestFirst(t *testing.T) {
	in := start(t, newRedis(t), nil)
	var ids []string
	for _, name := range []string{"push.branch", "push.tag", "create.tag"} {
		r := deliver(t, in, fixture(t, name))
		waitProcessed(t, in, r.ID)
		ids = append(ids, r.ID)
	}
	var list []event.Event
	r := apiGet(t, in, "/api/v1/events?source=acme-github&limit=2", &list)
	if r.Code != http.StatusOK || len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] {
		t.Fatalf("list answered %d with %d events, want the 2 newest, newest first", r.Code, len(list))
	}
	var rest []event.Event
	before := url.QueryEscape(list[1].ReceivedAt.Format("2006-01-02T15:04:05.999999999Z07:00"))
	apiGet(t, in, "/api/v1/events?source=acme-github&before="+before, &rest)
	if len(rest) != 1 || rest[0].ID != ids[0] {
		t.Fatalf("second page = %d events, want the oldest", len(rest))
	}
	var none []event.Event
	apiGet(t, in, "/api/v1/events?source=other", &none)
	if len(none) != 0 {
		t.Errorf("source filter returned %d events of another source", len(none))
	}
	if r := apiGet(t, in, "/api/v1/events?limit=0", nil); r.Code != http.StatusBadRequest || !strings.Contains(r.Message, "limit") {
		t.Errorf("limit=0 answered %d %s", r.Code, r.Body)
	}
}

func TestHealth(t *testing.T) {
	in := start(t, newRedis(t), nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		req, _ := http.NewRequest(http.MethodGet, in.URL+path, nil)
		if r := do(t, req); r.Code != http.StatusOK || r.Status != "ok" {
			t.Errorf("%s answered %d %s", path, r.Code, r.Body)
		}
	}
	req, _ := http.NewRequest(http.MethodDelete, in.URL+"/healthz", nil)
	if r := do(t, req); r.Code != http.StatusMethodNotAllowed || r.Status != "failed" {
		t.Errorf("DELETE /healthz answered %d %s", r.Code, r.Body)
	}
}

// TestSplitIntakeAndWorker: an intake without a worker and a worker without
// HTTP, on one Redis, together process a delivery.
func TestSplitIntakeAndWorker(t *testing.T) {
	rdb := newRedis(t)
	in := start(t, rdb, func(o *server.Options) { o.Worker = false })
	start(t, rdb, func(o *server.Options) { o.HTTP = false; o.Listener = nil })
	r := deliver(t, in, fixture(t, "push.branch"))
	if r.Code != http.StatusAccepted {
		t.Fatalf("answered %d %s", r.Code, r.Body)
	}
	waitProcessed(t, in, r.ID)
}
