package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// The outcomes of a job run, as reflex_jobs_total counts them.
const (
	jobSucceeded = "succeeded"
	// jobRetried: it failed and will be tried again.
	jobRetried = "retried"
	// jobFailed: it failed for good, and asynq archives it.
	jobFailed = "failed"
)

// jobMetrics counts the jobs a worker runs, by task type.
type jobMetrics struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newJobMetrics returns the worker's job metrics, registered with reg when
// not nil.
func newJobMetrics(reg prometheus.Registerer) *jobMetrics {
	m := &jobMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reflex_jobs_total",
			Help: "Jobs run by the worker, by task type and outcome (succeeded, retried, failed: failed for good and archived).",
		}, []string{"type", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "reflex_job_duration_seconds",
			Help:    "How long a job ran in the worker, by task type.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"type"}),
	}
	if reg != nil {
		reg.MustRegister(m.runs, m.duration)
	}
	return m
}

// measure wraps the handler of one task type, counting its runs under
// that type: the labels are the types the worker handles, never a name
// read from a task.
func (m *jobMetrics) measure(typ string, h asynq.HandlerFunc) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		err := h(ctx, t)
		m.duration.WithLabelValues(typ).Observe(time.Since(start).Seconds())
		m.runs.WithLabelValues(typ, jobOutcome(ctx, err)).Inc()
		return err
	})
}

// jobOutcome is how a run ended: a failure is retried unless it skips
// retries or was the last try asynq allows.
func jobOutcome(ctx context.Context, err error) string {
	if err == nil {
		return jobSucceeded
	}
	retried, ok := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if !ok || retried >= maxRetry || errors.Is(err, asynq.SkipRetry) || errors.Is(err, asynq.RevokeTask) {
		return jobFailed
	}
	return jobRetried
}
