package jobs

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/internal/asynqlog"
	"github.com/reflexops/reflex/state"
)

// WorkerOptions configures the worker. Zero values take the documented
// defaults.
type WorkerOptions struct {
	// Concurrency is how many tasks run at once. Default
	// DefaultConcurrency().
	Concurrency int
	// ShutdownTimeout bounds how long a shutdown waits for running tasks
	// before they are returned to the queue. Default 10s.
	ShutdownTimeout time.Duration
	// PollInterval is how long the worker waits before looking again when
	// its queues are empty: the worst-case pickup delay of a new job.
	// Default DefaultPollInterval.
	PollInterval time.Duration
	// Log receives the worker's logs. Required.
	Log *slog.Logger
}

// DefaultPollInterval is the worker's default wait between looks at
// empty queues: short enough that a webhook reaches a waiting agent within
// a tenth of a second, at one cheap script per look when idle.
const DefaultPollInterval = 25 * time.Millisecond

// DefaultConcurrency is how many tasks a worker runs at once by default:
// four per CPU, and at least 8. A task spends most of its time waiting for
// Redis round trips, not computing, so one per CPU leaves the worker idle
// while the intake fills its queue.
func DefaultConcurrency() int { return max(8, 4*runtime.NumCPU()) }

// Deliveries runs the delivery tasks: agents' reports, and the next
// attempt after a failed one (delivery.Dispatcher).
type Deliveries interface {
	HandleReport(ctx context.Context, t *asynq.Task) error
	HandleRetry(ctx context.Context, t *asynq.Task) error
}

// NewMux returns the handler of every task type Reflex runs. deliveries,
// when set, runs the delivery tasks.
func NewMux(events *EventProcessor, deliveries Deliveries) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeProcessEvent, events.ProcessTask)
	if deliveries != nil {
		mux.HandleFunc(delivery.TypeReport, deliveries.HandleReport)
		mux.HandleFunc(delivery.TypeRetry, deliveries.HandleRetry)
	}
	return mux
}

// NewServer returns an asynq server on rdb consuming Reflex's queues, with
// failures recorded by events.RecordFailure.
func NewServer(rdb redis.UniversalClient, events *EventProcessor, opts WorkerOptions) *asynq.Server {
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency()
	}
	return asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:       opts.Concurrency,
		TaskCheckInterval: opts.PollInterval,
		// Move due retries to their queue every second, not every five.
		DelayedTaskCheckInterval: time.Second,
		Queues:                   map[string]int{QueueEvents: 2, delivery.QueueDeliveries: 1},
		RetryDelayFunc:           retryDelay,
		ErrorHandler:             asynq.ErrorHandlerFunc(events.RecordFailure),
		ShutdownTimeout:          opts.ShutdownTimeout,
		Logger:                   asynqlog.New(opts.Log.With("component", "worker")),
		LogLevel:                 asynq.WarnLevel,
	})
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
