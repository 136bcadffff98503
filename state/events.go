package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/klauspost/compress/s2"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/periodic"
)

// ErrNotFound is returned when a stored item does not exist (any more).
var ErrNotFound = errors.New("not found")

// ErrAmbiguous is returned when an event id exists on several sources and
// the caller did not say which.
var ErrAmbiguous = errors.New("ambiguous event id")

// DefaultHistory is how many events are kept by default, give or take
// those received since the last trim (TrimHistory).
const DefaultHistory = 10000

// saveEventBody stores an event, indexes it by time and source, (re)writes
// the delivery's de-duplication record, so the record exists as long as
// the event is known to be accepted, and appends the authorization
// decisions made about it (ARGV[first] on). TrimHistory keeps the history
// to its bound.
//
// Its mode (ARGV 7) says what happens to an event stored already:
// "overwrite" replaces it; "absent" leaves it as it is; "accept" leaves
// its record, but stores the payload and moves it to its new receive
// time, as the job that will overwrite the record expects (SaveProcessed).
//
// KEYS: event, payload, all-events index, source index, id index, dedupe
// record, decisions. ARGV: saveEventArgs.
// Returns 1 when it stored the event's record, 0 when it left one.
const saveEventBody = `
local event, payload, member, score = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local id, source, mode, window = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
if tonumber(window) > 0 then
  redis.call("SET", KEYS[6], "1", "PX", window)
end
if #ARGV >= first then
  redis.call("RPUSH", KEYS[7], unpack(ARGV, first))
end
local fresh -- new to the history, so in no index yet
if mode == "overwrite" then
  fresh = not redis.call("SET", KEYS[1], event, "XX")
  if fresh then redis.call("SET", KEYS[1], event) end
elseif payload ~= "" and redis.call("MSETNX", KEYS[1], event, KEYS[2], payload) == 1 then
  fresh, payload = true, "" -- both stored at once, the common case
else
  fresh = redis.call("SET", KEYS[1], event, "NX")
  if not fresh and mode == "absent" then return 0 end
end
if payload ~= "" then
  redis.call("SET", KEYS[2], payload)
end
if fresh then
  redis.call("ZADD", KEYS[3], score, member)
  redis.call("ZADD", KEYS[4], score, member)
  redis.call("HSET", KEYS[5], id, source)
  return 1
end
-- Stored before, so indexed: only a new receive time moves it.
if redis.call("ZADD", KEYS[3], "XX", "CH", score, member) == 1 then
  redis.call("ZADD", KEYS[4], score, member)
end
if mode == "overwrite" then return 1 end
return 0
`

// saveEvent is saveEventBody on its own: the worker's writes.
var saveEvent = redis.NewScript("local first = 9\n" + saveEventBody)

// acceptEvent records a verified delivery in one step: a delivery whose
// dedupe record exists is a duplicate, and nothing is written; otherwise
// its job, when it has one (KEYS 8 and 9), is queued as asynq queues a
// pending task, unless the job exists already (a duplicate too), and the
// event is recorded by saveEventBody. So a webhook costs the intake one
// round trip to Redis, and its job is queued exactly once. With a spill
// list (KEYS 10), the job's id goes there instead of the pending list
// while the pending list holds the spill bound (ARGV 12) or the spill list
// holds any, so the queue stays in order.
//
// KEYS: saveEventBody's, then the job's hash, its queue's pending list and
// its spill list. ARGV: saveEventArgs's first eight, the job's message,
// its id, the time (ns), the spill bound, then the decisions. Returns 2
// for a duplicate, else what saveEventBody returns.
var acceptEvent = redis.NewScript(`
if #KEYS < 9 then
  if redis.call("EXISTS", KEYS[6]) == 1 then return 2 end
else
  if redis.call("EXISTS", KEYS[6], KEYS[8]) > 0 then return 2 end
  redis.call("HSET", KEYS[8], "msg", ARGV[9], "state", "pending", "pending_since", ARGV[11])
  if #KEYS >= 10 and (redis.call("LLEN", KEYS[10]) > 0 or redis.call("LLEN", KEYS[9]) >= tonumber(ARGV[12])) then
    redis.call("RPUSH", KEYS[10], ARGV[10])
  else
    redis.call("LPUSH", KEYS[9], ARGV[10])
  end
end
local first = 13
` + saveEventBody)

// saveEventArgs are saveEvent's ARGV, in order; the script names them in
// its first lines.
type saveEventArgs struct {
	Event        []byte   // 1: the event's JSON
	Payload      []byte   // 2: its raw payload; empty leaves the stored one
	Member       string   // 3: its index member, "source/id"
	Score        int64    // 4: its receive time (ms)
	ID, Source   string   // 5, 6
	Mode         string   // 7: "overwrite", "absent" or "accept" (see saveEventBody)
	DedupeWindow int64    // 8: how long the dedupe record lasts (ms); 0 writes none
	Decisions    [][]byte // 9 on: decisions to append (JSON each)
}

func (a saveEventArgs) argv() []any {
	out := []any{a.Event, a.Payload, a.Member, a.Score, a.ID, a.Source, a.Mode, a.DedupeWindow}
	for _, d := range a.Decisions {
		out = append(out, d)
	}
	return out
}

// trimEvents deletes events SaveEvent found at the oldest end of the
// history, each with its payload, decisions and index entries, for as long
// as the history is over its bound. An event is deleted only while the
// index still holds it at the receive time that was read (one trimmed by
// another replica meanwhile, or saved again at another time, is left),
// never while its processing job exists (its worker reads the record and
// the payload), and never below the bound, so trims that race together
// still leave the bound. A batch costs a few commands, not a few per
// event: whether any job exists is one question for the batch, its keys
// are deleted in runs of declared keys, and each index loses its members
// at once.
//
// KEYS: all-events index, id index, then for each event: event, payload,
// decisions; then each event's job; then the source indexes the batch
// names. ARGV: history bound, then for each event: member, score read,
// id, source, and the position of its source index in KEYS. Returns how
// many it deleted.
var trimEvents = redis.NewScript(`
local excess = redis.call("ZCARD", KEYS[1]) - tonumber(ARGV[1])
if excess <= 0 then return 0 end
local batch = (#ARGV - 1) / 5
local n = math.min(batch, excess)
local jobs = 2 + batch*3 -- the first job is KEYS[jobs + 1]
local members = {}
for i = 1, n do members[i] = ARGV[i*5 - 3] end
local scores = redis.call("ZMSCORE", KEYS[1], unpack(members))
local queued = 0
for first = 1, n, 240 do
  queued = queued + redis.call("EXISTS", unpack(KEYS, jobs + first, jobs + math.min(first + 239, n)))
end
local function delete(from, to) -- KEYS[from..to], in runs the stack holds
  for first = from, to, 240 do
    redis.call("DEL", unpack(KEYS, first, math.min(first + 239, to)))
  end
end
local gone, ids, sources, bySource = {}, {}, {}, {}
local run = true -- every event so far goes: their keys are deleted as a run
for i = 1, n do
  local a = i*5 - 3 -- its member is ARGV[a], its event key KEYS[i*3]
  local goes = scores[i] and tonumber(scores[i]) == tonumber(ARGV[a + 1])
  if goes and queued > 0 then goes = redis.call("EXISTS", KEYS[jobs + i]) == 0 end
  if goes then
    gone[#gone + 1], ids[#gone + 1], sources[#gone + 1] = ARGV[a], ARGV[a + 2], ARGV[a + 3]
    local at = tonumber(ARGV[a + 4])
    bySource[at] = bySource[at] or {}
    table.insert(bySource[at], ARGV[a])
    if not run then redis.call("DEL", KEYS[i*3], KEYS[i*3 + 1], KEYS[i*3 + 2]) end
  elseif run then
    if i > 1 then delete(3, i*3 - 1) end
    run = false
  end
end
if run then delete(3, n*3 + 2) end
if #gone == 0 then return 0 end
redis.call("ZREM", KEYS[1], unpack(gone))
for at, list in pairs(bySource) do redis.call("ZREM", KEYS[at], unpack(list)) end
local owners = redis.call("HMGET", KEYS[2], unpack(ids))
local drop = {}
for j = 1, #ids do
  if owners[j] == sources[j] then drop[#drop + 1] = ids[j] end
end
if #drop > 0 then redis.call("HDEL", KEYS[2], unpack(drop)) end
return #gone
`)

// trimBatch bounds how many events one run of trimEvents deletes, so a
// large trim does not hold Redis in one long script, and the members it
// removes at once fit the embedded Redis's script stack.
const trimBatch = 500

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

// Job is a job to queue with an event: its encoded message, stored under
// Key, and its ID pushed on the Pending list, as the job queue expects
// them. The store knows nothing of the queue but these keys and bytes,
// which must share the event keys' hash tag.
type Job struct {
	Key, Pending, ID string
	Message          []byte
	// Spill, when set, bounds the pending list at SpillAt ids: beyond it,
	// and for as long as Spill holds any, the ID is appended to Spill
	// instead, for the job queue to move back in order.
	Spill   string
	SpillAt int
}

// AcceptEvent records a verified delivery in one round trip, unless it is
// a duplicate (its delivery id accepted within the dedupe window, or its
// job queued already): with a job, the job is queued, the delivery id
// recorded for the dedupe window (and a slack: see SaveProcessed), and the
// event stored with its payload, or, when it is stored already, its
// payload stored and its record moved to this receive time; without one
// (refused by policy), the event is stored unless it is already, with no
// payload and no dedupe record. eventJSON is ev encoded once, which the
// job may carry too; decisions are appended to the event's trail. It
// reports whether the delivery was a duplicate; then nothing was written.
func (s *Store) AcceptEvent(ctx context.Context, ev *event.Event, eventJSON, payload []byte, job *Job, decisions ...[]byte) (duplicate bool, err error) {
	if err := checkEventKey(ev); err != nil {
		return false, fmt.Errorf("accept event: %w", err)
	}
	m := keyspace.EventMember(ev.Source, ev.ID)
	args := saveEventArgs{Event: eventJSON, Member: m, Score: ev.ReceivedAt.UnixMilli(), ID: ev.ID, Source: ev.Source, Mode: "absent"}
	keys := eventKeys(ev)
	var jobMsg, jobID any = "", ""
	spillAt := 0
	if job != nil {
		args.Mode, args.Payload = "accept", packPayload(payload)
		args.DedupeWindow = (s.dedupeWindow + s.dedupeSlack()).Milliseconds()
		keys = append(keys, job.Key, job.Pending)
		jobMsg, jobID = job.Message, job.ID
		if job.Spill != "" {
			keys, spillAt = append(keys, job.Spill), max(job.SpillAt, 1)
		}
	}
	argv := append(args.argv(), jobMsg, jobID, s.now().UnixNano(), spillAt)
	for _, d := range decisions {
		argv = append(argv, d)
	}
	res, err := s.runAcked(ctx, acceptEvent, keys, argv...).Int()
	if err != nil {
		return false, fmt.Errorf("accept event %s: %w", m, err)
	}
	return res == 2, nil
}

// packPayload is how a payload is stored: compressed with S2 (a provider's
// JSON shrinks to a fifth or so, for a few microseconds), behind a zero
// byte, which no JSON document begins with.
func packPayload(doc []byte) []byte {
	if len(doc) == 0 {
		return doc
	}
	buf := make([]byte, 1+s2.MaxEncodedLen(len(doc)))
	return buf[:1+len(s2.Encode(buf[1:], doc))]
}

// unpackPayload reverses packPayload; a payload stored as it came (by an
// earlier release) is returned as it is.
func unpackPayload(stored []byte) ([]byte, error) {
	if len(stored) == 0 || stored[0] != 0 {
		return stored, nil
	}
	doc, err := s2.Decode(nil, stored[1:])
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	return doc, nil
}

// dedupeSlack is how much longer than the dedupe window the intake keeps a
// delivery's dedupe record, so that an event processed within the slack
// needs no second write to keep it for the window after processing.
func (s *Store) dedupeSlack() time.Duration { return s.dedupeWindow / 10 }

// checkEventKey refuses an event whose source or id cannot name its keys.
func checkEventKey(ev *event.Event) error {
	if ev.ID == "" || ev.Source == "" || strings.Contains(ev.ID, "/") || strings.Contains(ev.Source, "/") {
		return fmt.Errorf("invalid id %q or source %q", ev.ID, ev.Source)
	}
	return nil
}

// encodeEvent checks an event's key and encodes it; it returns its JSON
// and its index member.
func encodeEvent(ev *event.Event) ([]byte, string, error) {
	if err := checkEventKey(ev); err != nil {
		return nil, "", fmt.Errorf("save event: %w", err)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, "", fmt.Errorf("encode event: %w", err)
	}
	return raw, keyspace.EventMember(ev.Source, ev.ID), nil
}

// eventKeys are saveEventBody's KEYS for an event.
func eventKeys(ev *event.Event) []string {
	m := keyspace.EventMember(ev.Source, ev.ID)
	return []string{keyspace.Event(m), keyspace.Payload(m), keyspace.Events(), keyspace.SourceEvents(ev.Source), keyspace.EventIDs(), keyspace.Dedupe(ev.Source, ev.ID), keyspace.Decisions(m)}
}

// SaveEvent stores an event and, when payload is not nil, its raw payload,
// records its delivery id as accepted for the de-duplication window, and
// appends decisions (JSON documents) to the event's decision trail.
func (s *Store) SaveEvent(ctx context.Context, ev *event.Event, payload []byte, mode SaveMode, decisions ...[]byte) error {
	raw, m, err := encodeEvent(ev)
	if err != nil {
		return err
	}
	args := saveEventArgs{Event: raw, Payload: packPayload(payload), Member: m, Score: ev.ReceivedAt.UnixMilli(), ID: ev.ID, Source: ev.Source,
		Mode: "overwrite", DedupeWindow: s.dedupeWindow.Milliseconds(), Decisions: decisions}
	switch mode {
	case IfAbsent:
		args.Mode = "absent"
	case Refused:
		args.Mode, args.DedupeWindow = "absent", 0
	}
	if err := saveEvent.Run(ctx, s.rdb, eventKeys(ev), args.argv()...).Err(); err != nil {
		return fmt.Errorf("save event %s: %w", m, err)
	}
	return nil
}

// SaveProcessed stores an event as its job leaves it, over the record
// AcceptEvent made when it queued the job: that record is at the event's
// receive time with its payload, and TrimHistory leaves it while the job
// exists, so this is one write of the record in place, and no script. The
// dedupe record is written again, for the window from now, only when
// processing ends beyond the slack the intake gave it. A record gone all
// the same (deleted by hand) is stored again, without payload.
func (s *Store) SaveProcessed(ctx context.Context, ev *event.Event) error {
	raw, m, err := encodeEvent(ev)
	if err != nil {
		return err
	}
	var set *redis.StatusCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = p.SetArgs(ctx, keyspace.Event(m), raw, redis.SetArgs{Mode: "XX"})
		if s.now().Sub(ev.ReceivedAt) > s.dedupeSlack() {
			p.Set(ctx, keyspace.Dedupe(ev.Source, ev.ID), "1", s.dedupeWindow)
		}
		return nil
	})
	switch {
	case errors.Is(set.Err(), redis.Nil):
		return s.SaveEvent(ctx, ev, nil, Overwrite)
	case err != nil:
		return fmt.Errorf("save event %s: %w", m, err)
	}
	return nil
}

// TrimHistory deletes the oldest events beyond the history bound, each
// with its payload, decisions and index entries, in batches, and returns
// how many it deleted. An event whose processing job exists is left, and
// with it the rest of its batch until the next call. Saves never trim, so a burst of webhooks never
// waits for one: the server calls it in the background (RunTrimmer), and
// the history may hold more than its bound until the next call.
func (s *Store) TrimHistory(ctx context.Context) (int, error) {
	deleted := 0
	for {
		n, err := s.rdb.ZCard(ctx, keyspace.Events()).Result()
		if err != nil {
			return deleted, fmt.Errorf("trim the history: %w", err)
		}
		excess := n - int64(s.history)
		if excess <= 0 {
			return deleted, nil
		}
		oldest, err := s.rdb.ZRangeWithScores(ctx, keyspace.Events(), 0, min(excess, trimBatch)-1).Result()
		if err != nil {
			return deleted, fmt.Errorf("trim the history: %w", err)
		}
		done, err := s.trimOldest(ctx, oldest)
		if err != nil {
			return deleted, err
		}
		deleted += done
		if done < len(oldest) {
			// Some were left (still queued, moved, or trimmed by another
			// replica): the next call tries again, rather than this one
			// going over the same batch while its jobs run.
			return deleted, nil
		}
	}
}

// trimOldest runs trimEvents on the oldest events as read from the
// all-events index, and returns how many it deleted.
func (s *Store) trimOldest(ctx context.Context, oldest []redis.Z) (int, error) {
	n := len(oldest)
	keys := make([]string, 2+4*n, 2+4*n+2)
	keys[0], keys[1] = keyspace.Events(), keyspace.EventIDs()
	args := make([]any, 0, 1+5*n)
	args = append(args, s.history)
	var indexes []string // the batch's source indexes, after its events' keys and jobs
	for i, z := range oldest {
		m, _ := z.Member.(string)
		source, id := keyspace.SplitEventMember(m)
		keys[2+3*i], keys[3+3*i], keys[4+3*i] = keyspace.Event(m), keyspace.Payload(m), keyspace.Decisions(m)
		keys[2+3*n+i] = keyspace.EventJob(m)
		at := slices.Index(indexes, keyspace.SourceEvents(source))
		if at < 0 {
			at, indexes = len(indexes), append(indexes, keyspace.SourceEvents(source))
		}
		args = append(args, m, z.Score, id, source, 2+4*n+at+1) // KEYS are 1-based
	}
	keys = append(keys, indexes...)
	done, err := trimEvents.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("trim the history: %w", err)
	}
	return done, nil
}

// trimEvery is how often RunTrimmer trims the history.
const trimEvery = time.Second

// RunTrimmer trims the history every second until ctx ends.
func (s *Store) RunTrimmer(ctx context.Context) {
	periodic.Run(ctx, trimEvery, func(ctx context.Context) {
		if _, err := s.TrimHistory(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("the event history could not be trimmed; trying again", "error", err)
		}
	})
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
	if err := s.rdb.RPush(ctx, keyspace.Decisions(keyspace.EventMember(source, id)), args...).Err(); err != nil {
		return fmt.Errorf("record decisions of %s: %w", id, err)
	}
	return nil
}

// Decisions returns an event's decision trail, oldest first.
func (s *Store) Decisions(ctx context.Context, source, id string) ([]json.RawMessage, error) {
	list, err := s.rdb.LRange(ctx, keyspace.Decisions(keyspace.EventMember(source, id)), 0, -1).Result()
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
	trail := "decisions:" + keyspace.EventMember(source, id)
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
	list, err := s.rdb.LRange(ctx, keyspace.Decisions(keyspace.EventMember(source, id)), start, start+n).Result()
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
		src, err := s.rdb.HGet(ctx, keyspace.EventIDs(), id).Result()
		if errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("event %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("look up event %q: %w", id, err)
		}
		source = src
	}
	raw, err := s.rdb.Get(ctx, keyspace.Event(keyspace.EventMember(source, id))).Bytes()
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
	raw, err := s.rdb.Get(ctx, keyspace.Payload(keyspace.EventMember(source, id))).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("payload of event %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read payload of event %q: %w", id, err)
	}
	doc, err := unpackPayload(raw)
	if err != nil {
		return nil, fmt.Errorf("read payload of event %q: %w", id, err)
	}
	return doc, nil
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
	index := keyspace.Events()
	if f.Source != "" {
		index = keyspace.SourceEvents(f.Source)
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
	members := make([]string, len(entries))
	for i, e := range entries {
		members[i] = e.member
	}
	events, err := s.EventsOf(ctx, members)
	if err != nil {
		return nil, err
	}
	page.Events = append(page.Events, events...)
	return page, nil
}
