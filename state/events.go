package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/event"
)

// ErrNotFound is returned when a stored item does not exist (any more).
var ErrNotFound = errors.New("not found")

// ErrAmbiguous is returned when an event id exists on several sources and
// the caller did not say which.
var ErrAmbiguous = errors.New("ambiguous event id")

// DefaultHistory is how many events are kept by default.
const DefaultHistory = 10000

// saveEvent stores an event, indexes it by time and source, and trims the
// history to a bound, deleting what falls out of it, all atomically. It
// trims once the history is over the bound by a tenth (at least one
// event), in one go: every trim reads and sorts the index's oldest end, a
// cost that one trim per save would pay on every save. It
// also (re)writes the delivery's de-duplication record, so the record
// exists as long as the event is known to be accepted, and appends the
// authorization decisions made about it.
//
// KEYS: event key, payload key, all-events index, source index, id index,
// dedupe key, decisions key.
// ARGV: event JSON, payload (or ""), member, score (ms), history bound,
// id, source, only-if-absent flag ("1"), event key prefix, payload key
// prefix, source index prefix, dedupe window (ms, 0: no record),
// decisions key prefix, then decisions to append (JSON each).
// Returns 0 when the flag was set and the event already existed, else 1.
var saveEvent = redis.NewScript(`
if tonumber(ARGV[12]) > 0 then
  redis.call("SET", KEYS[6], "1", "PX", ARGV[12])
end
for i = 14, #ARGV do
  redis.call("RPUSH", KEYS[7], ARGV[i])
end
if ARGV[8] == "1" and redis.call("EXISTS", KEYS[1]) == 1 then
  return 0
end
redis.call("SET", KEYS[1], ARGV[1])
if ARGV[2] ~= "" then
  redis.call("SET", KEYS[2], ARGV[2])
end
redis.call("ZADD", KEYS[3], ARGV[4], ARGV[3])
redis.call("ZADD", KEYS[4], ARGV[4], ARGV[3])
redis.call("HSET", KEYS[5], ARGV[6], ARGV[7])
local bound = tonumber(ARGV[5])
local n = redis.call("ZCARD", KEYS[3])
if n > bound + math.max(1, math.floor(bound / 10)) then
  local old = redis.call("ZRANGE", KEYS[3], 0, n - bound - 1)
  for _, m in ipairs(old) do
    local slash = string.find(m, "/", 1, true)
    local src = string.sub(m, 1, slash - 1)
    local id = string.sub(m, slash + 1)
    redis.call("DEL", ARGV[9] .. m, ARGV[10] .. m, ARGV[13] .. m)
    redis.call("ZREM", ARGV[11] .. src, m)
    if redis.call("HGET", KEYS[5], id) == src then
      redis.call("HDEL", KEYS[5], id)
    end
  end
  redis.call("ZREMRANGEBYRANK", KEYS[3], 0, n - bound - 1)
end
return 1
`)

// SaveMode says whether SaveEvent may overwrite an existing event.
type SaveMode int

// The save modes.
const (
	// Overwrite replaces a stored event: the worker's updates.
	Overwrite SaveMode = iota
	// IfAbsent stores the event only if it is not stored yet: the intake's
	// first record, which must never overwrite what the worker wrote.
	IfAbsent
	// Refused stores an event that was not accepted (denied by policy),
	// unless the event is stored already, and without a de-duplication
	// record, so the provider can deliver it again once the policy allows
	// it.
	Refused
)

// SaveEvent stores an event and, when payload is not nil, its raw payload,
// records its delivery id as accepted for the de-duplication window, and
// appends decisions (JSON documents) to the event's decision trail.
func (s *Store) SaveEvent(ctx context.Context, ev *event.Event, payload []byte, mode SaveMode, decisions ...[]byte) error {
	if ev.ID == "" || ev.Source == "" || strings.Contains(ev.ID, "/") || strings.Contains(ev.Source, "/") {
		return fmt.Errorf("save event: invalid id %q or source %q", ev.ID, ev.Source)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	m := eventMember(ev.Source, ev.ID)
	only, window := "0", s.dedupeWindow.Milliseconds()
	switch mode {
	case IfAbsent:
		only = "1"
	case Refused:
		only, window = "1", 0
	}
	keys := []string{eventKey(m), payloadKey(m), eventsKey(), sourceEventsKey(ev.Source), eventIDsKey(), dedupeKey(ev.Source, ev.ID), decisionsKey(m)}
	args := []any{raw, payload, m, ev.ReceivedAt.UnixMilli(), s.history, ev.ID, ev.Source, only,
		eventKeyPrefix, payloadKeyPrefix, sourceIdxPrefix, window, decisionsKeyPrefix}
	for _, d := range decisions {
		args = append(args, d)
	}
	if err := saveEvent.Run(ctx, s.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("save event %s: %w", m, err)
	}
	return nil
}

// AddDecisions appends decisions (JSON documents) to an event's trail.
func (s *Store) AddDecisions(ctx context.Context, source, id string, decisions ...[]byte) error {
	if len(decisions) == 0 {
		return nil
	}
	args := make([]any, len(decisions))
	for i, d := range decisions {
		args[i] = d
	}
	if err := s.rdb.RPush(ctx, decisionsKey(eventMember(source, id)), args...).Err(); err != nil {
		return fmt.Errorf("record decisions of %s: %w", id, err)
	}
	return nil
}

// Decisions returns an event's decision trail, oldest first.
func (s *Store) Decisions(ctx context.Context, source, id string) ([]json.RawMessage, error) {
	list, err := s.rdb.LRange(ctx, decisionsKey(eventMember(source, id)), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read decisions of %s: %w", id, err)
	}
	out := make([]json.RawMessage, len(list))
	for i, d := range list {
		out[i] = json.RawMessage(d)
	}
	return out, nil
}

// DecisionPage is one page of an event's decision trail.
type DecisionPage struct {
	// Decisions are oldest first.
	Decisions []json.RawMessage
	// Next is the cursor of the following page; "" on the last one.
	Next string
}

// DecisionsPage returns one page of an event's decision trail, oldest
// first (limit: DefaultListLimit when 0, at most MaxListLimit). A trail
// only grows at its end, so a position in it stays exact.
func (s *Store) DecisionsPage(ctx context.Context, source, id, cursor string, limit int) (*DecisionPage, error) {
	trail := "decisions:" + eventMember(source, id)
	pos, err := s.decodeCursor(ctx, trail, cursor)
	if err != nil {
		return nil, err
	}
	start := int64(0)
	if pos != nil {
		if start, err = strconv.ParseInt(pos.Member, 10, 64); err != nil || start < 0 {
			return nil, fmt.Errorf("%w: cursor %q is not one a list returned; start again without it", ErrInvalid, cursor)
		}
	}
	n := int64(pageLimit(limit))
	list, err := s.rdb.LRange(ctx, decisionsKey(eventMember(source, id)), start, start+n).Result()
	if err != nil {
		return nil, fmt.Errorf("read decisions of %s: %w", id, err)
	}
	page := &DecisionPage{Decisions: make([]json.RawMessage, 0, len(list))}
	if int64(len(list)) > n {
		list = list[:n]
		if page.Next, err = s.encodeCursor(ctx, trail, position{Member: strconv.FormatInt(start+n, 10)}); err != nil {
			return nil, err
		}
	}
	for _, d := range list {
		page.Decisions = append(page.Decisions, json.RawMessage(d))
	}
	return page, nil
}

// Event returns a stored event by id. When source is empty, the source that
// stored the id last is used.
func (s *Store) Event(ctx context.Context, id, source string) (*event.Event, error) {
	if source == "" {
		src, err := s.rdb.HGet(ctx, eventIDsKey(), id).Result()
		if errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("event %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("look up event %q: %w", id, err)
		}
		source = src
	}
	raw, err := s.rdb.Get(ctx, eventKey(eventMember(source, id))).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("event %q of source %q: %w", id, source, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read event %q: %w", id, err)
	}
	var ev event.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("decode event %q: %w", id, err)
	}
	return &ev, nil
}

// Payload returns the raw provider payload of a stored event.
func (s *Store) Payload(ctx context.Context, id, source string) ([]byte, error) {
	raw, err := s.rdb.Get(ctx, payloadKey(eventMember(source, id))).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("payload of event %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read payload of event %q: %w", id, err)
	}
	return raw, nil
}

// EventFilter selects events to list.
type EventFilter struct {
	// Source keeps only one source's events when set.
	Source string
	// Before keeps only events received strictly before it when not zero,
	// for the first page.
	Before time.Time
	// Cursor continues a listing after the page that returned it; it
	// takes precedence over Before.
	Cursor string
	// Limit is the page size: DefaultListLimit when 0, at most MaxListLimit.
	Limit int
}

// EventPage is one page of a listing of events.
type EventPage struct {
	// Events are newest first: by receive time, then by source and id.
	Events []*event.Event
	// Next is the cursor of the following page; "" on the last one.
	Next string
}

// Events lists stored events, newest first, one page at a time. Paging is
// exact: every event stored when the listing starts and still kept when
// its page is read appears once, however many share a receive time.
func (s *Store) Events(ctx context.Context, f EventFilter) (*EventPage, error) {
	limit := pageLimit(f.Limit)
	index := eventsKey()
	if f.Source != "" {
		index = sourceEventsKey(f.Source)
	}
	pos, err := s.decodeCursor(ctx, index, f.Cursor)
	if err != nil {
		return nil, err
	}
	before := ""
	if !f.Before.IsZero() {
		before = strconv.FormatInt(f.Before.UnixMilli(), 10)
	}
	entries, err := s.readNewest(ctx, index, pos, before, limit+1)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	page := &EventPage{Events: []*event.Event{}}
	if len(entries) > limit {
		entries = entries[:limit]
		last := entries[limit-1]
		if page.Next, err = s.encodeCursor(ctx, index, position{Score: last.score, Member: last.member}); err != nil {
			return nil, err
		}
	}
	if len(entries) == 0 {
		return page, nil
	}
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = eventKey(e.member)
	}
	values, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	for i, v := range values {
		str, ok := v.(string)
		if !ok {
			continue // trimmed between the two reads
		}
		var ev event.Event
		if err := json.Unmarshal([]byte(str), &ev); err != nil {
			return nil, fmt.Errorf("decode event %s: %w", entries[i].member, err)
		}
		page.Events = append(page.Events, &ev)
	}
	return page, nil
}
