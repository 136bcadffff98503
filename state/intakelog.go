package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	json "github.com/goccy/go-json"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
)

// IntakeLogSize is about how many entries the intake log keeps: Redis
// trims it to this length, give or take a few, as it grows.
const IntakeLogSize = 2000

// IntakeEntry is one delivery the event history does not keep: a
// duplicate of an accepted one, or one refused before the intake decided
// it (unknown source, bad signature, too large…). Accepted and denied
// deliveries are in the history (Store.Events).
type IntakeEntry struct {
	// Position is the entry's place in the log; entries after it are
	// newer.
	Position string `json:"position"`
	// At is when the delivery arrived.
	At time.Time `json:"at"`
	// Source is empty for a delivery to a source that does not exist:
	// anyone can post to any name, so the name is not kept.
	Source    string `json:"source,omitempty"`
	Connector string `json:"connector,omitempty"`
	// ID is the delivery id, when the delivery got as far as having one.
	ID   string     `json:"id,omitempty"`
	Type string     `json:"type,omitempty"`
	Kind event.Kind `json:"kind,omitempty"`
	// Repository is the event's repository, for a duplicate.
	Repository string `json:"repository,omitempty"`
	// Outcome is "duplicate" or "refused".
	Outcome string `json:"outcome"`
	// Reason is a refusal's reason, one of a small fixed set.
	Reason string `json:"reason,omitempty"`
	// Status is the HTTP status the sender got.
	Status int `json:"status"`
	// Message is what the sender was told.
	Message   string `json:"message,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// maxIntakeMessage bounds an entry's message.
const maxIntakeMessage = 300

// LogIntake appends an entry to the intake log, which keeps about the
// last IntakeLogSize; its Position is set by Redis.
func (s *Store) LogIntake(ctx context.Context, e IntakeEntry) error {
	if len(e.Message) > maxIntakeMessage {
		e.Message = e.Message[:maxIntakeMessage] + "…"
	}
	e.Position = ""
	doc, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode intake entry: %w", err)
	}
	err = s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: keyspace.IntakeLog(), MaxLen: IntakeLogSize, Approx: true, Values: []any{"doc", doc}}).Err()
	if err != nil {
		return fmt.Errorf("log intake: %w", err)
	}
	return nil
}

// RecentIntake returns the newest entries of the intake log, at most
// limit, newest first.
func (s *Store) RecentIntake(ctx context.Context, limit int) ([]IntakeEntry, error) {
	msgs, err := s.rdb.XRevRangeN(ctx, keyspace.IntakeLog(), "+", "-", int64(limit)).Result()
	if err != nil {
		return nil, fmt.Errorf("read the intake log: %w", err)
	}
	return intakeEntries(msgs), nil
}

// IntakeAfter returns the entries of the intake log after position (""
// for none: nothing before now is returned, and the answer's position
// marks now), oldest first, at most limit, and the position to read
// after next.
func (s *Store) IntakeAfter(ctx context.Context, position string, limit int) ([]IntakeEntry, string, error) {
	if position == "" {
		last, err := s.rdb.XRevRangeN(ctx, keyspace.IntakeLog(), "+", "-", 1).Result()
		if err != nil {
			return nil, "", fmt.Errorf("read the intake log: %w", err)
		}
		if len(last) == 0 {
			return nil, "0-0", nil
		}
		return nil, last[0].ID, nil
	}
	msgs, err := s.rdb.XRangeN(ctx, keyspace.IntakeLog(), "("+position, "+", int64(limit)).Result()
	if err != nil {
		return nil, position, fmt.Errorf("read the intake log: %w", err)
	}
	if len(msgs) > 0 {
		position = msgs[len(msgs)-1].ID
	}
	return intakeEntries(msgs), position, nil
}

// intakeEntries decodes intake log entries, skipping any that do not
// decode (written by a later release, say).
func intakeEntries(msgs []redis.XMessage) []IntakeEntry {
	out := make([]IntakeEntry, 0, len(msgs))
	for _, m := range msgs {
		doc, _ := m.Values["doc"].(string)
		var e IntakeEntry
		if json.Unmarshal([]byte(doc), &e) != nil {
			continue
		}
		e.Position = m.ID
		out = append(out, e)
	}
	return out
}

// EventsSince returns the stored events received at since or later,
// oldest first, at most limit: what a follower of the history reads each
// time it looks again. Events received at the same millisecond come in
// the order of their members, so a follower that remembers the members
// it saw at its last receive time skips exactly those.
func (s *Store) EventsSince(ctx context.Context, since time.Time, limit int) ([]*event.Event, error) {
	members, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: keyspace.Events(), Start: strconv.FormatInt(since.UnixMilli(), 10), Stop: "+inf", ByScore: true, Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("list new events: %w", err)
	}
	return s.EventsOf(ctx, members)
}

// EventsOf returns the stored events of the given members
// (keyspace.EventMember), in their order, leaving out those no longer
// stored.
func (s *Store) EventsOf(ctx context.Context, members []string) ([]*event.Event, error) {
	if len(members) == 0 {
		return nil, nil
	}
	keys := make([]string, len(members))
	for i, m := range members {
		keys[i] = keyspace.Event(m)
	}
	values, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	out := make([]*event.Event, 0, len(values))
	for i, v := range values {
		str, ok := v.(string)
		if !ok {
			continue // trimmed meanwhile
		}
		var ev event.Event
		if err := json.Unmarshal([]byte(str), &ev); err != nil {
			return nil, fmt.Errorf("decode event %s: %w", members[i], err)
		}
		out = append(out, &ev)
	}
	return out, nil
}

// ErrNoSession is returned for a web session that does not exist (any
// more): it expired, its operator signed out, or it never existed.
var ErrNoSession = errors.New("no such session")

// SaveSession stores a web session's document under the digest of its
// cookie for ttl.
func (s *Store) SaveSession(ctx context.Context, digest string, doc []byte, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, keyspace.Session(digest), doc, ttl).Err(); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// Session returns a web session's document by the digest of its cookie.
// Errors wrap ErrNoSession when there is none.
func (s *Store) Session(ctx context.Context, digest string) ([]byte, error) {
	doc, err := s.rdb.Get(ctx, keyspace.Session(digest)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	return doc, nil
}

// DeleteSession ends a web session.
func (s *Store) DeleteSession(ctx context.Context, digest string) error {
	if err := s.rdb.Del(ctx, keyspace.Session(digest)).Err(); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
