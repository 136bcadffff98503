package periodic_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reflexops/reflex/internal/periodic"
)

// TestRun: the chore runs again and again, and never once Run returned.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		periodic.Run(ctx, time.Millisecond, func(context.Context) {
			if calls.Add(1) == 3 {
				cancel()
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("Run still runs after its context ended (%d calls)", calls.Load())
	}
	after := calls.Load()
	if after < 3 {
		t.Fatalf("%d calls before the end, want at least 3", after)
	}
	time.Sleep(20 * time.Millisecond)
	if n := calls.Load(); n != after {
		t.Fatalf("%d calls after Run returned", n-after)
	}
}

// TestStart: the chore runs in the background until stop, which returns
// only once no call is in progress.
func TestStart(t *testing.T) {
	var calls, running atomic.Int32
	stop := periodic.Start(context.Background(), time.Millisecond, func(context.Context) {
		running.Add(1)
		defer running.Add(-1)
		calls.Add(1)
		time.Sleep(5 * time.Millisecond)
	})
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls in 10s", calls.Load())
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	if n := running.Load(); n != 0 {
		t.Fatalf("stop returned with %d calls in progress", n)
	}
	after := calls.Load()
	time.Sleep(20 * time.Millisecond)
	if n := calls.Load(); n != after {
		t.Fatalf("%d calls after stop", n-after)
	}
}
