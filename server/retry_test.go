package server_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/jobs"
)

// TestTransientFailureIsRetried: a job that fails on an error Redis
// answers (here, a live-state object stored under a key of the wrong type) is
// recorded as retrying with its error, retried with backoff, and processed
// once the cause is gone.
func TestTransientFailureIsRetried(t *testing.T) {
	in := start(t, newRedis(t), nil)
	ctx := context.Background()
	repoKey := keyspace.Object("state", "acme-github:Codertocat:Hello-World")
	if err := in.Redis.Set(ctx, repoKey, "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	r := deliver(t, in, fixture(t, "push.branch"))
	if r.Code != http.StatusAccepted {
		t.Fatalf("answered %d %s", r.Code, r.Body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ev event.Event
		apiGet(t, in, "/api/v1/events/"+r.ID, &ev)
		if ev.Status == event.StatusRetrying {
			if ev.Attempts != 1 || ev.Error == "" {
				t.Fatalf("retrying event has attempts %d, error %q", ev.Attempts, ev.Error)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("event never marked retrying; last status %q", ev.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := in.Redis.Del(ctx, repoKey).Err(); err != nil {
		t.Fatal(err)
	}
	ev := waitProcessed(t, in, r.ID)
	if ev.Attempts != 1 || ev.Error != "" {
		t.Errorf("processed after a retry with attempts %d, error %q; want 1 and none", ev.Attempts, ev.Error)
	}
}

// TestUndecodableJobIsNotRetried: a job whose payload cannot be decoded
// fails for good on its first attempt.
func TestUndecodableJobIsNotRetried(t *testing.T) {
	in := start(t, newRedis(t), nil)
	client := asynq.NewClientFromRedisClient(in.Redis)
	info, err := client.Enqueue(asynq.NewTask(jobs.TypeProcessEvent, []byte("garbage"), asynq.Queue(jobs.QueueEvents), asynq.MaxRetry(5)))
	if err != nil {
		t.Fatal(err)
	}
	inspector := asynq.NewInspectorFromRedisClient(in.Redis)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ti, err := inspector.GetTaskInfo(jobs.QueueEvents, info.ID)
		if err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			t.Fatal(err)
		}
		if ti != nil && ti.State == asynq.TaskStateArchived {
			if ti.Retried != 0 {
				t.Fatalf("an undecodable job was retried %d times", ti.Retried)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("undecodable job not archived within 10s: %+v", ti)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
