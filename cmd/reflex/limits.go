package main

import (
	"github.com/spf13/pflag"

	"github.com/reflexops/reflex/internal/ratelimit"
	"github.com/reflexops/reflex/server"
)

// limitFlags are serve's limits on load: connections, and the webhook and
// API rate limits, each per replica.
type limitFlags struct {
	maxConnections int
	webhook        ratelimit.Rate
	api            ratelimit.Rate
}

func (f *limitFlags) register(fl *pflag.FlagSet) {
	fl.IntVar(&f.maxConnections, "max-connections", server.DefaultMaxConnections, "HTTP connections held at once; beyond it new ones wait until one closes (0: no bound)")
	fl.Float64Var(&f.webhook.PerSecond, "webhook-rate", server.DefaultWebhookRate.PerSecond, "deliveries a second each webhook source without a rate_limit of its own takes, beyond which senders get 429 and Retry-After (0: no limit)")
	fl.IntVar(&f.webhook.Burst, "webhook-burst", server.DefaultWebhookRate.Burst, "deliveries a source takes at once under --webhook-rate (0: a second's worth)")
	fl.Float64Var(&f.api.PerSecond, "api-rate", server.DefaultAPIRate.PerSecond, "requests a second each API key makes to /api/v1, beyond which it gets 429 and Retry-After; the master key and agents' keys are not limited (0: no limit)")
	fl.IntVar(&f.api.Burst, "api-burst", server.DefaultAPIRate.Burst, "requests an API key makes at once under --api-rate (0: a second's worth)")
	for flag, env := range map[string]string{
		"max-connections": "REFLEX_MAX_CONNECTIONS", "webhook-rate": "REFLEX_WEBHOOK_RATE", "webhook-burst": "REFLEX_WEBHOOK_BURST",
		"api-rate": "REFLEX_API_RATE", "api-burst": "REFLEX_API_BURST",
	} {
		envFlag(fl, flag, env)
	}
}

// apply sets the limits in the server's options, where zero means the
// default and a negative value none.
func (f *limitFlags) apply(o *server.Options) {
	o.MaxConnections = f.maxConnections
	if f.maxConnections <= 0 {
		o.MaxConnections = -1
	}
	o.WebhookRate = f.webhook
	o.APIRate = f.api
	if !f.api.Limited() {
		o.APIRate = ratelimit.Rate{PerSecond: -1}
	}
}
