package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// TestSpill: beyond the bound, the intake appends jobs to the spill list;
// Refill moves them back oldest first as room is made, and a worker then
// runs every job once, in the order received.
func TestSpill(t *testing.T) {
	const bound, total = 3, 8
	r := redistest.New(t)
	ctx := context.Background()
	store := state.New(r.Client, state.Options{})
	if err := r.Client.SAdd(ctx, keyspace.AsynqQueues(), QueueEvents).Err(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range total {
		ev := &event.Event{ID: fmt.Sprintf("d-%d", i), Source: "acme", Connector: "github", Type: "push", Status: event.StatusQueued, ReceivedAt: time.Now().UTC()}
		meta, _ := json.Marshal(ev)
		job := ProcessEventJob(ev.Source, ev.ID, meta, 0, bound)
		if dup, err := store.AcceptEvent(ctx, ev, meta, []byte(`{}`), job); err != nil || dup {
			t.Fatalf("accept %s: duplicate %v, %v", ev.ID, dup, err)
		}
		ids = append(ids, job.ID)
	}
	lengths := func() (pending, spilled int64) {
		t.Helper()
		pending, err := r.Client.LLen(ctx, keyspace.AsynqPending(QueueEvents)).Result()
		if err != nil {
			t.Fatal(err)
		}
		n, err := Spilled(ctx, r.Client, QueueEvents)
		if err != nil {
			t.Fatal(err)
		}
		return pending, int64(n)
	}
	if p, s := lengths(); p != bound || s != total-bound {
		t.Fatalf("pending %d and spilled %d, want %d and %d", p, s, bound, total-bound)
	}
	if moved, err := Refill(ctx, r.Client, bound); err != nil || moved != 0 {
		t.Fatalf("refill with a full pending list moved %d, %v; want 0", moved, err)
	}

	// Asynq takes the oldest pending jobs from the right end; their task
	// ids are what its workers run.
	for range 2 {
		if err := r.Client.RPop(ctx, keyspace.AsynqPending(QueueEvents)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if moved, err := Refill(ctx, r.Client, bound); err != nil || moved != 2 {
		t.Fatalf("refill moved %d, %v; want 2", moved, err)
	}
	pending, err := r.Client.LRange(ctx, keyspace.AsynqPending(QueueEvents), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{ids[bound+1], ids[bound], ids[2]}; !slices.Equal(pending, want) {
		t.Fatalf("pending list %v, want %v (newest first)", pending, want)
	}

	var (
		mu  sync.Mutex
		ran []string
		all = make(chan struct{})
	)
	srv := asynq.NewServerFromRedisClient(r.Client, asynq.Config{
		Concurrency: 1, Queues: map[string]int{QueueEvents: 1}, TaskCheckInterval: 10 * time.Millisecond, LogLevel: asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeProcessEvent, func(_ context.Context, task *asynq.Task) error {
		mu.Lock()
		defer mu.Unlock()
		ran = append(ran, task.ResultWriter().TaskID())
		if len(ran) == total-2 {
			close(all)
		}
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	refillCtx, stop := context.WithCancel(ctx)
	defer stop()
	go RunRefill(refillCtx, r.Client, bound, slog.New(slog.DiscardHandler))
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the worker ran %v, want the %d jobs left", ran, total-2)
	}
	mu.Lock()
	defer mu.Unlock()
	want := ids[2:]
	if !slices.Equal(ran, want) {
		t.Fatalf("the worker ran %v, want %v: every job left, once, oldest first", ran, want)
	}
}
