package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reflexops/reflex/wire"
)

// Options configures an agent. Zero values take the documented defaults.
type Options struct {
	// Broker is the base URL of Reflex's API, the one address the agent
	// connects to: https://…, or http:// to a loopback address for a trial
	// on one machine. Required.
	Broker string
	// APIKey is the agent's own API key (name.secret), of kind agent and
	// bound to Zone. It names the agent. Required.
	APIKey string
	// HTTP is the client the agent reaches Reflex with. Default: the one
	// Egress{} makes (the environment's proxy, the system's CAs).
	HTTP *http.Client
	// Zone is the zone whose deliveries the agent runs; its key must be
	// bound to the same. Required.
	Zone string
	// Actions is the agent's own actions file. Required.
	Actions *ActionsFile
	// Keys are the public keys jobs must be signed with. Required.
	Keys wire.Verifier
	// Ledger is the agent's record of the jobs it finished, which refuses
	// replays and rollbacks. Required.
	Ledger *Ledger
	// Concurrency is how many jobs run at once. Default 1.
	Concurrency int
	// ShutdownTimeout bounds how long a shutdown waits for running jobs;
	// those that do not finish are stopped and given back, for another
	// agent. Default 30s.
	ShutdownTimeout time.Duration
	// OutputLimit bounds the output a job's final report carries. Default
	// 64 KiB.
	OutputLimit int
	// HealthAddr, when set, serves /healthz on this local address.
	HealthAddr string
	// Version is the agent's build, told to Reflex.
	Version string
	// Log receives the agent's logs. Required.
	Log *slog.Logger
	// Now is the agent's clock, for job expiry and reports. Default
	// time.Now.
	Now func() time.Time
	// Metrics registers the agent's own metrics (jobs, polls, connected
	// state); nil registers them nowhere.
	Metrics prometheus.Registerer
}

// reportPatience is how long a final report is sent again while Reflex
// cannot be reached: the job ran, and Reflex must hear of it.
const reportPatience = 10 * time.Minute

// agent is a running agent.
type agent struct {
	o      Options
	broker *broker
	runner *Runner
	// session is what Reflex said when the agent last connected: its
	// name (its key's) and the cadence to keep.
	session atomic.Pointer[session]
	// jobs are the leased jobs running, for heartbeats.
	mu   sync.Mutex
	jobs map[string]bool
	// lastContact is when a call to Reflex last succeeded (Unix ns).
	lastContact atomic.Int64
	// talk carries the calls about jobs (renewals, output, reports):
	// it outlives the polls, and ends once the jobs ended or were given
	// back.
	talk context.Context
	// metrics counts what the agent does.
	metrics *metrics
}

// session is what Reflex says when an agent connects.
type session struct {
	name string
	cadence
}

// pace returns the cadence Reflex asked for.
func (a *agent) pace() cadence { return a.session.Load().cadence }

// cadence is the pace Reflex sets.
type cadence struct {
	pollWait, leaseTTL, renewEvery, heartbeat time.Duration
}

func cadenceOf(w wire.Welcome) cadence {
	ms := func(v int64, def time.Duration) time.Duration {
		if v <= 0 {
			return def
		}
		return time.Duration(v) * time.Millisecond
	}
	return cadence{
		pollWait: min(ms(w.PollWaitMS, 25*time.Second), wire.MaxPollWait), leaseTTL: ms(w.LeaseTTLMS, time.Minute),
		renewEvery: ms(w.RenewEveryMS, 20*time.Second), heartbeat: ms(w.HeartbeatEveryMS, 20*time.Second),
	}
}

// Run runs the agent until ctx ends: it connects out to Reflex, polls for
// its zone's jobs, runs them, and reports. Then it stops polling, lets
// running jobs finish within the shutdown timeout (those that do not are
// stopped and given back, for another agent), and says it stopped. It
// returns at once with an error when Reflex refuses it (a key that is not
// an agent's, or bound to another zone); a broker it cannot reach it tries
// again, and again, with backoff.
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
	case o.Log == nil:
		return errors.New("an agent needs a logger")
	}
	o.Concurrency = max(o.Concurrency, 1)
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTP == nil {
		c, err := Egress{}.Client()
		if err != nil {
			return err
		}
		o.HTTP = c
	}
	b, err := newBroker(o.Broker, o.APIKey, o.Version, o.HTTP)
	if err != nil {
		return err
	}
	a := &agent{o: o, broker: b, runner: &Runner{File: o.Actions, OutputLimit: o.OutputLimit, HTTP: &http.Client{}}, jobs: map[string]bool{}, metrics: newMetrics(o.Metrics)}
	if err := a.connect(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before Reflex could be reached
		}
		return err
	}
	o.Log.Info("agent connected", "agent", a.session.Load().name, "zone", o.Zone, "broker", b.base, "actions", len(o.Actions.Actions),
		"keys", len(o.Keys), "concurrency", o.Concurrency)
	var health *http.Server
	if o.HealthAddr != "" {
		if health, err = a.serveHealth(o.HealthAddr); err != nil {
			return err
		}
		defer shutdownHealth(health)
	}

	talk, endTalk := context.WithCancel(context.WithoutCancel(ctx))
	defer endTalk()
	a.talk = talk
	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	var pollers, beat sync.WaitGroup
	for range o.Concurrency {
		pollers.Go(func() { a.poll(ctx, jobs) })
	}
	beat.Go(func() { a.heartbeats(talk) })

	<-ctx.Done()
	o.Log.Info("agent stopping: no new jobs; running ones may finish", "timeout", o.ShutdownTimeout)
	done := make(chan struct{})
	go func() { pollers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(o.ShutdownTimeout):
		o.Log.Warn("running jobs did not finish in time: stopping them, and giving them back")
		stopJobs()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
	endTalk()
	beat.Wait()
	a.metrics.setConnected(false)
	dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.call(dctx, wire.PathDisconnect, nil, nil); err != nil {
		o.Log.Warn("cannot tell Reflex the agent stopped", "error", err)
	}
	o.Log.Info("agent stopped")
	return nil
}

// connect says hello until Reflex answers: it learns its name and the
// cadence. A refusal (bad key, wrong zone) is returned; a broker that
// cannot be reached is tried again with backoff until ctx ends.
func (a *agent) connect(ctx context.Context) error {
	host, _ := os.Hostname()
	hello := wire.Hello{Zone: a.o.Zone, Version: a.o.Version, Hostname: host,
		Actions: slices.Sorted(maps.Keys(a.o.Actions.Actions)), Concurrency: a.o.Concurrency}
	var wait backoff
	for {
		var w wire.Welcome
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err := a.broker.call(cctx, wire.PathConnect, hello, &w)
		cancel()
		switch {
		case err == nil:
			a.session.Store(&session{name: w.Agent, cadence: cadenceOf(w)})
			a.contact()
			a.metrics.setConnected(true)
			return nil
		case !transient(err):
			return fmt.Errorf("refused by Reflex: %w", err)
		case ctx.Err() != nil:
			return ctx.Err()
		}
		d := wait.next(err)
		a.o.Log.Warn("cannot reach Reflex; trying again", "broker", a.broker.base, "in", d.Round(time.Millisecond), "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

// contact notes a call to Reflex that succeeded.
func (a *agent) contact() { a.lastContact.Store(time.Now().UnixNano()) }

// poll takes the zone's jobs one at a time and runs them, until ctx ends.
// A failed poll is made again after a growing, jittered wait: after a
// broker restart, agents come back spread out.
func (a *agent) poll(ctx, jobs context.Context) {
	var wait backoff
	for ctx.Err() == nil {
		var offer wire.Offer
		hold := a.pace().pollWait
		pctx, cancel := context.WithTimeout(ctx, hold+callTimeout)
		status, err := a.broker.call(pctx, wire.PathNext+"?wait="+hold.String(), nil, &offer)
		cancel()
		if ctx.Err() == nil {
			a.metrics.poll(err)
		}
		if ctx.Err() != nil {
			if err == nil && status == http.StatusOK {
				// Leased as the agent stopped: give it back at once.
				a.release(offer, "")
			}
			return
		}
		if err != nil {
			d := wait.next(err)
			if !transient(err) {
				d = max(d, backoffMax) // refused: not a hiccup
			}
			a.o.Log.Warn("cannot poll for jobs; trying again", "in", d.Round(time.Millisecond), "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
			continue
		}
		wait.reset()
		a.contact()
		if status == http.StatusOK {
			a.handle(jobs, offer)
		}
	}
}

// release gives back a job the agent will not run; requestID is the
// job's, when it is known.
func (a *agent) release(offer wire.Offer, requestID string) {
	ctx, cancel := context.WithTimeout(withRequestID(context.Background(), requestID), 5*time.Second)
	defer cancel()
	if _, err := a.broker.call(ctx, wire.JobPath(offer.Job, wire.OpRelease), wire.LeaseRef{Lease: offer.Lease}, nil); err != nil {
		a.o.Log.Warn("cannot give a job back; its lease runs out instead", "job", offer.Job, "error", err)
	}
}

// heartbeats tells Reflex the agent is alive, and which jobs it runs,
// until ctx ends. After Reflex could not be reached, it says hello again:
// Reflex may have lost what it knew of the agent.
func (a *agent) heartbeats(ctx context.Context) {
	tick := time.NewTicker(a.pace().heartbeat)
	defer tick.Stop()
	lost := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if lost {
			if err := a.connect(ctx); err == nil {
				lost = false
			}
			continue
		}
		a.mu.Lock()
		hb := wire.Heartbeat{Jobs: slices.Sorted(maps.Keys(a.jobs))}
		a.mu.Unlock()
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err := a.broker.call(cctx, wire.PathHeartbeat, hb, nil)
		cancel()
		if err != nil {
			lost = ctx.Err() == nil
			a.metrics.setConnected(!lost)
			a.o.Log.Warn("heartbeat failed", "error", err)
			continue
		}
		a.contact()
	}
}

// serveHealth serves /healthz on a local address: 200 while Reflex has
// answered within the last two heartbeats (or a poll's wait), else 503.
func (a *agent) serveHealth(addr string) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("health address: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		since := time.Since(time.Unix(0, a.lastContact.Load()))
		c := a.pace()
		if since > max(2*c.heartbeat, c.pollWait+callTimeout) {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"status":"failed","message":"Reflex has not answered for %s"}`, since.Round(time.Second))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok", "agent": a.session.Load().name, "zone": a.o.Zone})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}

func shutdownHealth(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
