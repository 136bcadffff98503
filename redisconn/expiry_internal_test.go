package redisconn

import (
	"testing"
	"time"
)

func TestExpirerBacksOffWhenSweepsAreSlow(t *testing.T) {
	e := newExpirer(expirerParams{interval: 250 * time.Millisecond, budget: 20})
	tests := []struct {
		took, want time.Duration
	}{
		{0, 250 * time.Millisecond},
		{time.Millisecond, 250 * time.Millisecond},
		{12500 * time.Microsecond, 250 * time.Millisecond},
		{50 * time.Millisecond, time.Second},
		{200 * time.Millisecond, 4 * time.Second},
	}
	for _, tt := range tests {
		if got := e.wait(tt.took); got != tt.want {
			t.Errorf("wait after a %s sweep = %s, want %s", tt.took, got, tt.want)
		}
	}
}
