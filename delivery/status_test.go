package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// TestSetStatusNeverOverwritesALaterOne: the dispatcher's own status
// changes apply only from the statuses they expect, so an agent's report
// that landed first (running, succeeded) is never set back to queued.
func TestSetStatusNeverOverwritesALaterOne(t *testing.T) {
	r := redistest.New(t)
	d := &Dispatcher{Store: state.New(r.Client, state.Options{}), Redis: r.Client, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	for _, tc := range []struct {
		name, from, to string
		allowed        []string
		want           string
	}{
		{"queued after the agent started", "running", "queued", []string{"queued", "waiting"}, "running"},
		{"queued after the agent finished", "succeeded", "queued", []string{"queued", "waiting"}, "succeeded"},
		{"waiting behind a running delivery", "queued", "waiting", []string{"queued", "waiting"}, "waiting"},
		{"queued when handed the service", "waiting", "queued", []string{"queued", "waiting"}, "queued"},
		{"superseded after it was queued", "queued", "superseded", []string{"queued", "waiting"}, "superseded"},
		{"cancel after it started", "running", "cancelled", []string{"waiting", "queued"}, "running"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "d-" + tc.from + "-" + tc.to
			content := map[string]any{"name": id, "service": "web", "zone": "production", "trigger": "t", "action": "deploy", "status": tc.from, "attempts": []any{}}
			if _, err := d.Store.Create(ctx, state.NewObject(state.TypeDeploy, content), "test"); err != nil {
				t.Fatal(err)
			}
			d.setStatus(ctx, id, tc.to, nil, tc.allowed...)
			rec, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Content["status"] != tc.want {
				t.Fatalf("status = %v, want %s", rec.Content["status"], tc.want)
			}
		})
	}
}

// TestRetryWaitsForTheServiceToBeHandedOn: a failed delivery that still
// holds its service (its end is recorded, the hand-over not yet done) is
// not run again, so it cannot hold the service and then lose it.
func TestRetryWaitsForTheServiceToBeHandedOn(t *testing.T) {
	r := redistest.New(t)
	seed, _, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewSigner("k1", seed)
	if err != nil {
		t.Fatal(err)
	}
	d := &Dispatcher{Store: state.New(r.Client, state.Options{}), Redis: r.Client, Signer: signer,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	content := map[string]any{"name": "d1", "service": "web", "zone": "production", "trigger": "t", "action": "deploy", "status": "failed", "attempts": []any{}}
	if _, err := d.Store.Create(ctx, state.NewObject(state.TypeDeploy, content), "test"); err != nil {
		t.Fatal(err)
	}
	if err := r.Client.Set(ctx, keyspace.DeliveryLock("web"), "d1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	err = d.Retry(ctx, "d1", "test")
	if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), "still handing service web on") {
		t.Fatalf("retry while the service is held: %v", err)
	}
	if rec, _ := d.Store.Object(ctx, state.TypeDeploy, "d1", 0); rec.Content["status"] != "failed" {
		t.Fatalf("status = %v, want still failed", rec.Content["status"])
	}
	// Once handed on, the retry gets as far as the job, which this test
	// never kept.
	if err := r.Client.Del(ctx, keyspace.DeliveryLock("web")).Err(); err != nil {
		t.Fatal(err)
	}
	if err := d.Retry(ctx, "d1", "test"); errors.Is(err, ErrState) || !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("retry once handed on: %v, want the missing job", err)
	}
}
