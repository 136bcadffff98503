package state_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newEvent(source, id string, at time.Time) *event.Event {
	return &event.Event{
		ID: id, Source: source, Connector: "github", Type: "push", Kind: event.KindCodePushed,
		Repository: &event.Repository{Name: "acme/widget"}, Branch: "main", Commit: "abc",
		ReceivedAt: at, Status: event.StatusQueued,
	}
}

func TestSaveAndRead(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	s := state.New(r.Client, state.Options{})
	ev := newEvent("acme", "d-1", t0)
	if err := s.SaveEvent(ctx, ev, []byte(`{"ref":"refs/heads/main"}`), state.IfAbsent); err != nil {
		t.Fatal(err)
	}
	got, err := s.Event(ctx, "d-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ev, got); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	payload, err := s.Payload(ctx, "d-1", "acme")
	if err != nil || string(payload) != `{"ref":"refs/heads/main"}` {
		t.Errorf("Payload = %q, %v", payload, err)
	}
	ok, err := s.Accepted(ctx, "acme", "d-1")
	if err != nil || !ok {
		t.Errorf("Accepted after save = %v, %v; want true", ok, err)
	}
	if ok, _ := s.Accepted(ctx, "other", "d-1"); ok {
		t.Error("a delivery id is accepted for a source that never received it")
	}
	if _, err := s.Event(ctx, "nope", ""); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Event(nope) = %v, want ErrNotFound", err)
	}
}

// TestIfAbsentNeverOverwrites: the intake's first record must not replace
// what the worker already wrote, whichever lands first.
func TestIfAbsentNeverOverwrites(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{})
	processed := newEvent("acme", "d-1", t0)
	processed.Status = event.StatusProcessed
	if err := s.SaveEvent(ctx, processed, nil, state.Overwrite); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveEvent(ctx, newEvent("acme", "d-1", t0), nil, state.IfAbsent); err != nil {
		t.Fatal(err)
	}
	got, err := s.Event(ctx, "d-1", "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != event.StatusProcessed {
		t.Fatalf("status = %q after an IfAbsent save, want it left at processed", got.Status)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	s := state.New(r.Client, state.Options{History: 5})
	for i := range 8 {
		src := []string{"a", "b"}[i%2]
		if err := s.SaveEvent(ctx, newEvent(src, fmt.Sprintf("d-%d", i), t0.Add(time.Duration(i)*time.Second)), []byte("{}"), state.Overwrite); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Events(ctx, state.EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(all); !cmp.Equal(got, []string{"d-7", "d-6", "d-5", "d-4", "d-3"}) {
		t.Fatalf("events after trimming = %v, want the 5 newest, newest first", got)
	}
	if _, err := s.Event(ctx, "d-0", ""); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("trimmed event still readable: %v", err)
	}
	if _, err := s.Payload(ctx, "d-1", "b"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("trimmed payload still stored: %v", err)
	}
	bySource, err := s.Events(ctx, state.EventFilter{Source: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(bySource); !cmp.Equal(got, []string{"d-7", "d-5", "d-3"}) {
		t.Fatalf("events of source b = %v", got)
	}
	n, err := r.Client.ZCard(ctx, "reflex:events:source:b").Result()
	if err != nil || n != 3 {
		t.Errorf("source index holds %d members, want 3 (trimmed ones removed)", n)
	}
}

func TestEventsPaging(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{})
	for i := range 5 {
		if err := s.SaveEvent(ctx, newEvent("a", fmt.Sprintf("d-%d", i), t0.Add(time.Duration(i)*time.Second)), nil, state.Overwrite); err != nil {
			t.Fatal(err)
		}
	}
	page1, err := s.Events(ctx, state.EventFilter{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	page2, err := s.Events(ctx, state.EventFilter{Limit: 2, Before: page1[len(page1)-1].ReceivedAt})
	if err != nil {
		t.Fatal(err)
	}
	if got := append(ids(page1), ids(page2)...); !cmp.Equal(got, []string{"d-4", "d-3", "d-2", "d-1"}) {
		t.Fatalf("two pages = %v", got)
	}
}

func TestSaveRejectsSlash(t *testing.T) {
	s := state.New(redistest.New(t).Client, state.Options{})
	if err := s.SaveEvent(context.Background(), newEvent("a", "x/y", t0), nil, state.Overwrite); err == nil {
		t.Fatal("an id with a slash was stored")
	}
}

func ids(evs []*event.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}
