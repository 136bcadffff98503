package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
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

// queueRoles lets the key "reader" read the event history and the key
// "operator" write it too, beside the receive scope every source needs.
const queueRoles = `
policies:
  - {name: verified, expression: request.verified}
  - {name: no-branch-deletion, deny: true, expression: 'event.kind == "branch.deleted"'}
  - {name: is-reader, expression: 'caller.name == "reader"'}
  - {name: is-operator, expression: 'caller.name == "operator"'}
scopes:
  - {name: acme, actions: [receive], types: [event], sources: [acme-github], policies: [verified, no-branch-deletion]}
  - {name: readers, actions: [read], types: [event], mode: global, policies: [is-reader]}
  - {name: operators, actions: [admin], types: [event], mode: global, policies: [is-operator]}
`

// jobView is a job as the queue routes show it.
type jobView struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	Queue        string `json:"queue"`
	State        string `json:"state"`
	MaxRetry     int    `json:"max_retry"`
	PayloadBytes int    `json:"payload_bytes"`
	Event        *struct {
		Source, ID, Kind string
		Replay           int
	} `json:"event"`
}

// deliverNew posts a copy of the push fixture with a delivery id of its
// own and returns that id.
func deliverNew(t *testing.T, in *instance) string {
	t.Helper()
	f := withDelivery(fixture(t, "push.branch"))
	if r := deliver(t, in, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	return f.Header.Get("X-GitHub-Delivery")
}

// TestQueueJobs: an operator pauses the events queue, lists the jobs that
// wait there, archives one, deletes another, resumes the queue and runs
// the archived job again, which processes its event. Each verb answers
// 404 for what does not exist and 409 where it does not apply; reading
// needs read on the event history, acting write on it.
func TestQueueJobs(t *testing.T) {
	in := start(t, newRedis(t), withDeclarations(t, queueRoles), logOnFailure(t))
	reader, operator := newKey(t, in, "reader"), newKey(t, in, "operator")
	type step struct {
		name, key, method, path string
		wantCode                int
		want                    string // in the body
	}
	run := func(steps []step) {
		t.Helper()
		for _, s := range steps {
			r, _ := call(t, in, s.key, s.method, s.path, "")
			if r.Code != s.wantCode || !strings.Contains(string(r.Body), s.want) {
				t.Fatalf("%s: %s %s = %d %s, want %d with %q", s.name, s.method, s.path, r.Code, r.Body, s.wantCode, s.want)
			}
		}
	}
	q := "/api/v1/queues/events"
	run([]step{{"no events queue before the first webhook", operator, "POST", q + "/pause", 404, `no queue \"events\"`}})
	waitProcessed(t, in, deliverNew(t, in))
	run([]step{
		{"pause", operator, "POST", q + "/pause", 200, `{"status":"paused","queue":"events"}`},
		{"pause twice", operator, "POST", q + "/pause", 409, `queue \"events\" is paused already`},
		{"a reader cannot pause", reader, "POST", q + "/resume", 403, "no policy of the matching scopes allows it"},
		{"shown paused", reader, "GET", "/api/v1/queues", 200, `"queue":"events","size":0,"pending":0,"active":0,"scheduled":0,"retry":0,"archived":0,"completed":0,"paused":true`},
	})
	first, second := deliverNew(t, in), deliverNew(t, in)
	firstJob, secondJob := "acme-github/"+first, "acme-github/"+second

	r, _ := call(t, in, reader, "GET", q+"/jobs", "")
	var pending []jobView
	decode(t, r, &pending)
	got := map[string]string{}
	for _, j := range pending {
		if j.Type != "event:process" || j.Queue != "events" || j.State != "pending" || j.MaxRetry != 12 || j.PayloadBytes == 0 ||
			j.Event == nil || "acme-github/"+j.Event.ID != j.ID || j.Event.Source != "acme-github" || j.Event.Kind != "code.pushed" {
			t.Errorf("pending job = %+v, want an event:process job naming its event", j)
		}
		got[j.ID] = j.State
	}
	if diff := cmp.Diff(map[string]string{firstJob: "pending", secondJob: "pending"}, got); diff != "" {
		t.Fatalf("pending jobs (-want +got):\n%s", diff)
	}
	// The event's fields and payload stay out: the repository is named
	// in both.
	if strings.Contains(string(r.Body), "Hello-World") {
		t.Errorf("the job list shows the event's data: %s", r.Body)
	}
	// Pages: one job each, the second page holds the other.
	var one, other []jobView
	r, _ = call(t, in, reader, "GET", q+"/jobs?limit=1", "")
	decode(t, r, &one)
	r, _ = call(t, in, reader, "GET", q+"/jobs?limit=1&page=2", "")
	decode(t, r, &other)
	if len(one) != 1 || len(other) != 1 || one[0].ID == other[0].ID {
		t.Fatalf("pages of one job = %+v and %+v, want the two jobs", one, other)
	}

	run([]step{
		{"one job", reader, "GET", q + "/jobs/" + firstJob, 200, `"id":"` + firstJob + `","type":"event:process","queue":"events","state":"pending"`},
		{"one job, its id escaped", reader, "GET", q + "/jobs/" + url.PathEscape(firstJob), 200, `"id":"` + firstJob + `"`},
		{"unknown job", reader, "GET", q + "/jobs/acme-github/nope", 404, `queue \"events\" holds no job \"acme-github/nope\"`},
		{"unknown queue", reader, "GET", "/api/v1/queues/nope/jobs", 404, `no queue \"nope\"`},
		{"unknown state", reader, "GET", q + "/jobs?state=dead", 400, "state must be pending, active, scheduled, retry, archived or completed"},
		{"a reader cannot archive", reader, "POST", q + "/jobs/" + firstJob + "/archive", 403, "no policy of the matching scopes allows it"},
		{"archive", operator, "POST", q + "/jobs/" + firstJob + "/archive", 200, `{"status":"archived","queue":"events","id":"` + firstJob + `"}`},
		{"archive twice", operator, "POST", q + "/jobs/" + firstJob + "/archive", 409, "job " + firstJob + " is archived: archive applies to a job that is pending, scheduled or retry"},
		{"listed archived", reader, "GET", q + "/jobs?state=archived", 200, `"id":"` + firstJob + `","type":"event:process","queue":"events","state":"archived"`},
		{"retry a pending job", operator, "POST", q + "/jobs/" + secondJob + "/retry", 409, "is pending: retry applies to a job that is scheduled, retry or archived"},
		{"unknown operation", operator, "POST", q + "/jobs/" + secondJob + "/frob", 404, `no operation \"frob\" on a job: retry, delete or archive`},
		{"delete", operator, "POST", q + "/jobs/" + secondJob + "/delete", 200, `{"status":"deleted","queue":"events","id":"` + secondJob + `"}`},
		{"deleted", reader, "GET", q + "/jobs/" + secondJob, 404, "holds no job"},
		{"delete an unknown job", operator, "POST", q + "/jobs/acme-github/nope/delete", 404, "holds no job"},
		{"figures", reader, "GET", "/api/v1/queues", 200, `"queue":"events","size":1,"pending":0,"active":0,"scheduled":0,"retry":0,"archived":1`},
		{"resume", operator, "POST", q + "/resume", 200, `{"status":"running","queue":"events"}`},
		{"resume twice", operator, "POST", q + "/resume", 409, `queue \"events\" is running already`},
		{"retry the archived job", operator, "POST", q + "/jobs/" + firstJob + "/retry", 200, `{"status":"pending","queue":"events","id":"` + firstJob + `"}`},
	})
	waitProcessed(t, in, first)
	waitJobDone(t, in.Redis, "events", firstJob)
	// The deleted job's event was never processed: it stays queued, for
	// a replay.
	var ev event.Event
	apiGet(t, in, "/api/v1/events/"+second, &ev)
	if ev.Status != event.StatusQueued {
		t.Errorf("the event of the deleted job is %q, want queued", ev.Status)
	}
}

// waitReplayed waits until an event is processed with replays replays
// and returns it.
func waitReplayed(t *testing.T, in *instance, id string, replays int) *event.Event {
	t.Helper()
	var ev event.Event
	waitFor(t, func() bool {
		apiGet(t, in, "/api/v1/events/"+id, &ev)
		return ev.Status == event.StatusProcessed && ev.Replays == replays
	})
	return &ev
}

// TestReplay: a replay processes a stored event again under a job of its
// own, with triggers as they are now, counts on the event, and leaves the
// de-duplication of its delivery as it was. One is refused while the
// event's job is under way, for an event denied by policy, for one not
// stored, and for a key that may only read events.
func TestReplay(t *testing.T) {
	in := start(t, newRedis(t), withDeclarations(t, queueRoles), logOnFailure(t))
	reader, operator := newKey(t, in, "reader"), newKey(t, in, "operator")
	f := withDelivery(fixture(t, "push.branch"))
	if r := deliver(t, in, f); r.Code != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", r.Code, r.Body)
	}
	id := f.Header.Get("X-GitHub-Delivery")
	before := waitProcessed(t, in, id)
	if before.Replays != 0 || before.ReplayedAt != nil || len(before.TriggerErrors) != 0 {
		t.Fatalf("the event before any replay = %+v", before)
	}
	// A trigger that arrived since: the replay evaluates it.
	trigger := `{"name":"to-nowhere","on":"event.kind == \"code.pushed\"","service":"missing","action":"deploy"}`
	if r, _ := master(t, in, "POST", "/api/v1/trigger", trigger); r.Code != http.StatusCreated {
		t.Fatalf("create the trigger: %d %s", r.Code, r.Body)
	}
	// Once a new event meets the trigger, the worker has it.
	waitFor(t, func() bool { return len(waitProcessed(t, in, deliverNew(t, in)).TriggerErrors) == 1 })

	path := "/api/v1/events/" + id + "/replay"
	if r, _ := call(t, in, reader, "POST", path, ""); r.Code != http.StatusForbidden {
		t.Fatalf("a reader's replay: %d %s, want 403", r.Code, r.Body)
	}
	r, _ := call(t, in, operator, "POST", path+"?source=acme-github", "")
	var answer map[string]any
	decode(t, r, &answer)
	want := map[string]any{"status": "queued", "id": id, "source": "acme-github", "replays": 1.0, "queue": "events", "job": "acme-github/" + id + "/replay-1"}
	if diff := cmp.Diff(want, answer); r.Code != http.StatusAccepted || diff != "" {
		t.Fatalf("replay = %d, answer (-want +got):\n%s", r.Code, diff)
	}
	after := waitReplayed(t, in, id, 1)
	if after.ReplayedAt == nil || !after.ProcessedAt.After(*before.ProcessedAt) || after.ReceivedAt != before.ReceivedAt {
		t.Errorf("replayed event = %+v, want a replay time, a later processing and the same receive time", after)
	}
	if len(after.TriggerErrors) != 1 || !strings.Contains(after.TriggerErrors[0], `trigger to-nowhere: no such service "missing"`) {
		t.Errorf("trigger_errors after the replay = %q, want the new trigger's", after.TriggerErrors)
	}
	// The webhook sent again is still a duplicate.
	if r := deliver(t, in, f); r.Code != http.StatusOK || r.Status != "duplicate" {
		t.Errorf("the webhook again after a replay: %d %s, want a duplicate", r.Code, r.Body)
	}

	// While a replay waits, another is refused.
	if r, _ := master(t, in, "POST", "/api/v1/queues/events/pause", ""); r.Code != http.StatusOK {
		t.Fatalf("pause: %d %s", r.Code, r.Body)
	}
	if r, _ := master(t, in, "POST", path, ""); r.Code != http.StatusAccepted {
		t.Fatalf("second replay: %d %s", r.Code, r.Body)
	}
	var queued event.Event
	apiGet(t, in, "/api/v1/events/"+id, &queued)
	if queued.Status != event.StatusQueued || queued.Replays != 2 || queued.ProcessedAt != nil {
		t.Errorf("event while its replay waits = %+v, want queued with two replays", queued)
	}
	for _, s := range []struct {
		name, path string
		wantCode   int
		want       string
	}{
		{"under way", path, 409, "is being processed: its job is queued, running or waiting for a retry"},
		{"not stored", "/api/v1/events/nope/replay", 404, `no event \"nope\" is stored`},
		{"another source", path + "?source=other", 404, "is stored"},
	} {
		if r, _ := master(t, in, "POST", s.path, ""); r.Code != s.wantCode || !strings.Contains(string(r.Body), s.want) {
			t.Errorf("%s: %d %s, want %d with %q", s.name, r.Code, r.Body, s.wantCode, s.want)
		}
	}
	if r, _ := master(t, in, "POST", "/api/v1/queues/events/resume", ""); r.Code != http.StatusOK {
		t.Fatalf("resume: %d %s", r.Code, r.Body)
	}
	waitReplayed(t, in, id, 2)

	denied := deliver(t, in, withDelivery(fixture(t, "push.branch-deleted")))
	if denied.Code != http.StatusForbidden {
		t.Fatalf("the denied webhook: %d %s", denied.Code, denied.Body)
	}
	if r, _ := master(t, in, "POST", "/api/v1/events/"+denied.ID+"/replay", ""); r.Code != http.StatusConflict || !strings.Contains(r.Message, "was denied by policy") {
		t.Errorf("replay of a denied event: %d %s, want 409", r.Code, r.Body)
	}
}

// TestDeleteSpilledJob: a pending job beyond the pending list's bound (as
// on the embedded Redis) is deleted or archived for good: nothing of it is
// left for the worker to take.
func TestDeleteSpilledJob(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.Worker, o.SpillAt = false, 1 })
	ids := []string{deliverNew(t, in), deliverNew(t, in), deliverNew(t, in)}
	for _, op := range []struct{ id, verb string }{{ids[1], "delete"}, {ids[2], "archive"}} {
		if r, _ := master(t, in, "POST", "/api/v1/queues/events/jobs/acme-github/"+op.id+"/"+op.verb, ""); r.Code != http.StatusOK {
			t.Fatalf("%s a spilled job: %d %s", op.verb, r.Code, r.Body)
		}
	}
	pending, _ := in.Redis.LRange(context.Background(), keyspace.AsynqPending("events"), 0, -1).Result()
	spilled, _ := in.Redis.LRange(context.Background(), keyspace.AsynqSpill("events"), 0, -1).Result()
	if diff := cmp.Diff([][]string{{"acme-github/" + ids[0]}, {}}, [][]string{pending, spilled}); diff != "" {
		t.Errorf("pending and spill lists (-want +got):\n%s", diff)
	}
}
