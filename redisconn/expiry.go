package redisconn

import (
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// The embedded server's TTLs move only when it is told that time has
// passed. Telling it on every command (miniredis's ClockTTL) walks and
// sorts every key per command, so the server slows down as it fills; the
// expirer tells it on a timer instead, and backs off when a sweep is slow.
const (
	// expiryInterval is the longest a key outlives its TTL while sweeps
	// are cheap.
	expiryInterval = 250 * time.Millisecond
	// expiryBudget bounds the share of time spent sweeping: the wait
	// after a sweep is at least this many times the sweep's duration.
	expiryBudget = 50
)

// expirer advances an embedded server's TTLs by the time that passed
// since the previous sweep, so keys expire in real time.
type expirer struct {
	mini     *miniredis.Miniredis
	interval time.Duration
	budget   int
	done     chan struct{}
	once     sync.Once
}

type expirerParams struct {
	mini     *miniredis.Miniredis
	interval time.Duration
	budget   int
}

func newExpirer(p expirerParams) *expirer {
	return &expirer{mini: p.mini, interval: p.interval, budget: p.budget, done: make(chan struct{})}
}

// start runs the sweeps until shutdown.
func (e *expirer) start(wg *sync.WaitGroup) {
	last := time.Now()
	wg.Go(func() {
		timer := time.NewTimer(e.interval)
		defer timer.Stop()
		for {
			select {
			case <-e.done:
				return
			case <-timer.C:
				now := time.Now()
				e.mini.FastForward(now.Sub(last))
				last = now
				timer.Reset(e.wait(time.Since(now)))
			}
		}
	})
}

// wait returns the pause after a sweep that took took.
func (e *expirer) wait(took time.Duration) time.Duration {
	return max(e.interval, time.Duration(e.budget)*took)
}

// shutdown stops the sweeps; start's goroutine ends soon after.
func (e *expirer) shutdown() {
	e.once.Do(func() { close(e.done) })
}
