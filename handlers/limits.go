package handlers

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/internal/ratelimit"
)

// unknownBucket is the bucket every name no source has shares: anyone
// can post to any name, and no source name holds a '/'.
const unknownBucket = "/unknown"

// rateLimited takes a delivery's token from its source's bucket (the
// source's own rate, else the intake's default; the shared bucket for a
// name no source has) and, when the bucket is empty, answers 429 with
// Retry-After, and records and counts the refusal. It reads nothing of
// the body, and reports whether it answered.
func (h *Hooks) rateLimited(c *gin.Context, src config.Source, known bool) bool {
	bucket, r, connector := unknownBucket, h.rate, ""
	if known {
		bucket = src.Name
		if src.RateLimit.Limited() {
			r = src.RateLimit
		}
		if src.Connector != nil {
			connector = src.Connector.Name()
		}
	}
	wait, ok := h.limits.Take(bucket, r)
	if ok {
		return false
	}
	secs := ratelimit.RetryAfter(wait)
	what := "sources not configured here"
	if known {
		what = fmt.Sprintf("source %q", src.Name)
	}
	h.refuse(c, src.Name, connector, reasonRateLimited, &Error{Status: http.StatusTooManyRequests, RetryAfter: secs,
		Message: fmt.Sprintf("too many deliveries to %s: this server takes %s; retry after %d s", what, r, secs)})
	return true
}

// APILimits bounds the rate of each API key's requests to /api/v1: a
// token bucket per key name. The master key and agents' keys are not
// limited: the master key may do everything anyway, and is what an
// operator repairs with; an agent's calls are few and paced by the
// server (held polls, heartbeats, renewals), and throttling them would
// delay deliveries. A nil *APILimits limits nothing.
type APILimits struct {
	rate    ratelimit.Rate
	buckets *ratelimit.Buckets
}

// NewAPILimits returns the limits of rate r per API key, on the clock now
// (default time.Now); nil when r limits nothing.
func NewAPILimits(r ratelimit.Rate, now func() time.Time) *APILimits {
	if !r.Limited() {
		return nil
	}
	return &APILimits{rate: r, buckets: ratelimit.NewBuckets(now)}
}

// limitKeys answers 429 with Retry-After to a caller whose key's bucket
// is empty. It runs after authenticate, so only a valid key has a
// bucket.
func limitKeys(l *APILimits) gin.HandlerFunc {
	return func(c *gin.Context) {
		caller := callerOf(c)
		if l == nil || caller.Master || caller.Kind == auth.KindAgent {
			c.Next()
			return
		}
		wait, ok := l.buckets.Take(caller.Name, l.rate)
		if !ok {
			secs := ratelimit.RetryAfter(wait)
			addLogAttrs(c, slog.String("refused", reasonRateLimited))
			fail(c, &Error{Status: http.StatusTooManyRequests, RetryAfter: secs,
				Message: fmt.Sprintf("too many requests with API key %q: this server takes %s per key; retry after %d s", caller.Name, l.rate, secs)})
			return
		}
		c.Next()
	}
}
