package state

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
)

// DefaultDedupeWindow is how long an accepted delivery id is recognised.
const DefaultDedupeWindow = 24 * time.Hour

// Options tunes a Store. Zero values take the documented defaults.
type Options struct {
	// History is how many events are kept. Default DefaultHistory.
	History int
	// DedupeWindow is how long an accepted delivery id is recognised, so a
	// redelivery is answered as a duplicate. Default DefaultDedupeWindow.
	DedupeWindow time.Duration
	// ObjectHistory is how many versions of each object are kept, the
	// current one included. Default DefaultObjectHistory.
	ObjectHistory int
	// ChangeHistory is about how many object changes the change stream
	// keeps for watchers that reconnect. Default DefaultChangeHistory.
	ChangeHistory int
	// Keys seal sensitive parts. Without keys, objects with a sensitive
	// part cannot be written.
	Keys *KeyRing
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Check, when set, runs on every object before it is written, after
	// its schema: for rules a schema cannot state (a policy's expression
	// must compile, say). Its errors should wrap ErrInvalid.
	Check func(*Object) error
	// Log receives what the store does on its own behalf and cannot
	// return (a history trim that failed). Default slog.Default().
	Log *slog.Logger
	// ReplicaAcks, when positive, is how many Redis replicas must hold an
	// accepted event before AcceptEvent returns (Redis WAIT, for at most
	// ReplicaAckTimeout, default DefaultReplicaAckTimeout); otherwise it
	// fails wrapping ErrReplicas, and the delivery is not acknowledged.
	// An acknowledged event then survives a failover to one of them. It
	// needs one primary (a single server, or Sentinel), not a cluster.
	ReplicaAcks int
	// ReplicaAckTimeout bounds the wait for ReplicaAcks.
	ReplicaAckTimeout time.Duration
}

// Store reads and writes Reflex's state in Redis. It is safe for
// concurrent use.
type Store struct {
	rdb           redis.UniversalClient
	history       int
	dedupeWindow  time.Duration
	objectHistory int
	changeHistory int
	keys          *KeyRing
	clock         func() time.Time
	check         func(*Object) error
	log           *slog.Logger
	cursors       cursors
	recent        recentObjects

	replicaAcks       int
	replicaAckTimeout time.Duration
}

// New returns a Store on rdb.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.History <= 0 {
		opts.History = DefaultHistory
	}
	if opts.DedupeWindow <= 0 {
		opts.DedupeWindow = DefaultDedupeWindow
	}
	if opts.ObjectHistory <= 0 {
		opts.ObjectHistory = DefaultObjectHistory
	}
	if opts.ChangeHistory <= 0 {
		opts.ChangeHistory = DefaultChangeHistory
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.ReplicaAckTimeout <= 0 {
		opts.ReplicaAckTimeout = DefaultReplicaAckTimeout
	}
	return &Store{
		rdb: rdb, history: opts.History, dedupeWindow: opts.DedupeWindow,
		objectHistory: opts.ObjectHistory, changeHistory: opts.ChangeHistory, keys: opts.Keys, clock: opts.Now,
		check: opts.Check, log: opts.Log, replicaAcks: opts.ReplicaAcks, replicaAckTimeout: opts.ReplicaAckTimeout,
	}
}

// now returns the current time in UTC at millisecond precision, as stored.
func (s *Store) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }

// Now returns the store's clock's current time, as the store records
// times: what a caller records beside an object (a secret's creation, say)
// follows the same clock.
func (s *Store) Now() time.Time { return s.now() }

// Accepted reports whether a delivery id of a source was accepted within
// the de-duplication window.
func (s *Store) Accepted(ctx context.Context, source, id string) (bool, error) {
	n, err := s.rdb.Exists(ctx, keyspace.Dedupe(source, id)).Result()
	if err != nil {
		return false, fmt.Errorf("check delivery %s: %w", id, err)
	}
	return n == 1, nil
}

// Once reports whether this is the first call with name on this store,
// ever: for things done once per installation, such as creating defaults
// an operator may then remove.
func (s *Store) Once(ctx context.Context, name string) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, keyspace.Once(name), s.now().Format(time.RFC3339), 0).Result()
	if err != nil {
		return false, fmt.Errorf("record %s: %w", name, err)
	}
	return ok, nil
}

// Forget undoes Once, so the next call with name is the first again.
func (s *Store) Forget(ctx context.Context, name string) error {
	if err := s.rdb.Del(ctx, keyspace.Once(name)).Err(); err != nil {
		return fmt.Errorf("forget %s: %w", name, err)
	}
	return nil
}
