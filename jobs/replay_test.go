package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// accepted records ev as the intake does, with its job (spilled beyond
// spillAt pending jobs, when not 0), and returns the job's id.
func accepted(t *testing.T, store *state.Store, ev *event.Event, spillAt int) string {
	t.Helper()
	meta, _ := json.Marshal(ev)
	job := ProcessEventJob(ev.Source, ev.ID, meta, 3, spillAt)
	if dup, err := store.AcceptEvent(context.Background(), ev, meta, []byte(`{"secret-field":"x"}`), job); err != nil || dup {
		t.Fatalf("accept %s: duplicate %v, %v", ev.ID, dup, err)
	}
	return job.ID
}

// TestReplay: a replay queues a job of its own that asynq runs as any
// event job, and marks the event queued with its replays counted, once
// the event's last job has ended (done, deleted or archived); it is
// refused while that job waits, for an event denied by policy, and for
// one not stored.
func TestReplay(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	store := state.New(r.Client, state.Options{Now: func() time.Time { return now }})
	inspector := asynq.NewInspectorFromRedisClient(r.Client)
	received := now.Add(-time.Hour)
	ev := &event.Event{ID: "d-1", Source: "acme", Connector: "github", Type: "push", Kind: "code.pushed", Status: event.StatusQueued, ReceivedAt: received}
	original := accepted(t, store, ev, 0)

	if _, _, err := Replay(ctx, r.Client, store, "d-1", "acme", 5); !errors.Is(err, state.ErrUnderWay) {
		t.Fatalf("replay while the original job waits: %v, want ErrUnderWay", err)
	}
	// The original job ran: asynq removed it, the worker recorded the
	// event processed.
	if err := inspector.DeleteTask(QueueEvents, original); err != nil {
		t.Fatal(err)
	}
	processed := *ev
	processed.Status, processed.ProcessedAt, processed.Attempts, processed.Error = event.StatusProcessed, &received, 2, "an old error"
	if err := store.SaveProcessed(ctx, &processed); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name     string
		before   func() // what happens to the last job first
		wantJob  string
		replays  int
		wantBusy bool
	}{
		{name: "after the original ran", wantJob: "acme/d-1/replay-1", replays: 1},
		{name: "while the replay waits", wantBusy: true},
		{name: "after the replay was archived", before: func() {
			if err := inspector.ArchiveTask(QueueEvents, "acme/d-1/replay-1"); err != nil {
				t.Fatal(err)
			}
		}, wantJob: "acme/d-1/replay-2", replays: 2},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		got, job, err := Replay(ctx, r.Client, store, "d-1", "", 5)
		if s.wantBusy {
			if !errors.Is(err, state.ErrUnderWay) {
				t.Fatalf("%s: %v, want ErrUnderWay", s.name, err)
			}
			continue
		}
		if err != nil || job != s.wantJob {
			t.Fatalf("%s: job %q, %v; want %q", s.name, job, err, s.wantJob)
		}
		stored, err := store.Event(ctx, "d-1", "acme")
		if err != nil {
			t.Fatal(err)
		}
		want := *ev
		want.Status, want.Replays, want.ReplayedAt = event.StatusQueued, s.replays, &now
		for name, e := range map[string]*event.Event{"answered": got, "stored": stored} {
			if diff := cmp.Diff(&want, e); diff != "" {
				t.Errorf("%s: the %s event (-want +got):\n%s", s.name, name, diff)
			}
		}
		info, err := inspector.GetTaskInfo(QueueEvents, job)
		if err != nil {
			t.Fatal(err)
		}
		if info.Type != TypeProcessEvent || info.State != asynq.TaskStatePending || info.MaxRetry != 5 || info.Timeout != processEventTimeout {
			t.Errorf("%s: job %+v, want a pending event job with 5 retries", s.name, info)
		}
		decoded, err := decodeProcessEvent(info.Payload)
		if err != nil || !decoded.stored || len(decoded.payload) != 0 || decoded.event.Replays != s.replays {
			t.Errorf("%s: the job's payload = %+v, %v; want the event alone, its payload left in the store", s.name, decoded, err)
		}
	}
	if n, err := r.Client.LLen(ctx, keyspace.AsynqPending(QueueEvents)).Result(); err != nil || n != 1 {
		t.Errorf("pending list holds %d, %v; want the last replay alone", n, err)
	}

	denied := &event.Event{ID: "d-2", Source: "acme", Connector: "github", Type: "push", Status: event.StatusDenied, ReceivedAt: received}
	if err := store.SaveEvent(ctx, denied, nil, state.Refused); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Replay(ctx, r.Client, store, "d-2", "acme", 5); !errors.Is(err, ErrNotAccepted) {
		t.Errorf("replay of a denied event: %v, want ErrNotAccepted", err)
	}
	if _, _, err := Replay(ctx, r.Client, store, "d-3", "acme", 5); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("replay of an unknown event: %v, want ErrNotFound", err)
	}
}

// TestReplayKeepsTheQueueInOrder: while the events queue's spill list
// holds jobs, a replay's job goes after them.
func TestReplayKeepsTheQueueInOrder(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	store := state.New(r.Client, state.Options{})
	old := &event.Event{ID: "old", Source: "acme", Connector: "github", Type: "push", Status: event.StatusProcessed, ReceivedAt: time.Now().UTC()}
	if err := store.SaveEvent(ctx, old, []byte(`{}`), state.Overwrite); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		accepted(t, store, &event.Event{ID: id, Source: "acme", Connector: "github", Type: "push", Status: event.StatusQueued, ReceivedAt: time.Now().UTC()}, 1)
	}
	if _, _, err := Replay(ctx, r.Client, store, "old", "acme", 3); err != nil {
		t.Fatal(err)
	}
	pending, _ := r.Client.LRange(ctx, keyspace.AsynqPending(QueueEvents), 0, -1).Result()
	spilled, _ := r.Client.LRange(ctx, keyspace.AsynqSpill(QueueEvents), 0, -1).Result()
	if diff := cmp.Diff([][]string{{"acme/a"}, {"acme/b", "acme/old/replay-1"}}, [][]string{pending, spilled}); diff != "" {
		t.Errorf("pending and spill lists (-want +got):\n%s", diff)
	}
}

// TestUnspill: a spilled job moves to the pending list, where asynq's
// inspector can delete it, and Refill then has nothing to move; a job not
// spilled stays where it is.
func TestUnspill(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	store := state.New(r.Client, state.Options{})
	if err := r.Client.SAdd(ctx, keyspace.AsynqQueues(), QueueEvents).Err(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, id := range []string{"a", "b", "c"} {
		ids = append(ids, accepted(t, store, &event.Event{ID: id, Source: "acme", Connector: "github", Type: "push", Status: event.StatusQueued, ReceivedAt: time.Now().UTC()}, 1))
	}
	for _, id := range []string{ids[0], ids[1]} {
		if err := Unspill(ctx, r.Client, QueueEvents, id); err != nil {
			t.Fatal(err)
		}
	}
	pending, _ := r.Client.LRange(ctx, keyspace.AsynqPending(QueueEvents), 0, -1).Result()
	spilled, _ := r.Client.LRange(ctx, keyspace.AsynqSpill(QueueEvents), 0, -1).Result()
	if diff := cmp.Diff([][]string{{"acme/b", "acme/a"}, {"acme/c"}}, [][]string{pending, spilled}); diff != "" {
		t.Fatalf("pending and spill lists (-want +got):\n%s", diff)
	}
	inspector := asynq.NewInspectorFromRedisClient(r.Client)
	if err := inspector.DeleteTask(QueueEvents, "acme/b"); err != nil {
		t.Fatal(err)
	}
	if moved, err := Refill(ctx, r.Client, 10); err != nil || moved != 1 {
		t.Fatalf("refill moved %d, %v; want c alone", moved, err)
	}
	pending, _ = r.Client.LRange(ctx, keyspace.AsynqPending(QueueEvents), 0, -1).Result()
	if diff := cmp.Diff([]string{"acme/c", "acme/a"}, pending); diff != "" {
		t.Errorf("pending list after the refill (-want +got):\n%s", diff)
	}
}

// TestSummarizeEvent: an event job shows which event it processes, and
// nothing of its data; other jobs show nothing.
func TestSummarizeEvent(t *testing.T) {
	ev := &event.Event{ID: "d-1", Source: "acme", Kind: "code.pushed", Replays: 2, Repository: &event.Repository{Name: "acme/widget"}}
	meta, _ := json.Marshal(ev)
	framed, err := NewProcessEventTask(ev, []byte(`{"big":"payload"}`), 3)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		typ     string
		payload []byte
		want    *EventSummary
	}{
		{"stored payload", TypeProcessEvent, slices.Concat(frameHeader(payloadStored, len(meta)), meta), &EventSummary{Source: "acme", ID: "d-1", Kind: "code.pushed", Replay: 2}},
		{"framed payload", TypeProcessEvent, framed.Payload(), &EventSummary{Source: "acme", ID: "d-1", Kind: "code.pushed", Replay: 2}},
		{"undecodable", TypeProcessEvent, []byte("junk"), nil},
		{"another type", "delivery:report", framed.Payload(), nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, SummarizeEvent(tt.typ, tt.payload)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}
