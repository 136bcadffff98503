package connectors

import (
	"fmt"
	"time"
)

// The bounds of a signed timestamp's tolerance. Timestamps are whole
// seconds, so less than a second refuses genuine deliveries; more than an
// hour is no protection against replays.
const (
	MinTolerance = time.Second
	MaxTolerance = time.Hour
)

// CheckTolerance checks a tolerance setting against MinTolerance and
// MaxTolerance; the error names the setting as "settings.<field>".
func CheckTolerance(field string, d time.Duration) error {
	if d < MinTolerance || d > MaxTolerance {
		return fmt.Errorf("settings.%s: %s is outside %s to %s: timestamps are whole seconds, and a longer tolerance would let a captured delivery be replayed", field, d, MinTolerance, MaxTolerance)
	}
	return nil
}

// CheckTimestamp checks a signed timestamp, in whole seconds since 1970,
// against the receive time now: it may lie at most tolerance away either
// way. It compares seconds, never durations, so no timestamp however far
// off (milliseconds sent for seconds, say) can overflow its way in.
// header names where the timestamp came from. Errors wrap ErrStale.
func CheckTimestamp(header string, ts int64, now time.Time, tolerance time.Duration) error {
	n, tol := now.Unix(), int64(tolerance/time.Second)
	switch {
	case ts < n-tol:
		return fmt.Errorf("%w: %s is %s old, more than the %s allowed; a replayed or long-delayed delivery is refused", ErrStale, header, age(n-ts), tolerance)
	case ts > n+tol:
		return fmt.Errorf("%w: %s is %s in the future, more than the %s allowed; check the sender's clock (and that it sends seconds, not milliseconds)", ErrStale, header, age(ts-n), tolerance)
	}
	return nil
}

// age writes a number of seconds as a duration, or in years when a
// duration cannot hold it.
func age(secs int64) string {
	const maxSecs = int64(1<<63-1) / int64(time.Second)
	if secs < 0 || secs > maxSecs {
		return "more than 290 years"
	}
	return (time.Duration(secs) * time.Second).String()
}
