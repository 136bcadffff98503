package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// TestSetStatusNeverOverwritesALaterOne: the dispatcher's own status
// changes apply only from the statuses they expect, so an agent's report
// that landed first (running, succeeded) is never set back to queued.
func TestSetStatusNeverOverwritesALaterOne(t *testing.T) {
	r := redistest.New(t)
	d := &Dispatcher{Store: state.New(r.Client, state.Options{}), Redis: r.Client, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	for _, tc := range []struct {
		name, from string
		move       move
		want       string
	}{
		{"queued after the agent started", "running", moveQueue, "running"},
		{"queued after the agent finished", "succeeded", moveQueue, "succeeded"},
		{"waiting behind a running delivery", "queued", moveWait, "waiting"},
		{"queued when handed the service", "waiting", moveQueue, "queued"},
		{"superseded after it was queued", "queued", moveSupersede, "superseded"},
		{"cancel after it started", "running", moveCancel, "running"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "d-" + tc.from + "-" + string(tc.move.to)
			content := map[string]any{"name": id, "service": "web", "zone": "production", "trigger": "t", "action": "deploy", "status": tc.from, "attempts": []any{}}
			if _, err := d.Store.Create(ctx, state.NewObject(state.TypeDeploy, content), "test"); err != nil {
				t.Fatal(err)
			}
			d.setStatus(ctx, id, tc.move, "")
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
	seed, _, err := wire.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := wire.NewSigner("k1", seed)
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

// TestMoves checks the dispatcher's moves against the rules every
// delivery follows.
func TestMoves(t *testing.T) {
	all := []Status{StatusWaiting, StatusQueued, StatusRunning, StatusRetrying, StatusSucceeded,
		StatusFailed, StatusRefused, StatusCancelled, StatusSuperseded}
	moves := map[string]move{"queue": moveQueue, "wait": moveWait, "supersede": moveSupersede,
		"cancel": moveCancel, "run again": moveRunAgain, "lose": moveLose}
	for name, m := range moves {
		for _, from := range all {
			switch {
			case from == StatusSucceeded && m.allows(from):
				t.Errorf("%s moves a succeeded delivery: nothing may", name)
			case from == StatusRunning && m.allows(from) && m.to != StatusFailed:
				t.Errorf("%s takes a %s delivery to %s: only its agent, or losing it, moves a running delivery", name, from, m.to)
			case from == StatusRetrying && m.allows(from) && m.to != StatusQueued && m.to != StatusCancelled && m.to != StatusFailed:
				t.Errorf("%s takes a %s delivery to %s: between attempts, only the next offer, a cancellation or losing it may", name, from, m.to)
			case from.Ended() && m.allows(from) && name != "run again":
				t.Errorf("%s moves an ended (%s) delivery: only running it again may", name, from)
			}
		}
	}
	for _, from := range moveRunAgain.from {
		if !from.Ended() {
			t.Errorf("run again starts from %s, which has not ended", from)
		}
	}
	if m := moveLose.only(StatusRunning); !m.allows(StatusRunning) || m.allows(StatusQueued) {
		t.Errorf("lose, narrowed to running: %v", m.from)
	}
	if m := moveLose.only(StatusSucceeded); len(m.from) != 0 {
		t.Errorf("lose, narrowed to a status it may not start from, still starts from %v", m.from)
	}
}

// TestSequenceKeepsGrowing: a service's job numbers grow by one, and keep
// growing from the clock when the counter is lost (an embedded Redis
// restarted), so agents that remember high numbers do not refuse the
// jobs that follow as rollbacks.
func TestSequenceKeepsGrowing(t *testing.T) {
	r := redistest.New(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	next := func() uint64 {
		t.Helper()
		n, err := nextSequence.Run(ctx, r.Client, []string{keyspace.DeliverySequence("web")}, now.UnixMicro()).Uint64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	first, second := next(), next()
	if first != uint64(now.UnixMicro()) || second != first+1 {
		t.Fatalf("sequence %d then %d, want the clock's %d then one more", first, second, now.UnixMicro())
	}
	if err := r.Client.Del(ctx, keyspace.DeliverySequence("web")).Err(); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Millisecond)
	if third := next(); third <= second {
		t.Fatalf("after the counter was lost: %d, want above %d", third, second)
	}
}
