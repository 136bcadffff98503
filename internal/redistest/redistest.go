// Package redistest gives tests a Redis of their own: an embedded one, or,
// when REDIS_URL is set, a database of the real server that no other test
// (in this process or another) uses at the same time.
package redistest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Redis is one test's Redis.
type Redis struct {
	// Client is connected to the test's database.
	Client *redis.Client
	// URL names the same database, for processes the test starts.
	URL string
	// Real is true when the test runs against a real server.
	Real bool
}

// New returns a Redis for t, flushed, and releases it when t ends.
func New(t testing.TB) *Redis {
	t.Helper()
	base := os.Getenv("REDIS_URL")
	if base == "" {
		m := miniredis.NewMiniRedis()
		m.ClockTTL(true)
		if err := m.Start(); err != nil {
			t.Fatalf("start embedded Redis: %v", err)
		}
		t.Cleanup(m.Close)
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { c.Close() })
		return &Redis{Client: c, URL: "redis://" + m.Addr() + "/0"}
	}
	return lease(t, base)
}

// lease takes one of databases 1-15 of the real server, using a lock key in
// database 0 so concurrent test processes never share a database.
func lease(t testing.TB, base string) *Redis {
	t.Helper()
	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	ctx := context.Background()
	opts.DB = 0
	locks := redis.NewClient(opts)
	t.Cleanup(func() { locks.Close() })
	owner := fmt.Sprintf("%d-%s-%d", os.Getpid(), t.Name(), time.Now().UnixNano())
	deadline := time.Now().Add(5 * time.Minute)
	for {
		for db := 1; db <= 15; db++ {
			lock := "reflex-test:db:" + strconv.Itoa(db)
			ok, err := locks.SetNX(ctx, lock, owner, 10*time.Minute).Result()
			if err != nil {
				t.Fatalf("lease a test database from %s: %v", base, err)
			}
			if !ok {
				continue
			}
			dbOpts := *opts
			dbOpts.DB = db
			c := redis.NewClient(&dbOpts)
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Fatalf("flush test database %d: %v", db, err)
			}
			t.Cleanup(func() {
				c.FlushDB(context.Background())
				c.Close()
				locks.Del(context.Background(), lock)
			})
			return &Redis{Client: c, URL: withDB(base, db), Real: true}
		}
		if time.Now().After(deadline) {
			t.Fatal("no free test database on the real Redis for 5 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// withDB returns a Redis URL pointing at another database.
func withDB(base string, db int) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(err) // already parsed by redis.ParseURL
	}
	u.Path = "/" + strconv.Itoa(db)
	q := u.Query()
	q.Del("db")
	u.RawQuery = q.Encode()
	return u.String()
}
