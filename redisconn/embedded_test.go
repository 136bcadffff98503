package redisconn_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/redisconn"
)

func TestEmbeddedExpiresKeysInRealTime(t *testing.T) {
	e, err := redisconn.StartEmbedded("")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := redis.NewClient(&redis.Options{Addr: e.Addr()})
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "short", "v", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "long", "v", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "forever", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	set := time.Now()
	for {
		err := c.Get(ctx, "short").Err()
		if errors.Is(err, redis.Nil) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(set) > 5*time.Second {
			t.Fatal("a key with a 300ms TTL still exists after 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(set); took < 50*time.Millisecond { // 300ms, less one sweep (250ms)
		t.Fatalf("a key with a 300ms TTL expired after %s, more than one sweep early", took)
	}
	for _, k := range []string{"long", "forever"} {
		if err := c.Get(ctx, k).Err(); err != nil {
			t.Errorf("GET %s after the short key expired: %v", k, err)
		}
	}
	ttl, err := c.PTTL(ctx, "long").Result()
	if err != nil || ttl >= time.Hour || ttl < time.Hour-5*time.Second {
		t.Errorf("PTTL long = %v, %v; want a little under an hour", ttl, err)
	}
}

// expiryLoops counts the running expiry goroutines of every embedded Redis.
func expiryLoops() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "redisconn.(*expirer).start.func1(")
}

// waitExpiryLoops waits a little for n expiry loops to run, as a new
// goroutine may not have been scheduled yet, and returns how many run.
func waitExpiryLoops(n int) int {
	got := expiryLoops()
	for deadline := time.Now().Add(2 * time.Second); got != n && time.Now().Before(deadline); got = expiryLoops() {
		time.Sleep(5 * time.Millisecond)
	}
	return got
}

func TestCloseStopsTheExpiryLoop(t *testing.T) {
	tests := []struct {
		name  string
		open  func(t *testing.T) (closeIt func())
		twice bool
	}{
		{"StartEmbedded", func(t *testing.T) func() {
			e, err := redisconn.StartEmbedded("")
			if err != nil {
				t.Fatal(err)
			}
			return e.Close
		}, true},
		{"Open without a URL", func(t *testing.T) func() {
			c, err := redisconn.Open(context.Background(), "", "", slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			return func() { _ = c.Close() }
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := expiryLoops()
			closeIt := tt.open(t)
			if got := waitExpiryLoops(before + 1); got != before+1 {
				closeIt()
				t.Fatalf("%d expiry loops after the start, want %d", got, before+1)
			}
			closeIt()
			if tt.twice {
				closeIt()
			}
			if got := expiryLoops(); got != before {
				t.Fatalf("%d expiry loops after Close, want %d", got, before)
			}
		})
	}
}

func TestStartEmbeddedRefusesABusyAddress(t *testing.T) {
	e, err := redisconn.StartEmbedded("")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	before := waitExpiryLoops(1)
	if _, err := redisconn.StartEmbedded(e.Addr()); err == nil || !strings.Contains(err.Error(), e.Addr()) {
		t.Fatalf("StartEmbedded on a taken address: %v, want an error naming it", err)
	}
	if got := expiryLoops(); got != before {
		t.Fatalf("a failed start left %d expiry loops, want %d", got, before)
	}
}

// TestEmbeddedScriptStacks: the embedded server's small Lua stacks still
// hold what scripts there need, with room to spare: a command of 900
// unpacked arguments, and calls nested a few deep.
func TestEmbeddedScriptStacks(t *testing.T) {
	e, err := redisconn.StartEmbedded("")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := e.NewClient()
	defer c.Close()
	args := make([]any, 900)
	for i := range args {
		args[i] = i
	}
	script := redis.NewScript(`
local function depth(n) if n == 0 then return redis.call("RPUSH", KEYS[1], unpack(ARGV)) end local r = depth(n - 1) return r end
return depth(20)`)
	n, err := script.Run(context.Background(), c, []string{"l"}, args...).Int()
	if err != nil || n != len(args) {
		t.Fatalf("script = %d, %v; want %d", n, err, len(args))
	}
}
