package metrics

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/leases"
)

// DefaultQueueTimeout bounds the reads of one scrape of the queues.
const DefaultQueueTimeout = 3 * time.Second

// AgentQueuePrefix starts the name of a zone's queue of agents' jobs, as
// its samples name it: "agents:production".
const AgentQueuePrefix = "agents:"

var (
	queueSizeDesc = prometheus.NewDesc("reflex_queue_size",
		"Jobs a queue holds, by state (asynq's queues: pending, active, scheduled, retry, archived, completed; a zone's agents' queue: pending, active).",
		[]string{"queue", "state"}, nil)
	queueLatencyDesc = prometheus.NewDesc("reflex_queue_latency_seconds",
		"How long the oldest pending job of a queue has waited.",
		[]string{"queue"}, nil)
	queuePausedDesc = prometheus.NewDesc("reflex_queue_paused",
		"1 when a queue is paused, else 0.",
		[]string{"queue"}, nil)
	queueErrorsDesc = prometheus.NewDesc("reflex_queue_collect_errors_total",
		"Reads of a queue's figures that failed or timed out during a scrape; that queue had no samples in it.",
		nil, nil)
)

// Queues collects the job queues' figures when scraped: every asynq queue
// (the events queue counting its spilled jobs as pending, jobs.Spilled),
// and each zone's queue of agents' jobs (leases) as queue "agents:<zone>".
// Each queue is read on its own within Timeout; one whose read fails or
// takes longer has no samples in that scrape, and the scrape goes on.
// Its exported fields are set before it is registered.
type Queues struct {
	// Inspector reads asynq's queues. Required.
	Inspector *asynq.Inspector
	// Redis is where spilled jobs are counted. Required.
	Redis redis.UniversalClient
	// Leases reads the zones' queues; nil reads none.
	Leases *leases.Queue
	// Zones lists the zones whose queues are read.
	Zones func(ctx context.Context) ([]string, error)
	// Timeout bounds one scrape's reads. Default DefaultQueueTimeout.
	Timeout time.Duration
	// Log receives a failed read, at debug level: the error counter is
	// what to watch.
	Log *slog.Logger
	// Now is the clock of the agents' queues' latency. Default time.Now.
	Now func() time.Time

	errors atomic.Int64
}

// Describe implements prometheus.Collector.
func (q *Queues) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueSizeDesc, queueLatencyDesc, queuePausedDesc, queueErrorsDesc} {
		ch <- d
	}
}

// reading is the samples of one queue, or why there are none.
type reading struct {
	name    string
	samples []prometheus.Metric
	err     error
}

// Collect implements prometheus.Collector.
func (q *Queues) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), q.timeout())
	defer cancel()
	var reads []func(context.Context) reading
	names, err := within(ctx, q.Inspector.Queues)
	if err != nil {
		q.failed("", err)
	}
	slices.Sort(names)
	for _, name := range names {
		reads = append(reads, func(ctx context.Context) reading { return q.asynqQueue(ctx, name) })
	}
	if q.Leases != nil && q.Zones != nil {
		zones, err := q.Zones(ctx)
		if err != nil {
			q.failed(AgentQueuePrefix, err)
		}
		for _, zone := range zones {
			reads = append(reads, func(ctx context.Context) reading { return q.zoneQueue(ctx, zone) })
		}
	}
	out := make(chan reading, len(reads))
	for _, read := range reads {
		go func() { out <- read(ctx) }()
	}
	for range reads {
		select {
		case r := <-out:
			if r.err != nil {
				q.failed(r.name, r.err)
				continue
			}
			for _, m := range r.samples {
				ch <- m
			}
		case <-ctx.Done():
			q.failed("", ctx.Err())
		}
	}
	ch <- prometheus.MustNewConstMetric(queueErrorsDesc, prometheus.CounterValue, float64(q.errors.Load()))
}

// asynqQueue reads one asynq queue.
func (q *Queues) asynqQueue(ctx context.Context, name string) reading {
	info, err := within(ctx, func() (*asynq.QueueInfo, error) { return q.Inspector.GetQueueInfo(name) })
	if err != nil {
		return reading{name: name, err: err}
	}
	spilled, err := jobs.Spilled(ctx, q.Redis, name)
	if err != nil {
		return reading{name: name, err: err}
	}
	paused := 0.0
	if info.Paused {
		paused = 1
	}
	samples := sizes(name, map[string]int{
		"pending": info.Pending + spilled, "active": info.Active, "scheduled": info.Scheduled,
		"retry": info.Retry, "archived": info.Archived, "completed": info.Completed,
	})
	samples = append(samples,
		prometheus.MustNewConstMetric(queueLatencyDesc, prometheus.GaugeValue, info.Latency.Seconds(), name),
		prometheus.MustNewConstMetric(queuePausedDesc, prometheus.GaugeValue, paused, name))
	return reading{name: name, samples: samples}
}

// zoneQueue reads one zone's queue of agents' jobs.
func (q *Queues) zoneQueue(ctx context.Context, zone string) reading {
	name := AgentQueuePrefix + zone
	s, err := q.Leases.Stats(ctx, zone)
	if err != nil {
		return reading{name: name, err: err}
	}
	latency := 0.0
	if !s.OldestOffer.IsZero() {
		latency = max(q.now().Sub(s.OldestOffer).Seconds(), 0)
	}
	samples := sizes(name, map[string]int{"pending": s.Offered, "active": s.Leased})
	samples = append(samples, prometheus.MustNewConstMetric(queueLatencyDesc, prometheus.GaugeValue, latency, name))
	return reading{name: name, samples: samples}
}

// sizes returns a queue's size samples, one per state.
func sizes(queue string, byState map[string]int) []prometheus.Metric {
	out := make([]prometheus.Metric, 0, len(byState))
	for state, n := range byState {
		out = append(out, prometheus.MustNewConstMetric(queueSizeDesc, prometheus.GaugeValue, float64(n), queue, state))
	}
	return out
}

// failed counts a read that failed.
func (q *Queues) failed(queue string, err error) {
	q.errors.Add(1)
	if q.Log != nil {
		q.Log.Debug("cannot read a queue's figures for metrics", "queue", queue, "error", err)
	}
}

func (q *Queues) timeout() time.Duration {
	if q.Timeout > 0 {
		return q.Timeout
	}
	return DefaultQueueTimeout
}

func (q *Queues) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// within runs read, which cannot be cancelled (asynq's inspector takes no
// context), and returns its answer, or ctx's error when ctx ends first; a
// read given up on ends on its own.
func within[T any](ctx context.Context, read func() (T, error)) (T, error) {
	type answer struct {
		v   T
		err error
	}
	done := make(chan answer, 1)
	go func() {
		v, err := read()
		done <- answer{v, err}
	}()
	select {
	case a := <-done:
		return a.v, a.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
