package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/asynqlog"
	"github.com/reflexops/reflex/wire"
)

// Options configures an agent. Zero values take the documented defaults.
type Options struct {
	// Redis is the connection to the Redis Reflex queues deliveries in;
	// the agent only ever connects out to it. Required.
	Redis redis.UniversalClient
	// Zone is the zone whose deliveries the agent runs. Required.
	Zone string
	// Name identifies the agent in reports. Default: the host name.
	Name string
	// Actions is the agent's own actions file. Required.
	Actions *ActionsFile
	// Keys are the public keys jobs must be signed with. Required.
	Keys wire.Verifier
	// Ledger is the agent's record of the jobs it finished, which refuses
	// replays and rollbacks. Required.
	Ledger *Ledger
	// Concurrency is how many jobs run at once. Default 1.
	Concurrency int
	// PollInterval is the wait between looks at an empty queue. Default
	// 100ms.
	PollInterval time.Duration
	// ShutdownTimeout bounds how long a shutdown waits for running jobs
	// before they are returned to the queue. Default 30s.
	ShutdownTimeout time.Duration
	// OutputLimit bounds the output kept of a job. Default 64 KiB.
	OutputLimit int
	// HealthAddr, when set, serves /healthz on this local address.
	HealthAddr string
	// Log receives the agent's logs. Required.
	Log *slog.Logger
	// Now is the agent's clock, for job expiry, attempts and reports.
	// Default time.Now.
	Now func() time.Time
}

// agent is a running agent.
type agent struct {
	o       Options
	reports *asynq.Client
	runner  *Runner
}

// Run runs the agent until ctx ends, then lets running jobs finish within
// the shutdown timeout (those that do not are returned to the queue, for
// this or another agent).
func Run(ctx context.Context, o Options) error {
	switch {
	case o.Zone == "":
		return errors.New("an agent needs a zone")
	case o.Actions == nil:
		return errors.New("an agent needs an actions file")
	case len(o.Keys) == 0:
		return errors.New("an agent needs at least one public key to verify jobs with")
	case o.Ledger == nil:
		return errors.New("an agent needs a ledger of the jobs it finished")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &agent{o: o, reports: asynq.NewClientFromRedisClient(o.Redis), runner: &Runner{File: o.Actions, OutputLimit: o.OutputLimit}}
	srv := asynq.NewServerFromRedisClient(o.Redis, asynq.Config{
		Concurrency: o.Concurrency, Queues: map[string]int{wire.Queue(o.Zone): 1},
		TaskCheckInterval: o.PollInterval, ShutdownTimeout: o.ShutdownTimeout, LogLevel: asynq.WarnLevel,
		Logger: asynqlog.New(o.Log.With("component", "agent")),
		// A failed attempt is retried after 5s, 10s, 20s … up to 5 minutes.
		RetryDelayFunc: func(n int, _ error, _ *asynq.Task) time.Duration {
			return min(5*time.Second<<min(n, 6), 5*time.Minute)
		},
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(wire.TypeRun, a.handle)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	o.Log.Info("agent started", "zone", o.Zone, "name", o.Name, "actions", len(o.Actions.Actions), "keys", len(o.Keys))
	var health *http.Server
	if o.HealthAddr != "" {
		var err error
		if health, err = a.serveHealth(o.HealthAddr); err != nil {
			srv.Shutdown()
			return err
		}
	}
	<-ctx.Done()
	o.Log.Info("agent stopping", "timeout", o.ShutdownTimeout)
	srv.Stop()
	srv.Shutdown()
	if health != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = health.Shutdown(sctx)
	}
	o.Log.Info("agent stopped")
	return nil
}

// handle runs one job, or refuses it: unsigned, altered, signed with an
// unknown key, for another zone, expired (on any attempt), naming an
// action this agent does not define or parameters it does not declare,
// already finished here (a replay), or older than one finished for its
// service (a rollback). A refusal is reported and never retried; nothing
// runs.
func (a *agent) handle(ctx context.Context, t *asynq.Task) error {
	taskID, _ := asynq.GetTaskID(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	now := a.o.Now()
	job, err := a.o.Keys.Verify(t.Payload())
	refuse := func(reason string, verified bool) error {
		r := wire.Report{Kind: wire.ReportRefused, TaskID: taskID, Error: reason, Verified: verified}
		if job != nil {
			r.ID = job.ID
		}
		a.report(ctx, r)
		a.o.Log.Warn("job refused", "task", taskID, "reason", reason)
		return fmt.Errorf("%w: refused: %s", asynq.SkipRetry, reason)
	}
	switch {
	case err != nil:
		return refuse(err.Error(), false)
	case job.Zone != a.o.Zone:
		return refuse(fmt.Sprintf("the job is for zone %q; this agent serves %q", job.Zone, a.o.Zone), true)
	case now.After(job.ExpiresAt):
		return refuse(fmt.Sprintf("the job expired at %s", job.ExpiresAt.Format(time.RFC3339)), true)
	case !a.o.Actions.Has(job.Action):
		return refuse(fmt.Sprintf("this agent's actions file defines no action %q", job.Action), true)
	}
	if err := a.o.Actions.CheckParams(job.Action, job.Params); err != nil {
		return refuse(err.Error(), true)
	}
	if err := a.o.Ledger.Check(job); err != nil {
		return refuse(err.Error(), true)
	}
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	log := a.o.Log.With("delivery", job.ID, "service", job.Service, "action", job.Action, "attempt", retried+1)
	run, startedAt := fmt.Sprintf("%s-%d-%d", a.o.Name, retried+1, now.UnixNano()), now.UTC()
	a.report(ctx, wire.Report{ID: job.ID, Kind: wire.ReportStarted, Run: run})
	log.Info("running")
	runner := *a.runner
	runner.Env = map[string]string{
		"REFLEX_DELIVERY": job.ID, "REFLEX_SERVICE": job.Service, "REFLEX_ZONE": job.Zone,
		"REFLEX_ACTION": job.Action, "REFLEX_RELEASE": job.Release,
	}
	runner.Delivery = job.Delivery
	res := runner.Run(ctx, job.Action, job.Params)
	if ctx.Err() != nil && !res.OK {
		// Stopped by the agent's shutdown: the job goes back to the queue
		// and runs again; its next start marks this attempt interrupted.
		log.Warn("interrupted by shutdown; the job returns to the queue")
		return ctx.Err()
	}
	final := res.OK || res.Permanent || retried >= maxRetry
	if final {
		// Recorded before it is reported: once Reflex hears the job is
		// over, the same job can never run here again.
		if err := a.o.Ledger.Finish(job); err != nil {
			log.Error("cannot record the finished job in the ledger", "error", err)
		}
	}
	r := wire.Report{ID: job.ID, Kind: wire.ReportFinished, Run: run, StartedAt: startedAt,
		Succeeded: res.OK, Final: final, ExitCode: res.ExitCode, Output: res.Output}
	if res.Err != nil {
		r.Error = res.Err.Error()
	}
	a.report(ctx, r)
	if res.OK {
		log.Info("succeeded")
		return nil
	}
	log.Warn("failed", "error", res.Err, "final", final)
	if res.Permanent {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, res.Err)
	}
	return res.Err
}

// report sends a report to Reflex, retrying while Redis cannot be reached
// (within the job's deadline).
func (a *agent) report(ctx context.Context, r wire.Report) {
	r.Agent, r.Zone, r.At = a.o.Name, a.o.Zone, a.o.Now().UTC()
	raw, err := json.Marshal(r)
	if err != nil {
		a.o.Log.Error("cannot encode a report", "delivery", r.ID, "kind", r.Kind, "error", err)
		return
	}
	task := asynq.NewTask(wire.TypeReport, raw, asynq.Queue(wire.QueueReports), asynq.MaxRetry(20))
	for wait := 100 * time.Millisecond; ; wait = min(wait*2, 5*time.Second) {
		_, err = a.reports.EnqueueContext(context.WithoutCancel(ctx), task)
		if err == nil || ctx.Err() != nil {
			break
		}
		a.o.Log.Warn("cannot send a report; retrying", "delivery", r.ID, "kind", r.Kind, "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	if err != nil {
		a.o.Log.Error("report lost", "delivery", r.ID, "kind", r.Kind, "error", err)
	}
}

// serveHealth serves /healthz (200 when Redis answers) on a local address.
func (a *agent) serveHealth(addr string) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("health address: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if err := a.o.Redis.Ping(ctx).Err(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"status":"failed","message":"Redis is unreachable"}`)
			return
		}
		fmt.Fprint(w, `{"status":"ok"}`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}
