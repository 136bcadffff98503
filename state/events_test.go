package state_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
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

// TestOverwriteMovesToItsReceiveTime: an event refused, then delivered
// again and accepted, is listed at the time it was accepted, in the
// history and in its source's, and only once: from the intake's record
// on (AcceptEvent moves it, its record left for the job to overwrite), as
// from the worker's save.
func TestOverwriteMovesToItsReceiveTime(t *testing.T) {
	tests := []struct {
		name   string
		accept func(context.Context, *state.Store, *event.Event) error
		status event.Status // what the record reads after the acceptance
	}{
		{"the worker saves it", func(ctx context.Context, s *state.Store, ev *event.Event) error {
			ev.Status = event.StatusProcessed
			return s.SaveEvent(ctx, ev, []byte("{}"), state.Overwrite)
		}, event.StatusProcessed},
		{"the intake accepts it", func(ctx context.Context, s *state.Store, ev *event.Event) error {
			raw, _ := json.Marshal(ev)
			_, err := s.AcceptEvent(ctx, ev, raw, []byte(`{"accepted":true}`), testJob(ev))
			return err
		}, event.StatusDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := state.New(redistest.New(t).Client, state.Options{})
			refused := newEvent("a", "d-1", t0)
			refused.Status = event.StatusDenied
			if err := s.SaveEvent(ctx, refused, []byte("{}"), state.Refused); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveEvent(ctx, newEvent("a", "d-2", t0.Add(time.Minute)), nil, state.Overwrite); err != nil {
				t.Fatal(err)
			}
			if err := tt.accept(ctx, s, newEvent("a", "d-1", t0.Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
			for _, f := range []state.EventFilter{{}, {Source: "a"}} {
				page, err := s.Events(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(page.Events); !cmp.Equal(got, []string{"d-1", "d-2"}) {
					t.Errorf("events of %+v = %v, want d-1 (accepted last) before d-2", f, got)
				}
				before, err := s.Events(ctx, state.EventFilter{Source: f.Source, Before: t0.Add(30 * time.Minute)})
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(before.Events); !cmp.Equal(got, []string{"d-2"}) {
					t.Errorf("events of %+v received before d-1's acceptance = %v, want d-2 alone", f, got)
				}
			}
			if got, err := s.Event(ctx, "d-1", "a"); err != nil || got.Status != tt.status {
				t.Errorf("d-1's record reads %v (%v), want %q", got, err, tt.status)
			}
		})
	}
}

// testJob is a job for AcceptEvent, under the keys the events queue uses.
func testJob(ev *event.Event) *state.Job {
	id := ev.Source + "/" + ev.ID
	return &state.Job{Key: keyspace.AsynqTask("events", id), Pending: keyspace.AsynqPending("events"), ID: id, Message: []byte("job")}
}

// commandCounter counts the commands a client sends, pipelined or not,
// leaving out a new connection's handshake.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) count(cmds ...redis.Cmder) {
	for _, cmd := range cmds {
		if name := cmd.Name(); name != "hello" && name != "client" && name != "select" {
			c.n.Add(1)
		}
	}
}

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.count(cmd); return next(ctx, cmd) }
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.count(cmds...); return next(ctx, cmds) }
}

// TestSaveProcessed: the worker's save of an event the intake recorded
// with its job and payload is one command when processing ends within the
// dedupe slack, two when it ends later (the dedupe record then lasts the
// window from processing), and stores the record again, without its
// payload, when it was deleted by hand meanwhile. The history's trim
// leaves the event while its job exists, however far over the bound.
func TestSaveProcessed(t *testing.T) {
	const window = 10 * time.Hour
	payload := []byte(`{"ref":"refs/heads/main"}`)
	tests := []struct {
		name      string
		processed time.Duration // after the intake
		deleted   bool
		commands  int64 // at most
		dedupeTTL time.Duration
		payload   []byte // nil: none left
	}{
		{"within the slack", time.Minute, false, 1, window + window/10, payload},
		{"beyond the slack", 2 * time.Hour, false, 2, window, payload},
		{"deleted by hand meanwhile", time.Minute, true, 4, window, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := redistest.New(t)
			now := t0
			s := state.New(r.Client, state.Options{History: 1, DedupeWindow: window, Now: func() time.Time { return now }})
			ev := newEvent("acme", "d-1", t0)
			raw, _ := json.Marshal(ev)
			if dup, err := s.AcceptEvent(ctx, ev, raw, payload, testJob(ev)); err != nil || dup {
				t.Fatalf("accept: duplicate %v, %v", dup, err)
			}
			if err := s.SaveEvent(ctx, newEvent("acme", "d-2", t0.Add(time.Second)), nil, state.Overwrite); err != nil {
				t.Fatal(err)
			}
			if n, err := s.TrimHistory(ctx); err != nil || n != 0 {
				t.Fatalf("trim deleted %d (%v), want none: d-1's job exists", n, err)
			}
			if tt.deleted {
				m := keyspace.EventMember("acme", "d-1")
				if err := r.Client.Del(ctx, keyspace.Event(m), keyspace.Payload(m)).Err(); err != nil {
					t.Fatal(err)
				}
			}
			now = t0.Add(tt.processed)
			ev.Status, ev.ProcessedAt = event.StatusProcessed, &now
			counter := &commandCounter{}
			r.Client.AddHook(counter)
			err := s.SaveProcessed(ctx, ev)
			if sent := counter.n.Load(); err != nil || sent > tt.commands {
				t.Fatalf("the save sent %d commands (%v), want at most %d", sent, err, tt.commands)
			}
			if got, err := s.Event(ctx, "d-1", ""); err != nil || got.Status != event.StatusProcessed {
				t.Errorf("event reads %+v (%v), want it processed", got, err)
			}
			got, err := s.Payload(ctx, "d-1", "acme")
			if tt.payload == nil && !errors.Is(err, state.ErrNotFound) || tt.payload != nil && (err != nil || string(got) != string(tt.payload)) {
				t.Errorf("payload %q (%v), want %q", got, err, tt.payload)
			}
			page, err := s.Events(ctx, state.EventFilter{Source: "acme", Limit: 10})
			if err != nil || !slices.Contains(ids(page.Events), "d-1") {
				t.Errorf("the source's listing holds %v (%v), want d-1 in it", ids(page.Events), err)
			}
			ttl, err := r.Client.PTTL(ctx, keyspace.Dedupe("acme", "d-1")).Result()
			if err != nil || ttl > tt.dedupeTTL || ttl < tt.dedupeTTL-time.Minute {
				t.Errorf("dedupe record lasts %v more (%v), want about %v", ttl, err, tt.dedupeTTL)
			}
			if err := r.Client.Del(ctx, testJob(ev).Key).Err(); err != nil { // as the job's completion does
				t.Fatal(err)
			}
			if n, err := s.TrimHistory(ctx); err != nil || n != 1 {
				t.Errorf("once its job is done, the trim deleted %d (%v), want d-1", n, err)
			}
		})
	}
}

// TestHistoryIsBounded: saves never trim; TrimHistory deletes the oldest
// events beyond the bound, with their payloads and index entries.
func TestHistoryIsBounded(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	s := state.New(r.Client, state.Options{History: 5})
	for i := range 7 {
		src := []string{"a", "b"}[i%2]
		if err := s.SaveEvent(ctx, newEvent(src, fmt.Sprintf("d-%d", i), t0.Add(time.Duration(i)*time.Second)), []byte("{}"), state.Overwrite); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := r.Client.ZCard(ctx, keyspace.Events()).Result(); err != nil || n != 7 {
		t.Fatalf("before a trim the history holds %d (%v), want all 7", n, err)
	}
	if n, err := s.TrimHistory(ctx); err != nil || n != 2 {
		t.Fatalf("TrimHistory deleted %d (%v), want 2", n, err)
	}
	all, err := s.Events(ctx, state.EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(all.Events); !cmp.Equal(got, []string{"d-6", "d-5", "d-4", "d-3", "d-2"}) {
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
	if got := ids(bySource.Events); !cmp.Equal(got, []string{"d-5", "d-3"}) {
		t.Fatalf("events of source b = %v", got)
	}
	n, err := r.Client.ZCard(ctx, keyspace.SourceEvents("b")).Result()
	if err != nil || n != 2 {
		t.Errorf("source index holds %d members, want 2 (trimmed ones removed)", n)
	}
	kept, err := r.Client.HKeys(ctx, keyspace.EventIDs()).Result()
	if slices.Sort(kept); err != nil || !cmp.Equal(kept, []string{"d-2", "d-3", "d-4", "d-5", "d-6"}) {
		t.Errorf("id index holds %v (%v), want the ids of the 5 kept", kept, err)
	}
	if n, err := s.TrimHistory(ctx); err != nil || n != 0 {
		t.Errorf("a second trim deleted %d (%v), want 0", n, err)
	}
}

// TestHistoryTrimsInBatches: a history far over its bound is trimmed back
// to it in one call, batch after batch, oldest first.
func TestHistoryTrimsInBatches(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	s := state.New(r.Client, state.Options{History: 100})
	saveEvents(t, s, 700, 700) // 1 ms apart
	newest := newEvent("a", "newest", t0.Add(time.Hour))
	if err := s.SaveEvent(ctx, newest, []byte("{}"), state.Overwrite); err != nil {
		t.Fatal(err)
	}
	if n, err := s.TrimHistory(ctx); err != nil || n != 601 {
		t.Fatalf("TrimHistory deleted %d (%v), want 601", n, err)
	}
	if n, err := r.Client.ZCard(ctx, keyspace.Events()).Result(); err != nil || n != 100 {
		t.Fatalf("the history holds %d events (%v), want 100", n, err)
	}
	if n, err := r.Client.HLen(ctx, keyspace.EventIDs()).Result(); err != nil || n != 100 {
		t.Fatalf("the id index holds %d ids (%v), want 100", n, err)
	}
	page, err := s.Events(ctx, state.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"newest"}
	for i := 699; i > 699-99; i-- {
		want = append(want, fmt.Sprintf("d-%05d", i))
	}
	if got := ids(page.Events); !cmp.Equal(got, want) {
		t.Fatalf("events after the trim = %v, want the 100 newest", got)
	}
}

// TestEventsPagingIsExact follows the cursor through histories whose
// events share receive times, so a page boundary falls inside a run of
// equal timestamps, and checks every event is listed once, in order.
func TestEventsPagingIsExact(t *testing.T) {
	tests := []struct {
		name      string
		events    int
		distinct  int // distinct receive times, spread over the events
		pageSizes []int
	}{
		{"one timestamp", 2500, 1, []int{1, 7, 1000}},
		{"a few timestamps", 600, 7, []int{2, 50}},
		{"every event its own time", 60, 60, []int{1, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := state.New(redistest.New(t).Client, state.Options{History: tt.events})
			want := saveEvents(t, s, tt.events, tt.distinct)
			for _, size := range tt.pageSizes {
				got, pages := listAll(t, s, state.EventFilter{Limit: size})
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("page size %d: listing (-want +got):\n%s", size, diff)
				}
				if wantPages := (tt.events + size - 1) / size; pages != wantPages {
					t.Errorf("page size %d: %d pages, want %d", size, pages, wantPages)
				}
			}
			first, err := s.Events(ctx, state.EventFilter{Limit: min(tt.events, state.MaxListLimit)})
			if tt.events <= state.MaxListLimit && (err != nil || first.Next != "") {
				t.Errorf("a page holding everything has a next cursor %q (%v)", first.Next, err)
			}
		})
	}
}

// TestCursorOutlivesItsEvent: the event a page ended on may leave the
// index before the next page is read; the next page still starts right
// after where it stood.
func TestCursorOutlivesItsEvent(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	s := state.New(r.Client, state.Options{})
	want := saveEvents(t, s, 40, 3)
	page, err := s.Events(ctx, state.EventFilter{Limit: 11})
	if err != nil {
		t.Fatal(err)
	}
	last := page.Events[len(page.Events)-1]
	if err := r.Client.ZRem(ctx, keyspace.Events(), last.Source+"/"+last.ID).Err(); err != nil {
		t.Fatal(err)
	}
	rest, _ := listAll(t, s, state.EventFilter{Limit: 5, Cursor: page.Next})
	if diff := cmp.Diff(want[11:], rest); diff != "" {
		t.Fatalf("after the cursor's event left (-want +got):\n%s", diff)
	}
}

func TestEventsBeforeAndBadCursor(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{})
	for i := range 5 {
		if err := s.SaveEvent(ctx, newEvent("a", fmt.Sprintf("d-%d", i), t0.Add(time.Duration(i)*time.Second)), nil, state.Overwrite); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.Events(ctx, state.EventFilter{Before: t0.Add(3 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(page.Events); !cmp.Equal(got, []string{"d-2", "d-1", "d-0"}) {
		t.Errorf("events before d-3's time = %v", got)
	}
	first, err := s.Events(ctx, state.EventFilter{Limit: 2})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	tampered := []byte(first.Next)
	tampered[len(tampered)/2] ^= 1
	for _, bad := range []state.EventFilter{
		{Cursor: "nonsense"}, {Cursor: "e30"}, {Cursor: "!!"},
		{Cursor: string(tampered)},
		{Cursor: first.Next, Source: "a"}, // another list's cursor
	} {
		if _, err := s.Events(ctx, bad); !errors.Is(err, state.ErrInvalid) {
			t.Errorf("cursor %+v: %v, want ErrInvalid", bad, err)
		}
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(first.Next); bytes.Contains(raw, []byte("/d-")) {
		t.Errorf("the cursor %q shows what it points at", first.Next)
	}
}

// saveEvents stores n events of two sources over distinct receive times
// and returns their "source/id", newest first as a listing orders them.
func saveEvents(t *testing.T, s *state.Store, n, distinct int) []string {
	t.Helper()
	type stored struct {
		at  time.Time
		key string
	}
	var all []stored
	for i := range n {
		src := []string{"a", "b"}[i%2]
		id := fmt.Sprintf("d-%05d", i)
		at := t0.Add(time.Duration(i%distinct) * time.Millisecond)
		if err := s.SaveEvent(context.Background(), newEvent(src, id, at), nil, state.Overwrite); err != nil {
			t.Fatal(err)
		}
		all = append(all, stored{at, src + "/" + id})
	}
	slices.SortFunc(all, func(x, y stored) int {
		if c := y.at.Compare(x.at); c != 0 {
			return c
		}
		return strings.Compare(y.key, x.key)
	})
	out := make([]string, len(all))
	for i, e := range all {
		out[i] = e.key
	}
	return out
}

// listAll follows Next from f and returns "source/id" of every event
// listed, and how many pages it took.
func listAll(t *testing.T, s *state.Store, f state.EventFilter) ([]string, int) {
	t.Helper()
	var out []string
	pages := 0
	for {
		page, err := s.Events(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, ev := range page.Events {
			out = append(out, ev.Source+"/"+ev.ID)
		}
		if page.Next == "" {
			return out, pages
		}
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
		f.Cursor = page.Next
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

func TestDecisionsPage(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{})
	var trail [][]byte
	for i := range 5 {
		trail = append(trail, []byte(fmt.Sprintf(`{"n":%d}`, i)))
	}
	if err := s.SaveEvent(ctx, newEvent("a", "d-1", t0), nil, state.Overwrite, trail...); err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := s.DecisionsPage(ctx, "a", "d-1", cursor, 2)
		if err != nil || pages > 5 {
			t.Fatalf("page %d: %v", pages, err)
		}
		for _, d := range page.Decisions {
			got = append(got, string(d))
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if want := []string{`{"n":0}`, `{"n":1}`, `{"n":2}`, `{"n":3}`, `{"n":4}`}; !cmp.Equal(got, want) {
		t.Fatalf("trail by pages of 2 = %v", got)
	}
}

// TestDedupeRecordIsPayloadFree: the dedupe record of an accepted delivery
// is the same few bytes whatever the payload's size, so the records a
// dedupe window keeps cost memory by the count of deliveries, not their
// bytes.
func TestDedupeRecordIsPayloadFree(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	s := state.New(r.Client, state.Options{})
	var sizes []int64
	for i, n := range []int{10, 1 << 20} {
		ev := newEvent("acme", fmt.Sprintf("d-%d", i), t0)
		raw, _ := json.Marshal(ev)
		payload := []byte(`{"pad":"` + strings.Repeat("x", n) + `"}`)
		if dup, err := s.AcceptEvent(ctx, ev, raw, payload, testJob(ev)); err != nil || dup {
			t.Fatalf("accept: duplicate %v, %v", dup, err)
		}
		size, err := r.Client.StrLen(ctx, keyspace.Dedupe("acme", ev.ID)).Result()
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, size)
	}
	if sizes[0] != sizes[1] || sizes[0] > 8 {
		t.Errorf("dedupe records of a 10-byte and a 1 MiB payload hold %v bytes, want the same few", sizes)
	}
}
