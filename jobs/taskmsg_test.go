package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/redistest"
)

// TestTaskMessageIsAsynqs: the job the intake queues in its own script is,
// byte for byte, under the same keys, what asynq's client stores for the
// same task, so asynq's workers and inspector take it as their own.
func TestTaskMessageIsAsynqs(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	ev := &event.Event{ID: "d-1", Source: "acme", Connector: "github", Type: "push", Status: event.StatusQueued, ReceivedAt: time.Now().UTC()}
	meta, _ := json.Marshal(ev)
	for _, retry := range []int{0, 12} {
		task := processEventTask(ev.Source, ev.ID, frame(payloadStored, meta, nil), retry)
		if _, err := asynq.NewClientFromRedisClient(r.Client).Enqueue(task); err != nil {
			t.Fatal(err)
		}
		job := ProcessEventJob(ev.Source, ev.ID, meta, retry, 0)
		stored, err := r.Client.HGet(ctx, job.Key, "msg").Bytes()
		if err != nil {
			t.Fatalf("asynq stored no task under %s: %v", job.Key, err)
		}
		if !bytes.Equal(stored, job.Message) {
			t.Fatalf("retry %d: our message\n%x\nasynq's\n%x", retry, job.Message, stored)
		}
		ids, err := r.Client.LRange(ctx, job.Pending, 0, -1).Result()
		if err != nil || len(ids) != 1 || ids[0] != job.ID {
			t.Fatalf("pending list %s = %v, %v; want [%s]", job.Pending, ids, err, job.ID)
		}
		if err := r.Client.Del(ctx, job.Key, job.Pending).Err(); err != nil {
			t.Fatal(err)
		}
	}
}
