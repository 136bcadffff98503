package intake_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/intake"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// decide allows or refuses every request, and counts them.
type decide struct {
	allow bool
	asked int
}

func (d *decide) Authorize(_ context.Context, r policies.Request) policies.Decision {
	d.asked++
	return policies.Decision{Allowed: d.allow, Reason: "test", Action: r.Action}
}

func newIntake(t *testing.T, rdb *redis.Client, authz policies.Authorizer) *intake.Intake {
	t.Helper()
	return &intake.Intake{Redis: rdb, Store: state.New(rdb, state.Options{}), Authz: authz, Log: slog.New(slog.DiscardHandler)}
}

func delivery(id string) intake.Delivery {
	return intake.Delivery{
		Event:     &event.Event{ID: id, Source: "acme", Connector: "github", Type: "push", Kind: event.KindCodePushed, ReceivedAt: time.Now().UTC()},
		Payload:   []byte(`{"ref":"refs/heads/main"}`),
		Connector: "github",
	}
}

func TestAccept(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		allow     bool
		before    func(t *testing.T, in *intake.Intake) // what happened to the same delivery id first
		want      intake.Outcome
		wantAsked int
		wantTask  bool
		wantEvent event.Status
	}{
		{name: "a new allowed delivery is queued", allow: true, want: intake.Accepted, wantAsked: 1, wantTask: true, wantEvent: event.StatusQueued},
		{name: "a refused delivery is recorded, not queued", allow: false, want: intake.Refused, wantAsked: 1, wantEvent: event.StatusDenied},
		{name: "a copy of a queued delivery conflicts on its task", allow: true, want: intake.Duplicate, wantAsked: 1, wantTask: true,
			before: func(t *testing.T, in *intake.Intake) {
				task, err := jobs.NewProcessEventTask(delivery("d-1").Event, nil, 1)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := asynq.NewClientFromRedisClient(in.Redis).Enqueue(task); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "a redelivery of an accepted delivery is a duplicate, whatever the policies say now", allow: false, want: intake.Duplicate, wantAsked: 1, wantEvent: event.StatusProcessed,
			before: func(t *testing.T, in *intake.Intake) {
				if err := in.Store.SaveEvent(ctx, &event.Event{ID: "d-1", Source: "acme", Status: event.StatusProcessed}, nil, state.Overwrite); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := redistest.New(t)
			authz := &decide{allow: tt.allow}
			in := newIntake(t, r.Client, authz)
			if tt.before != nil {
				tt.before(t, in)
			}
			res, err := in.Accept(ctx, delivery("d-1"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.want {
				t.Errorf("outcome = %v, want %v", res.Outcome, tt.want)
			}
			if authz.asked != tt.wantAsked {
				t.Errorf("policies asked %d times, want %d", authz.asked, tt.wantAsked)
			}
			info, err := asynq.NewInspectorFromRedisClient(r.Client).GetTaskInfo(jobs.QueueEvents, "acme/d-1")
			if gotTask := err == nil && info != nil; gotTask != tt.wantTask {
				t.Errorf("task queued = %v (%v), want %v", gotTask, err, tt.wantTask)
			}
			if tt.wantEvent == "" {
				return // the first copy's record is not written yet
			}
			ev, err := in.Store.Event(ctx, "d-1", "acme")
			if err != nil {
				t.Fatal(err)
			}
			if ev.Status != tt.wantEvent {
				t.Errorf("event status = %q, want %q", ev.Status, tt.wantEvent)
			}
		})
	}
}

// TestAcceptUnavailable: with Redis gone nothing is decided for good, and
// the error says the sender should retry.
func TestAcceptUnavailable(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	for _, allow := range []bool{true, false} {
		in := newIntake(t, rdb, &decide{allow: allow})
		_, err := in.Accept(context.Background(), delivery("d-1"))
		if !errors.Is(err, intake.ErrUnavailable) {
			t.Errorf("allow=%v: Accept = %v, want ErrUnavailable", allow, err)
		}
	}
}

// TestAcceptKeepsTheRequestID: the id of the request a delivery came in
// on is kept on its event, in its record and in its job, whether it was
// accepted or refused; a duplicate, arriving on a request of its own,
// changes neither.
func TestAcceptKeepsTheRequestID(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		allow    bool
		wantTask bool
	}{
		{name: "accepted", allow: true, wantTask: true},
		{name: "refused", allow: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := redistest.New(t)
			in := newIntake(t, r.Client, &decide{allow: tt.allow})
			d := delivery("d-1")
			d.RequestID = "req-first"
			if _, err := in.Accept(ctx, d); err != nil {
				t.Fatal(err)
			}
			if d.Event.RequestID != "req-first" {
				t.Errorf("the event's request id is %q, want req-first", d.Event.RequestID)
			}
			again := delivery("d-1")
			again.RequestID = "req-second"
			if _, err := in.Accept(ctx, again); err != nil {
				t.Fatal(err)
			}
			ev, err := in.Store.Event(ctx, "d-1", "acme")
			if err != nil {
				t.Fatal(err)
			}
			if ev.RequestID != "req-first" {
				t.Errorf("the event record's request id is %q, want the first request's, req-first", ev.RequestID)
			}
			info, err := asynq.NewInspectorFromRedisClient(r.Client).GetTaskInfo(jobs.QueueEvents, "acme/d-1")
			if gotTask := err == nil && info != nil; gotTask != tt.wantTask {
				t.Fatalf("task queued = %v (%v), want %v", gotTask, err, tt.wantTask)
			}
			if tt.wantTask && !strings.Contains(string(info.Payload), `"request_id":"req-first"`) {
				t.Errorf("the job's event does not carry request id req-first: %q", info.Payload)
			}
		})
	}
}
