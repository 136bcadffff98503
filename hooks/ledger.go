package hooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis keys of the ledger. The fingerprints are one hash; each target's
// lock is a key of its own.
const (
	fingerprintsKey = "reflex:hooks:fingerprints"
	lockPrefix      = "reflex:hooks:lock:"
)

// LockTTL bounds how long a target's lock outlives an apply that died
// holding it; LockWait how long an apply waits for another's.
const (
	LockTTL  = 2 * time.Minute
	LockWait = 3 * time.Minute
)

// RedisLedger is the Ledger on Redis, shared by every replica.
type RedisLedger struct {
	rdb redis.UniversalClient
}

// NewRedisLedger returns the ledger on rdb.
func NewRedisLedger(rdb redis.UniversalClient) *RedisLedger { return &RedisLedger{rdb: rdb} }

func field(t Target, hookID string) string {
	return t.Provider + "|" + t.Kind + "|" + t.Name + "|" + hookID
}

// Fingerprint returns the fingerprint recorded for a hook, or "".
func (l *RedisLedger) Fingerprint(ctx context.Context, t Target, hookID string) (string, error) {
	fp, err := l.rdb.HGet(ctx, fingerprintsKey, field(t, hookID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return fp, err
}

// SetFingerprint records a hook's fingerprint.
func (l *RedisLedger) SetFingerprint(ctx context.Context, t Target, hookID, fp string) error {
	return l.rdb.HSet(ctx, fingerprintsKey, field(t, hookID), fp).Err()
}

// Forget drops a hook's fingerprint.
func (l *RedisLedger) Forget(ctx context.Context, t Target, hookID string) error {
	return l.rdb.HDel(ctx, fingerprintsKey, field(t, hookID)).Err()
}

// Targets returns the targets of the hooks recorded.
func (l *RedisLedger) Targets(ctx context.Context) ([]Target, error) {
	fields, err := l.rdb.HKeys(ctx, fingerprintsKey).Result()
	if err != nil {
		return nil, err
	}
	seen := map[Target]bool{}
	var out []Target
	for _, f := range fields {
		parts := strings.SplitN(f, "|", 4)
		if len(parts) != 4 {
			continue
		}
		t := Target{Provider: parts[0], Kind: parts[1], Name: parts[2]}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// release deletes a lock only while it is still the caller's.
var release = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// TryLock takes a target's lock if no one holds it.
func (l *RedisLedger) TryLock(ctx context.Context, t Target) (func(), bool, error) {
	key := lockPrefix + field(t, "")
	buf := make([]byte, 12)
	if _, err := rand.Read(buf); err != nil {
		return nil, false, err
	}
	token := hex.EncodeToString(buf)
	ok, err := l.rdb.SetNX(ctx, key, token, LockTTL).Result()
	if err != nil || !ok {
		return nil, false, err
	}
	return func() { _ = release.Run(context.WithoutCancel(ctx), l.rdb, []string{key}, token).Err() }, true, nil
}

// Lock takes a target's lock, polling while another holds it, for at
// most LockWait.
func (l *RedisLedger) Lock(ctx context.Context, t Target) (func(), error) {
	deadline := time.Now().Add(LockWait)
	waited := false
	for {
		rel, ok, err := l.TryLock(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("take the lock: %w", err)
		}
		if ok {
			return rel, nil
		}
		if !waited {
			Report(ctx, "%s: another apply holds it; waiting", t)
			waited = true
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("another apply has held the target for more than %s", LockWait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
