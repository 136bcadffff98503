package state_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// TestIntakeLog: entries read back newest first; a follower that starts
// reads nothing from before it, then each entry after once, oldest
// first; a long message is cut; the log stays near its size.
func TestIntakeLog(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{})
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	if err := s.LogIntake(ctx, state.IntakeEntry{At: at, Source: "a", Outcome: "refused", Reason: "unauthorized", Status: 401}); err != nil {
		t.Fatal(err)
	}
	_, pos, err := s.IntakeAfter(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e := state.IntakeEntry{At: at.Add(time.Duration(i+1) * time.Second), Source: "a", ID: fmt.Sprint("d", i), Outcome: "duplicate", Status: 200}
		if i == 2 {
			e.Message = strings.Repeat("x", 1000)
		}
		if err := s.LogIntake(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	after, next, err := s.IntakeAfter(ctx, pos, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 3 || after[0].ID != "d0" || after[2].ID != "d2" || next != after[2].Position {
		t.Fatalf("after the start: %+v (next %s), want d0..d2 and the last position", after, next)
	}
	if n := len(after[2].Message); n > 310 {
		t.Errorf("a long message kept %d bytes", n)
	}
	if again, _, _ := s.IntakeAfter(ctx, next, 10); len(again) != 0 {
		t.Errorf("read again after the last: %+v, want nothing", again)
	}
	recent, err := s.RecentIntake(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != 2 || recent[0].ID != "d2" || recent[1].ID != "d1" || !recent[0].At.Equal(at.Add(3*time.Second)) {
		t.Errorf("recent = %+v, want d2, d1", recent)
	}
	for range state.IntakeLogSize + 500 {
		if err := s.LogIntake(ctx, state.IntakeEntry{Outcome: "refused"}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.RecentIntake(ctx, 10*state.IntakeLogSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) > state.IntakeLogSize+200 || len(all) < state.IntakeLogSize {
		t.Errorf("the log holds %d entries, want about %d", len(all), state.IntakeLogSize)
	}
}
