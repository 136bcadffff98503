package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/internal/asynqlog"
	"github.com/reflexops/reflex/state"
)

// WorkerOptions configures the worker. Zero values take the documented
// defaults.
type WorkerOptions struct {
	// Concurrency is how many events are processed at once. Default
	// DefaultConcurrency().
	Concurrency int
	// DeliveryConcurrency is how many delivery tasks (agents' reports,
	// retries) run at once, beside the events. Default a quarter of
	// Concurrency, at least 2.
	DeliveryConcurrency int
	// ShutdownTimeout bounds how long a shutdown waits for running tasks
	// before they are returned to the queue. Default 10s.
	ShutdownTimeout time.Duration
	// PollInterval is how long the worker waits before looking again when
	// the events queue is empty: the worst-case pickup delay of a new
	// event; the deliveries queue waits four times as long. Default
	// DefaultPollInterval.
	PollInterval time.Duration
	// Log receives the worker's logs. Required.
	Log *slog.Logger
	// Metrics registers the worker's job counters; nil registers them
	// nowhere.
	Metrics prometheus.Registerer
}

// DefaultPollInterval is the worker's default wait between looks at
// empty queues: short enough that a webhook reaches a waiting agent within
// a tenth of a second, at one cheap script per queue and look when idle.
const DefaultPollInterval = 25 * time.Millisecond

// deliveriesPoll is how many times longer the worker waits between looks
// at an empty deliveries queue than at the events queue: an agent's report
// can wait a tenth of a second, and an idle worker then looks at its
// queues 50 times a second, not 80.
const deliveriesPoll = 4

// DefaultConcurrency is how many events a worker processes at once by
// default: sixteen per CPU, and at least 32. A task spends most of its
// time waiting for its few Redis round trips, which take longer while the
// intake keeps Redis busy, so a handful per CPU leaves the worker waiting
// while the intake fills its queue.
func DefaultConcurrency() int { return max(32, 16*runtime.NumCPU()) }

// Deliveries runs the delivery tasks: agents' reports, and the next
// attempt after a failed one (delivery.Dispatcher).
type Deliveries interface {
	HandleReport(ctx context.Context, t *asynq.Task) error
	HandleRetry(ctx context.Context, t *asynq.Task) error
}

// Worker runs Reflex's jobs: the events queue and the deliveries queue,
// each on an asynq server of its own. Apart, a look for the next event is
// one script, never first a look at an empty deliveries queue (which one
// server weighting both queues makes a third of the time), and a burst of
// events never holds up agents' reports.
type Worker struct {
	events, deliveries *asynq.Server
	processor          *EventProcessor
	log                *slog.Logger
	metrics            *jobMetrics
}

// NewWorker returns a worker on rdb processing events with events, whose
// RecordFailure records their failures. Start starts it.
func NewWorker(rdb redis.UniversalClient, events *EventProcessor, opts WorkerOptions) *Worker {
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency()
	}
	if opts.DeliveryConcurrency <= 0 {
		opts.DeliveryConcurrency = max(2, opts.Concurrency/4)
	}
	w := &Worker{processor: events, log: opts.Log, metrics: newJobMetrics(opts.Metrics)}
	server := func(queue string, concurrency int, poll time.Duration, failed asynq.ErrorHandlerFunc) *asynq.Server {
		return asynq.NewServerFromRedisClient(rdb, asynq.Config{
			Concurrency:       concurrency,
			TaskCheckInterval: poll,
			// Move due retries to their queue every second, not every five.
			DelayedTaskCheckInterval: time.Second,
			Queues:                   map[string]int{queue: 1},
			RetryDelayFunc:           retryDelay,
			ErrorHandler:             failed,
			ShutdownTimeout:          opts.ShutdownTimeout,
			Logger:                   asynqlog.New(opts.Log.With("component", "worker", "queue", queue)),
			LogLevel:                 asynq.WarnLevel,
		})
	}
	w.events = server(QueueEvents, opts.Concurrency, opts.PollInterval, events.RecordFailure)
	w.deliveries = server(delivery.QueueDeliveries, opts.DeliveryConcurrency, deliveriesPoll*opts.PollInterval, w.deliveryFailed)
	return w
}

// Start starts processing events and, when deliveries is not nil, the
// delivery tasks.
func (w *Worker) Start(deliveries Deliveries) error {
	events := asynq.NewServeMux()
	events.Handle(TypeProcessEvent, w.metrics.measure(TypeProcessEvent, w.processor.ProcessTask))
	if err := w.events.Start(events); err != nil {
		return fmt.Errorf("start the events worker: %w", err)
	}
	if deliveries == nil {
		w.deliveries = nil
		return nil
	}
	mux := asynq.NewServeMux()
	mux.Handle(delivery.TypeReport, w.metrics.measure(delivery.TypeReport, deliveries.HandleReport))
	mux.Handle(delivery.TypeRetry, w.metrics.measure(delivery.TypeRetry, deliveries.HandleRetry))
	if err := w.deliveries.Start(mux); err != nil {
		w.Stop()
		return fmt.Errorf("start the deliveries worker: %w", err)
	}
	return nil
}

// Stop stops fetching new jobs and waits for running ones (up to the
// shutdown timeout), then returns: both queues at once.
func (w *Worker) Stop() {
	var wg sync.WaitGroup
	for _, s := range []*asynq.Server{w.events, w.deliveries} {
		if s != nil {
			wg.Go(func() { s.Stop(); s.Shutdown() })
		}
	}
	wg.Wait()
}

// deliveryFailed logs a failed delivery task: the delivery records its
// own outcome, so the log is for the operator.
func (w *Worker) deliveryFailed(ctx context.Context, t *asynq.Task, err error) {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if retried >= maxRetry || errors.Is(err, asynq.SkipRetry) {
		w.log.Error("delivery task failed for good", "task_type", t.Type(), "attempt", retried+1, "error", err)
		return
	}
	w.log.Warn("delivery task failed; will retry", "task_type", t.Type(), "attempt", retried+1, "error", err)
}

// NewEventProcessor returns the processor of TypeProcessEvent tasks.
func NewEventProcessor(store *state.Store, log *slog.Logger) *EventProcessor {
	return &EventProcessor{Store: store, Log: log}
}

// retryDelay backs off exponentially from one second to five minutes, with
// ±20% jitter so retries after an outage do not arrive in lockstep.
func retryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := time.Second << min(n, 9)
	d = min(d, 5*time.Minute)
	jitter := time.Duration(rand.Int64N(int64(d) * 2 / 5))
	return d*4/5 + jitter
}
