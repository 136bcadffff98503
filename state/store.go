package state

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
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
}

// Store reads and writes Reflex's state in Redis. It is safe for
// concurrent use.
type Store struct {
	rdb          redis.UniversalClient
	history      int
	dedupeWindow time.Duration
}

// New returns a Store on rdb.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.History <= 0 {
		opts.History = DefaultHistory
	}
	if opts.DedupeWindow <= 0 {
		opts.DedupeWindow = DefaultDedupeWindow
	}
	return &Store{rdb: rdb, history: opts.History, dedupeWindow: opts.DedupeWindow}
}

// Accepted reports whether a delivery id of a source was accepted within
// the de-duplication window.
func (s *Store) Accepted(ctx context.Context, source, id string) (bool, error) {
	n, err := s.rdb.Exists(ctx, dedupeKey(source, id)).Result()
	if err != nil {
		return false, fmt.Errorf("check delivery %s: %w", id, err)
	}
	return n == 1, nil
}
