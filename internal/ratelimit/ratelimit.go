// Package ratelimit keeps token buckets by name: one per webhook source,
// one per API key. A bucket holds up to Burst requests and refills at
// PerSecond; a request that finds it empty is told how long until the
// next token, for a Retry-After. Buckets live in the process: with N
// replicas behind a load balancer, a name may make N times its rate.
package ratelimit

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a token bucket's refill rate and size.
type Rate struct {
	// PerSecond is how many requests a second the bucket refills; 0 or
	// less limits nothing.
	PerSecond float64 `yaml:"per_second" json:"per_second"`
	// Burst is how many requests the bucket holds, taken at once after a
	// quiet spell. Default: one second's worth, at least 1.
	Burst int `yaml:"burst" json:"burst,omitempty"`
}

// Limited reports whether the rate limits anything.
func (r Rate) Limited() bool { return r.PerSecond > 0 }

// Size is the number of requests the bucket holds: Burst, or its default.
func (r Rate) Size() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return max(1, int(math.Ceil(r.PerSecond)))
}

// String shows the rate as its flags and logs do: "50/s, burst 100", or
// "off".
func (r Rate) String() string {
	if !r.Limited() {
		return "off"
	}
	return strconv.FormatFloat(r.PerSecond, 'g', -1, 64) + "/s, burst " + strconv.Itoa(r.Size())
}

// Validate checks a rate as a configuration declares it: a positive rate
// and a burst that is not negative.
func (r Rate) Validate() error {
	switch {
	case r.PerSecond <= 0 || math.IsInf(r.PerSecond, 0) || math.IsNaN(r.PerSecond):
		return fmt.Errorf("per_second must be a positive number of requests a second, not %v", r.PerSecond)
	case r.Burst < 0:
		return fmt.Errorf("burst must not be negative (0: one second's worth), not %d", r.Burst)
	}
	return nil
}

// minSweep is the number of buckets below which none is forgotten.
const minSweep = 1024

// Buckets are token buckets by name. The zero value is not usable: use
// NewBuckets. It is safe for concurrent use.
type Buckets struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]*rate.Limiter
	// sweepAt is the count of buckets at which full ones are forgotten.
	sweepAt int
}

// NewBuckets returns an empty set of buckets on the clock now (default
// time.Now).
func NewBuckets(now func() time.Time) *Buckets {
	if now == nil {
		now = time.Now
	}
	return &Buckets{now: now, m: map[string]*rate.Limiter{}, sweepAt: minSweep}
}

// Take takes a request's token from the bucket of name, which refills at
// r (a bucket whose rate changed takes the new one from now on). It
// reports whether there was one and, when there was not, how long until
// there is. A rate that limits nothing always has a token.
//
// Names that are no longer used cost nothing for long: once there are
// many buckets, those that are full (a new one would be the same) are
// forgotten.
func (b *Buckets) Take(name string, r Rate) (wait time.Duration, ok bool) {
	if !r.Limited() {
		return 0, true
	}
	now := b.now()
	lim := b.bucket(name, r, now)
	if lim.AllowN(now, 1) {
		return 0, true
	}
	missing := 1 - lim.TokensAt(now)
	return time.Duration(math.Ceil(missing / r.PerSecond * float64(time.Second))), false
}

// bucket returns the bucket of name, made or brought to rate r.
func (b *Buckets) bucket(name string, r Rate, now time.Time) *rate.Limiter {
	limit, size := rate.Limit(r.PerSecond), r.Size()
	b.mu.Lock()
	defer b.mu.Unlock()
	lim, ok := b.m[name]
	if !ok {
		if len(b.m) >= b.sweepAt {
			b.sweep(now)
		}
		lim = rate.NewLimiter(limit, size)
		b.m[name] = lim
		return lim
	}
	if lim.Limit() != limit {
		lim.SetLimitAt(now, limit)
	}
	if lim.Burst() != size {
		lim.SetBurstAt(now, size)
	}
	return lim
}

// sweep forgets the full buckets, and sets the count of the next sweep
// to twice what is left.
func (b *Buckets) sweep(now time.Time) {
	for name, lim := range b.m {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(b.m, name)
		}
	}
	b.sweepAt = max(minSweep, 2*len(b.m))
}

// Len returns the number of buckets kept.
func (b *Buckets) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

// RetryAfter is a wait in whole seconds, rounded up and at least 1, as
// Retry-After takes it.
func RetryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
