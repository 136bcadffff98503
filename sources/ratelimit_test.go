package sources_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/internal/ratelimit"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/sources"
	"github.com/reflexops/reflex/state"
)

// TestRateLimit: a source object's rate_limit reaches the source the
// intake looks up; the schema refuses one that is not a positive rate
// with a burst that is not negative.
func TestRateLimit(t *testing.T) {
	ctx := context.Background()
	store := state.New(redistest.New(t).Client, state.Options{})
	t.Setenv("REFLEX_SECRET_RATE", "s3cret")
	tests := []struct {
		name    string
		limit   any // nil: none
		want    ratelimit.Rate
		invalid bool
	}{
		{name: "none"},
		{name: "rate and burst", limit: map[string]any{"per_second": 50, "burst": 200}, want: ratelimit.Rate{PerSecond: 50, Burst: 200}},
		{name: "a fraction", limit: map[string]any{"per_second": 0.5}, want: ratelimit.Rate{PerSecond: 0.5}},
		{name: "no rate", limit: map[string]any{"burst": 5}, invalid: true},
		{name: "a zero rate", limit: map[string]any{"per_second": 0}, invalid: true},
		{name: "a fractional burst", limit: map[string]any{"per_second": 1, "burst": 1.5}, invalid: true},
		{name: "an unknown field", limit: map[string]any{"per_second": 1, "per_minute": 60}, invalid: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "rate-" + string(rune('a'+i))
			content := map[string]any{"name": name, "connector": "github", "secrets": []any{"env:REFLEX_SECRET_RATE"}}
			if tt.limit != nil {
				content["rate_limit"] = tt.limit
			}
			_, err := store.Create(ctx, state.NewObject(state.TypeSource, content), "test")
			if tt.invalid {
				if !errors.Is(err, state.ErrInvalid) {
					t.Fatalf("got %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			set := sources.NewSet(store, slog.New(slog.DiscardHandler), nil, sources.SecretRefs{EnvPrefix: "REFLEX_SECRET_"})
			if err := set.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			src, err := set.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, src.RateLimit); diff != "" {
				t.Errorf("the source's rate limit (-want +got):\n%s", diff)
			}
		})
	}
}
