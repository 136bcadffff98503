// Package periodic runs background chores on a fixed interval.
package periodic

import (
	"context"
	"time"
)

// Run calls f every interval, the first time one interval from now, until
// ctx ends. A call in progress when ctx ends is left to finish with the
// ctx it was given.
func Run(ctx context.Context, interval time.Duration, f func(context.Context)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			f(ctx)
		}
	}
}

// Start runs Run in the background and returns its stop, which ends it
// and waits until a call in progress has returned.
func Start(ctx context.Context, interval time.Duration, f func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, interval, f)
	}()
	return func() { cancel(); <-done }
}
