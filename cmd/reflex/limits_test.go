package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/reflexops/reflex/internal/ratelimit"
	"github.com/reflexops/reflex/server"
)

// TestLimitFlags: serve's limit flags become the server's options, where
// a flag's 0 (no bound, no limit) is the options' negative value, since
// their zero is the default.
func TestLimitFlags(t *testing.T) {
	type limits struct {
		MaxConnections   int
		WebhookRate, API ratelimit.Rate
	}
	tests := []struct {
		args []string
		want limits
	}{
		{nil, limits{1024, ratelimit.Rate{}, ratelimit.Rate{PerSecond: 50, Burst: 100}}},
		{[]string{"--max-connections", "0", "--api-rate", "0"}, limits{-1, ratelimit.Rate{}, ratelimit.Rate{PerSecond: -1}}},
		{[]string{"--max-connections", "10", "--webhook-rate", "2.5", "--webhook-burst", "20", "--api-rate", "5", "--api-burst", "0"},
			limits{10, ratelimit.Rate{PerSecond: 2.5, Burst: 20}, ratelimit.Rate{PerSecond: 5}}},
	}
	for _, tt := range tests {
		var f limitFlags
		fl := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		f.register(fl)
		if err := fl.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		var o server.Options
		f.apply(&o)
		got := limits{o.MaxConnections, o.WebhookRate, o.APIRate}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, diff)
		}
	}
}
