package connectors_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
)

func TestCheckTimestamp(t *testing.T) {
	now := time.Unix(1767323045, 0)
	tol := 5 * time.Minute
	tests := []struct {
		name string
		ts   int64
		says string
	}{
		{"now", 1767323045, ""},
		{"at the edge, old", 1767323045 - 300, ""},
		{"at the edge, future", 1767323045 + 300, ""},
		{"a second too old", 1767323045 - 301, "5m1s old"},
		{"a second too far ahead", 1767323045 + 301, "in the future"},
		{"milliseconds", 1767323045000, "in the future"},
		{"far future", 1 << 62, "in the future"},
		{"largest", math.MaxInt64, "in the future"},
		{"smallest", math.MinInt64, "old"},
		{"zero", 0, "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := connectors.CheckTimestamp("X-Ts", tt.ts, now, tol)
			if tt.says == "" {
				if err != nil {
					t.Fatalf("CheckTimestamp = %v", err)
				}
				return
			}
			if !errors.Is(err, connectors.ErrStale) || !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("CheckTimestamp = %v, want ErrStale saying %q", err, tt.says)
			}
		})
	}
}

func TestCheckTolerance(t *testing.T) {
	for d, ok := range map[time.Duration]bool{time.Second: true, 5 * time.Minute: true, time.Hour: true, time.Millisecond: false, 999 * time.Millisecond: false, time.Hour + time.Second: false, 87600 * time.Hour: false} {
		if err := connectors.CheckTolerance("tolerance", d); (err == nil) != ok || err != nil && !strings.HasPrefix(err.Error(), "settings.tolerance: ") {
			t.Errorf("CheckTolerance(%s) = %v, want ok %v", d, err, ok)
		}
	}
}
