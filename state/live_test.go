package state_test

import (
	"context"
	"testing"
	"time"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

func TestBranchHeadOrdering(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{})
	newer := newEvent("acme", "d-2", t0.Add(time.Minute))
	newer.Commit = "222"
	older := newEvent("acme", "d-1", t0)
	older.Commit = "111"
	for _, ev := range []*event.Event{newer, older} { // out of order
		if err := s.ApplyToLive(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	heads, err := s.Branches(ctx, "acme/widget")
	if err != nil {
		t.Fatal(err)
	}
	if len(heads) != 1 || heads[0].Commit != "222" || heads[0].EventID != "d-2" {
		t.Fatalf("heads = %+v, want main at 222 from d-2 (a late older push must not win)", heads)
	}
	del := newEvent("acme", "d-3", t0.Add(2*time.Minute))
	del.Kind, del.Commit = event.KindBranchDeleted, ""
	if err := s.ApplyToLive(ctx, del); err != nil {
		t.Fatal(err)
	}
	heads, _ = s.Branches(ctx, "")
	if len(heads) != 1 || !heads[0].Deleted {
		t.Fatalf("heads after deletion = %+v, want main marked deleted", heads)
	}
}

func TestWorkflowOrdering(t *testing.T) {
	run := func(id string, number int, status event.BuildStatus, updated time.Time) *event.Event {
		u := updated
		return &event.Event{
			ID: id, Source: "acme", Type: "workflow_run", Kind: event.KindBuildStarted,
			Repository: &event.Repository{Name: "acme/widget"},
			Build:      &event.Build{ID: "r", Name: "ci", Number: number, Status: status, UpdatedAt: &u},
			ReceivedAt: t0,
		}
	}
	tests := []struct {
		name       string
		events     []*event.Event
		wantNumber int
		wantStatus event.BuildStatus
	}{
		{"in order", []*event.Event{run("a", 1, event.BuildQueued, t0), run("b", 1, event.BuildFinished, t0.Add(time.Second))}, 1, event.BuildFinished},
		{"late queued after finished", []*event.Event{run("b", 1, event.BuildFinished, t0.Add(time.Second)), run("a", 1, event.BuildQueued, t0)}, 1, event.BuildFinished},
		{"older run arrives late", []*event.Event{run("c", 2, event.BuildQueued, t0), run("b", 1, event.BuildFinished, t0.Add(time.Hour))}, 2, event.BuildQueued},
		{"same update time, more progress wins", []*event.Event{run("a", 1, event.BuildRunning, t0), run("b", 1, event.BuildFinished, t0)}, 1, event.BuildFinished},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := state.New(redistest.New(t).Client, state.Options{})
			for _, ev := range tt.events {
				if err := s.ApplyToLive(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
			wfs, err := s.Workflows(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(wfs) != 1 || wfs[0].Number != tt.wantNumber || wfs[0].Status != tt.wantStatus {
				t.Fatalf("workflows = %+v, want run %d %s", wfs, tt.wantNumber, tt.wantStatus)
			}
		})
	}
}
