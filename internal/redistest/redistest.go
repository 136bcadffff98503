// Package redistest gives tests a Redis of their own: an embedded one, or,
// when REDIS_URL is set, a database of the real server that no other test
// (in this process or another) uses at the same time. On a real server the
// suite uses only databases 1 to 15 that are empty or that it marked as
// its own; it never writes to or flushes a database holding anything else.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/redisconn"
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
		e, err := redisconn.StartEmbedded("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		c := e.NewClient()
		c.AddHook(sameSlot{})
		t.Cleanup(func() { c.Close() })
		return &Redis{Client: c, URL: "redis://" + e.Addr() + "/0"}
	}
	return lease(t, base)
}

// lease takes a database of the real server at base for t, waiting up to
// five minutes while other tests hold every usable one.
func lease(t testing.TB, base string) *Redis {
	t.Helper()
	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	owner := fmt.Sprintf("%d-%s-%d", os.Getpid(), t.Name(), time.Now().UnixNano())
	deadline := time.Now().Add(5 * time.Minute)
	for {
		l, err := acquire(context.Background(), opts, owner, leaseTTL)
		if err == nil {
			t.Cleanup(func() {
				if err := l.release(context.Background()); err != nil {
					t.Errorf("REDIS_URL %s: %v", redisconn.Redact(base), err)
				}
			})
			l.client.AddHook(sameSlot{})
			return &Redis{Client: l.client, URL: withDB(base, l.db), Real: true}
		}
		if !errors.Is(err, errBusy) {
			t.Fatalf("REDIS_URL %s: %v", redisconn.Redact(base), err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("REDIS_URL %s: no free test database for 5 minutes: %v", redisconn.Redact(base), err)
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
