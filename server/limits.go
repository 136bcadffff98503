package server

import (
	"time"

	"github.com/reflexops/reflex/internal/ratelimit"
)

// HTTP server limits. Providers expect an answer within 10 s (GitHub) and
// the intake answers as soon as the job is queued, so these are generous
// for uploads on slow links yet bound what a slow or idle client can hold.
// docs/operations.md ("Limits and timeouts") lists them with the limits
// set elsewhere (body sizes, the body budget, the agents' poll wait).
const (
	// readHeaderTimeout bounds the time to send the request headers.
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds the time to send the whole request, body
	// included (a 25 MiB body at 4 Mbit/s takes about 50 s).
	readTimeout = 60 * time.Second
	// writeTimeout bounds the time from the end of the headers to the end
	// of the response.
	writeTimeout = 90 * time.Second
	// idleTimeout closes idle keep-alive connections.
	idleTimeout = 120 * time.Second
	// maxHeaderBytes bounds the request headers.
	maxHeaderBytes = 64 << 10
)

// Limits on load, each per replica: behind a load balancer with N
// replicas, the whole installation takes N times as much.
const (
	// DefaultMaxConnections is the default bound on the connections the
	// HTTP server holds at once (--max-connections). Beyond it new
	// connections wait in the kernel's accept queue until one closes.
	// Each agent holds one (its poll), each watch stream one; an
	// ordinary webhook holds one for a few milliseconds, or until the
	// idle timeout when its sender keeps it alive.
	DefaultMaxConnections = 1024
)

// DefaultAPIRate is the default rate limit of each API key on /api/v1
// (--api-rate, --api-burst): far above what people and scripts do, it
// stops a runaway loop from taking the server from everyone else. The
// master key and agents' keys are not limited (handlers.APILimits).
var DefaultAPIRate = ratelimit.Rate{PerSecond: 50, Burst: 100}

// DefaultWebhookRate is the default rate limit of webhook sources
// (--webhook-rate, --webhook-burst): none. The limit is checked before a
// delivery is verified, so anyone who knows a source's URL could spend
// its bucket and have the provider's real deliveries refused, and some
// providers (GitHub among them) do not send a refused delivery again by
// themselves. A source's rate_limit, or --webhook-rate for all, turns it
// on where shedding a flood is worth that; the connection cap and the
// body budget bound a flood's cost whatever the setting.
var DefaultWebhookRate = ratelimit.Rate{}

// apiRate is the API keys' rate limit an option asks for: the default for
// none, nothing for a negative rate.
func apiRate(r ratelimit.Rate) ratelimit.Rate {
	switch {
	case r == ratelimit.Rate{}:
		return DefaultAPIRate
	case !r.Limited():
		return ratelimit.Rate{}
	}
	return r
}
