package ratelimit

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/internal/testclock"
)

// take is one Take at an offset from the start, and what it should say.
type take struct {
	at       time.Duration
	name     string
	rate     Rate
	wantOK   bool
	wantWait time.Duration
}

func TestTake(t *testing.T) {
	two := Rate{PerSecond: 0.5, Burst: 2}
	tests := []struct {
		name  string
		takes []take
	}{
		{"the burst, then a wait to the next token", []take{
			{0, "a", two, true, 0},
			{0, "a", two, true, 0},
			{0, "a", two, false, 2 * time.Second},
			{500 * time.Millisecond, "a", two, false, 1500 * time.Millisecond},
			{2 * time.Second, "a", two, true, 0},
			{2 * time.Second, "a", two, false, 2 * time.Second},
		}},
		{"names have buckets of their own", []take{
			{0, "a", two, true, 0},
			{0, "a", two, true, 0},
			{0, "a", two, false, 2 * time.Second},
			{0, "b", two, true, 0},
			{0, "b", two, true, 0},
			{0, "b", two, false, 2 * time.Second},
		}},
		{"no rate limits nothing", []take{
			{0, "a", Rate{}, true, 0},
			{0, "a", Rate{Burst: 1}, true, 0},
			{0, "a", Rate{PerSecond: -1}, true, 0},
		}},
		{"the default burst is a second's worth", []take{
			{0, "a", Rate{PerSecond: 2}, true, 0},
			{0, "a", Rate{PerSecond: 2}, true, 0},
			{0, "a", Rate{PerSecond: 2}, false, 500 * time.Millisecond},
		}},
		{"a new rate applies from now on", []take{
			{0, "a", Rate{PerSecond: 1, Burst: 1}, true, 0},
			{0, "a", Rate{PerSecond: 1, Burst: 1}, false, time.Second},
			{0, "a", Rate{PerSecond: 10, Burst: 1}, false, 100 * time.Millisecond},
			{100 * time.Millisecond, "a", Rate{PerSecond: 10, Burst: 1}, true, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			b := NewBuckets(c.Now)
			var at time.Duration
			for i, tk := range tt.takes {
				c.Advance(tk.at - at)
				at = tk.at
				wait, ok := b.Take(tk.name, tk.rate)
				if ok != tk.wantOK || wait != tk.wantWait {
					t.Errorf("take %d (%s at %s): got ok=%v wait=%s, want ok=%v wait=%s", i, tk.name, tk.at, ok, wait, tk.wantOK, tk.wantWait)
				}
			}
		})
	}
}

// TestSweep: once there are many buckets, the full ones are forgotten and
// those still refilling are kept, so unused names cost nothing for long.
func TestSweep(t *testing.T) {
	c := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	b := NewBuckets(c.Now)
	r := Rate{PerSecond: 1, Burst: 1}
	b.Take("busy", r)
	for i := range minSweep - 1 {
		b.Take(fmt.Sprintf("idle-%d", i), Rate{PerSecond: 1000, Burst: 1})
	}
	if got := b.Len(); got != minSweep {
		t.Fatalf("got %d buckets, want %d", got, minSweep)
	}
	c.Advance(10 * time.Millisecond) // the idle ones are full again, busy is not
	b.Take("new", r)
	if got := b.Len(); got != 2 {
		t.Fatalf("after the sweep: got %d buckets, want 2 (busy and new)", got)
	}
	if _, ok := b.Take("busy", r); ok {
		t.Error("the busy bucket was forgotten: it had a token again")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		rate Rate
		want string
	}{
		{Rate{PerSecond: 50, Burst: 200}, ""},
		{Rate{PerSecond: 0.1}, ""},
		{Rate{}, "per_second must be a positive number of requests a second, not 0"},
		{Rate{PerSecond: -2}, "per_second must be a positive number of requests a second, not -2"},
		{Rate{PerSecond: 1, Burst: -1}, "burst must not be negative (0: one second's worth), not -1"},
	}
	for _, tt := range tests {
		var got string
		if err := tt.rate.Validate(); err != nil {
			got = err.Error()
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Validate(%+v) (-want +got):\n%s", tt.rate, diff)
		}
	}
}

func TestStringAndRetryAfter(t *testing.T) {
	strs := map[Rate]string{
		{}:                          "off",
		{PerSecond: 50, Burst: 100}: "50/s, burst 100",
		{PerSecond: 0.5}:            "0.5/s, burst 1",
		{PerSecond: 2.5, Burst: 0}:  "2.5/s, burst 3",
	}
	for r, want := range strs {
		if got := r.String(); got != want {
			t.Errorf("%+v: got %q, want %q", r, got, want)
		}
	}
	waits := map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 100 * time.Second: 100}
	for w, want := range waits {
		if got := RetryAfter(w); got != want {
			t.Errorf("RetryAfter(%s): got %d, want %d", w, got, want)
		}
	}
}
