package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/internal/ratelimit"
)

// TestSourceRateLimit: a source's rate_limit is read strictly, checked,
// and carried to the resolved source; none leaves the server's.
func TestSourceRateLimit(t *testing.T) {
	tests := []struct {
		name    string
		limit   string
		want    ratelimit.Rate
		wantErr string
	}{
		{name: "none", limit: ""},
		{name: "rate and burst", limit: "rate_limit: {per_second: 50, burst: 200}", want: ratelimit.Rate{PerSecond: 50, Burst: 200}},
		{name: "a fraction, burst left out", limit: "rate_limit: {per_second: 0.5}", want: ratelimit.Rate{PerSecond: 0.5}},
		{name: "no rate", limit: "rate_limit: {burst: 10}", wantErr: `source "a": rate_limit: per_second must be a positive number`},
		{name: "a negative rate", limit: "rate_limit: {per_second: -1}", wantErr: `source "a": rate_limit: per_second must be a positive number`},
		{name: "a negative burst", limit: "rate_limit: {per_second: 1, burst: -1}", wantErr: `source "a": rate_limit: burst must not be negative`},
		{name: "an unknown field", limit: "rate_limit: {per_second: 1, per_minute: 60}", wantErr: "field per_minute not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "sources:\n  - name: a\n    connector: github\n    secrets: [x]\n"
			if tt.limit != "" {
				doc += "    " + tt.limit + "\n"
			}
			cfg, err := config.Parse([]byte(doc))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got the error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			srcs, err := cfg.ResolveSources()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, srcs[0].RateLimit); diff != "" {
				t.Errorf("the source's rate limit (-want +got):\n%s", diff)
			}
		})
	}
}
