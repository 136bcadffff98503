package state

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
)

// TestTrimLeavesWhatMovedSinceTheRead: a trim runs on what it read of the
// oldest events; an event saved again at a later time in between is left,
// with its payload, decisions and index entries, and so is one whose job
// still exists, while the events before and after them in the batch go,
// keys and index entries alike.
func TestTrimLeavesWhatMovedSinceTheRead(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	s := New(r.Client, Options{History: 2})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	save := func(i int, when time.Time) {
		t.Helper()
		ev := &event.Event{ID: fmt.Sprintf("d-%d", i), Source: []string{"a", "b"}[i%2], Type: "push", ReceivedAt: when, Status: event.StatusQueued}
		if err := s.SaveEvent(ctx, ev, []byte("{}"), Overwrite, []byte(`{"allowed":true}`)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 6 {
		save(i, at.Add(time.Duration(i)*time.Second))
	}
	oldest, err := r.Client.ZRangeWithScores(ctx, keyspace.Events(), 0, 3).Result()
	if err != nil {
		t.Fatal(err)
	}
	save(1, at.Add(time.Hour)) // d-1 moves after the read
	if err := r.Client.HSet(ctx, keyspace.EventJob(keyspace.EventMember("b", "d-3")), "state", "retry").Err(); err != nil {
		t.Fatal(err)
	}

	n, err := s.trimOldest(ctx, oldest)
	if err != nil || n != 2 {
		t.Fatalf("trimmed %d (%v), want 2: d-0 and d-2, not the moved d-1 nor d-3, whose job exists", n, err)
	}
	for i, kept := range []bool{false, true, false, true, true, true} {
		m := keyspace.EventMember([]string{"a", "b"}[i%2], fmt.Sprintf("d-%d", i))
		keys := []string{keyspace.Event(m), keyspace.Payload(m), keyspace.Decisions(m)}
		exist, err := r.Client.Exists(ctx, keys...).Result()
		if err != nil {
			t.Fatal(err)
		}
		_, errAll := r.Client.ZScore(ctx, keyspace.Events(), m).Result()
		_, errSource := r.Client.ZScore(ctx, keyspace.SourceEvents([]string{"a", "b"}[i%2]), m).Result()
		_, errID := r.Client.HGet(ctx, keyspace.EventIDs(), fmt.Sprintf("d-%d", i)).Result()
		indexed := errAll == nil && errSource == nil && errID == nil
		unindexed := errAll != nil && errSource != nil && errID != nil
		switch {
		case kept && (exist != 3 || !indexed):
			t.Errorf("%s: %d of its 3 keys left, indexed everywhere %v; want all kept", m, exist, indexed)
		case !kept && (exist != 0 || !unindexed):
			t.Errorf("%s: %d of its 3 keys left, gone from every index %v; want it deleted", m, exist, unindexed)
		}
	}
}
