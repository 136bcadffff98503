package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reflexops/reflex/connectors"
)

// The reasons a delivery is refused, as logged ("refused") and counted.
// They are few and fixed, so the count's labels stay bounded whatever a
// sender posts.
const (
	reasonUnknownSource = "unknown_source"
	reasonUnavailable   = "source_unavailable"
	reasonTooLarge      = "too_large"
	reasonBusy          = "busy"
	reasonUnreadable    = "unreadable"
	reasonMethod        = "method"
	reasonUnauthorized  = "unauthorized"
	reasonStale         = "stale_timestamp"
	reasonMediaType     = "unsupported_media_type"
	reasonMalformed     = "malformed"
	reasonPolicy        = "policy"
	reasonKeys          = "keys_unavailable"
	reasonRateLimited   = "rate_limited"
)

// The outcomes of a delivery, as reflex_webhooks_received_total counts
// them, the intake duration is observed under, and the operators' page
// and the live feed name them.
const (
	outcomeAccepted  = "accepted"
	outcomeDuplicate = "duplicate"
	// outcomeRefused: refused before the intake decided anything (an
	// unknown source, verification, size, media type…).
	outcomeRefused = "refused"
	// outcomeDenied: refused by policy.
	outcomeDenied = "denied"
	// outcomeFailed: could not be queued (a 5xx); the sender retries.
	outcomeFailed = "failed"
	// outcomeOther: a ping or an endpoint confirmation, no event.
	outcomeOther = "other"
)

// outcomeKey holds the request's outcome in the gin context.
const outcomeKey = "reflex.outcome"

// intakeMetrics are the intake's counters. An unknown source is counted
// with empty source and connector labels, since anyone can post to any
// name; every other label value is a configured source, a connector or a
// fixed reason, so the series stay bounded whatever senders post.
type intakeMetrics struct {
	received        *prometheus.CounterVec
	refusals        *prometheus.CounterVec
	verification    *prometheus.CounterVec
	enqueueFailures *prometheus.CounterVec
	duration        *prometheus.HistogramVec
}

// newIntakeMetrics returns the intake's metrics, registered with reg when
// not nil.
func newIntakeMetrics(reg prometheus.Registerer) *intakeMetrics {
	m := &intakeMetrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reflex_webhooks_received_total",
			Help: "Webhook events received, by source, connector and outcome (accepted, duplicate, refused, denied, failed); a batch counts each event, a refused request counts once.",
		}, []string{"source", "connector", "outcome"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reflex_webhook_refusals_total",
			Help: "Webhook deliveries refused, by source, connector and reason (policy among them).",
		}, []string{"source", "connector", "reason"}),
		verification: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reflex_webhook_verification_failures_total",
			Help: "Webhook deliveries whose signature, token or timestamp did not verify, by source, connector and reason.",
		}, []string{"source", "connector", "reason"}),
		enqueueFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reflex_webhook_enqueue_failures_total",
			Help: "Verified webhook deliveries that could not be recorded and queued (answered 5xx), by source.",
		}, []string{"source"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "reflex_webhook_intake_duration_seconds",
			Help:    "Time from a webhook request's routing to its answer, by outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.received, m.refusals, m.verification, m.enqueueFailures, m.duration)
	}
	return m
}

// observe records a request's intake duration under its outcome.
func (m *intakeMetrics) observe(c *gin.Context, start time.Time) {
	outcome := c.GetString(outcomeKey)
	if outcome == "" {
		outcome = outcomeOther
	}
	m.duration.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
}

// tally counts n events of a request with an outcome, and makes it the
// request's outcome.
func (h *Hooks) tally(c *gin.Context, source, connector, outcome string, n int) {
	h.metrics.received.WithLabelValues(source, connector, outcome).Add(float64(n))
	c.Set(outcomeKey, outcome)
}

// unverified counts a delivery that did not verify.
func (h *Hooks) unverified(source, connector string, err error) {
	h.metrics.verification.WithLabelValues(source, connector, reasonOf(err)).Inc()
}

// enqueueFailed counts a failure to queue, and the n events it left
// unqueued.
func (h *Hooks) enqueueFailed(c *gin.Context, source, connector string, n int) {
	h.metrics.enqueueFailures.WithLabelValues(source).Inc()
	h.tally(c, source, connector, outcomeFailed, n)
}

// reasonOf names why err refused a delivery.
func reasonOf(err error) string {
	var he *Error
	switch {
	case errors.Is(err, connectors.ErrStale):
		return reasonStale
	case errors.Is(err, connectors.ErrUnauthorized):
		return reasonUnauthorized
	case errors.Is(err, connectors.ErrUnavailable):
		return reasonKeys
	case errors.Is(err, connectors.ErrUnsupportedMediaType):
		return reasonMediaType
	case errors.Is(err, connectors.ErrMalformed):
		return reasonMalformed
	case errors.As(err, &he) && he.Status == http.StatusRequestEntityTooLarge:
		return reasonTooLarge
	case errors.As(err, &he) && he.Status == http.StatusServiceUnavailable:
		return reasonBusy
	}
	return reasonUnreadable
}
