package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// TestRequeueEvent: the record and the job are written together, or
// neither is: not when the event is gone, when the job exists, or while
// the previous job is under way (any state but archived or completed).
func TestRequeueEvent(t *testing.T) {
	tests := []struct {
		name     string
		stored   bool   // the event's record exists
		previous string // the previous job's state; "" for no job
		exists   bool   // the new job exists already
		want     error
	}{
		{name: "no previous job", stored: true},
		{name: "previous archived", stored: true, previous: "archived"},
		{name: "previous completed", stored: true, previous: "completed"},
		{name: "previous pending", stored: true, previous: "pending", want: state.ErrUnderWay},
		{name: "previous active", stored: true, previous: "active", want: state.ErrUnderWay},
		{name: "previous scheduled", stored: true, previous: "scheduled", want: state.ErrUnderWay},
		{name: "previous retrying", stored: true, previous: "retry", want: state.ErrUnderWay},
		{name: "job exists", stored: true, exists: true, want: state.ErrExists},
		{name: "event gone", want: state.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := redistest.New(t)
			ctx := context.Background()
			store := state.New(r.Client, state.Options{})
			ev := newEvent("acme", "d-1", time.Now())
			if tt.stored {
				if err := store.SaveEvent(ctx, ev, []byte(`{}`), state.Overwrite); err != nil {
					t.Fatal(err)
				}
			}
			previous := keyspace.AsynqTask("events", "acme/d-1")
			if tt.previous != "" {
				r.Client.HSet(ctx, previous, "state", tt.previous)
			}
			job := &state.Job{Key: keyspace.AsynqTask("events", "acme/d-1/replay-1"), Pending: keyspace.AsynqPending("events"), ID: "acme/d-1/replay-1", Message: []byte("msg")}
			if tt.exists {
				r.Client.HSet(ctx, job.Key, "state", "archived")
			}
			ev.Replays = 1
			raw, _ := json.Marshal(ev)
			err := store.RequeueEvent(ctx, ev, raw, previous, job)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("RequeueEvent: %v, want %v", err, tt.want)
			}
			pending, _ := r.Client.LRange(ctx, job.Pending, 0, -1).Result()
			stored, _ := store.Event(ctx, "d-1", "acme")
			queued := len(pending) == 1 && pending[0] == job.ID && r.Client.HGet(ctx, job.Key, "msg").Val() == "msg"
			recorded := stored != nil && stored.Replays == 1
			if queued != (tt.want == nil) || recorded != (tt.want == nil) {
				t.Errorf("job queued %v, record written %v; want both %v", queued, recorded, tt.want == nil)
			}
		})
	}
}
