package agent

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reflexops/reflex/wire"
)

// The outcomes of a job on the agent, as reflex_agent_jobs_total counts
// them.
const (
	jobSucceeded = "succeeded"
	jobFailed    = "failed"
	jobCancelled = "cancelled"
	// jobRefused: not run (signature, zone, expiry, action, parameters,
	// replay or rollback).
	jobRefused = "refused"
	// jobLost: its lease was lost while it ran; Reflex runs it again.
	jobLost = "lost"
	// jobGivenBack: stopped by the agent's shutdown and given back.
	jobGivenBack = "given_back"
)

// metrics are the agent's own metrics.
type metrics struct {
	jobs       *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	polls      prometheus.Counter
	pollErrors prometheus.Counter
	connected  prometheus.Gauge
}

// newMetrics returns the agent's metrics, registered with reg when not
// nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reflex_agent_jobs_total",
			Help: "Jobs this agent was offered, by action and outcome (succeeded, failed, cancelled, refused, lost, given_back); the action is empty when the agent's actions file does not define it.",
		}, []string{"action", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "reflex_agent_job_duration_seconds",
			Help:    "How long this agent's actions ran, by action.",
			Buckets: []float64{.1, .5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}, []string{"action"}),
		polls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reflex_agent_polls_total",
			Help: "Polls this agent made for its next job, answered or not.",
		}),
		pollErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reflex_agent_poll_errors_total",
			Help: "Polls for a job that failed (Reflex unreachable, or refusing the agent).",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "reflex_agent_connected",
			Help: "1 while Reflex answers this agent's heartbeats, else 0.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.jobs, m.duration, m.polls, m.pollErrors, m.connected)
	}
	return m
}

// job counts a job's outcome.
func (m *metrics) job(action, outcome string) {
	m.jobs.WithLabelValues(action, outcome).Inc()
}

// ran observes how long an action ran.
func (m *metrics) ran(action string, d time.Duration) {
	m.duration.WithLabelValues(action).Observe(d.Seconds())
}

// poll counts a poll, and whether it failed.
func (m *metrics) poll(err error) {
	m.polls.Inc()
	if err != nil {
		m.pollErrors.Inc()
	}
}

// setConnected records whether Reflex answers.
func (m *metrics) setConnected(up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.connected.Set(v)
}

// actionOf is the action label of a job: its action when the agent's
// actions file defines it, else empty, so a job signed for an action the
// agent never heard of adds no series.
func (a *agent) actionOf(job *wire.Job) string {
	if job == nil || !a.o.Actions.Has(job.Action) {
		return ""
	}
	return job.Action
}
