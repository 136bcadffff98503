// Package server runs Reflex's processes: the HTTP intake and API, the job
// worker, or both, until their context ends, then shuts them down
// gracefully.
package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors/github"
	"github.com/reflexops/reflex/connectors/github/deployments"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fleet"
	"github.com/reflexops/reflex/handlers"
	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/hookset"
	"github.com/reflexops/reflex/hooks/providers"
	"github.com/reflexops/reflex/intake"
	"github.com/reflexops/reflex/internal/periodic"
	"github.com/reflexops/reflex/internal/ratelimit"
	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/leases"
	"github.com/reflexops/reflex/metrics"
	"github.com/reflexops/reflex/plan"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/sources"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/triggers"
	"github.com/reflexops/reflex/wire"
)

// Options configures Run. Zero values take the documented defaults.
type Options struct {
	// Redis is the connection everything runs on. Required.
	Redis redis.UniversalClient
	// Log receives all logs. Required.
	Log *slog.Logger

	// HTTP serves the intake and API when true.
	HTTP bool
	// Addr is the HTTP listen address. Default ":8080".
	Addr string
	// Listener, when set, is used instead of listening on Addr.
	Listener net.Listener
	// Config, when set, is applied to the live state at the start: its
	// sources, policies, scopes, groups and API keys are created or
	// updated; nothing it does not declare is deleted.
	Config *config.Config
	// AdminKey, when set, is accepted as the master key (REFLEX_ADMIN_KEY).
	// Without it, the first start creates a master API key.
	AdminKey string
	// OnMasterKey receives a master key created at this start, to show it
	// once. Required when AdminKey is empty.
	OnMasterKey func(key string)
	// Authz decides what API callers may do. Default: only the master key
	// may do anything.
	Authz policies.Authorizer
	// KeyCacheTTL is how long a verified API key is trusted before it is
	// read again. Default auth.DefaultCacheTTL.
	KeyCacheTTL time.Duration
	// TrustedProxies lists reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []string
	// MaxBody is the request body limit. Default handlers.DefaultMaxBody.
	MaxBody int64
	// BodyBudget bounds the webhook body bytes held at once across
	// requests. Default handlers.DefaultBodyBudget; negative: no bound.
	BodyBudget int64
	// MaxConnections bounds the HTTP connections held at once; beyond it
	// new ones wait until one closes. Default DefaultMaxConnections;
	// negative: no bound.
	MaxConnections int
	// WebhookRate is the rate limit of every webhook source without a
	// rate_limit of its own, and of the one bucket all names no source
	// has share. Default DefaultWebhookRate (none).
	WebhookRate ratelimit.Rate
	// APIRate is the rate limit of each API key on /api/v1, the master
	// key's and agents' excepted. Default DefaultAPIRate; a negative
	// PerSecond: none.
	APIRate ratelimit.Rate
	// RetireInterval is how often secrets a rotation replaced are looked
	// at, to remove those whose grace period ended. Default 30s.
	RetireInterval time.Duration
	// KeyClient fetches the keys and certificates connectors verify with
	// (Google's OIDC keys, SNS signing certificates), confirms
	// subscriptions, and asks providers to confirm events (a registry's
	// API). Default keyfetch.DefaultClient.
	KeyClient *http.Client
	// SecretRefs limits the secret references of sources this server's
	// configuration does not declare itself.
	SecretRefs sources.SecretRefs

	// Worker runs the job worker when true.
	Worker bool
	// Concurrency is the number of jobs run at once. Default
	// jobs.DefaultConcurrency().
	Concurrency int
	// PollInterval is the worker's wait between looks at empty queues.
	// Default jobs.DefaultPollInterval.
	PollInterval time.Duration
	// SpillAt bounds the events queue's pending list; the worker moves the
	// jobs beyond it back in order (jobs.Refill). 0: no bound, as a real
	// Redis needs; the embedded one needs jobs.EmbeddedSpillAt.
	SpillAt int

	// TLSCertFile and TLSKeyFile, when set, serve HTTPS with this
	// certificate (PEM, with its chain) and key, on the same address.
	TLSCertFile, TLSKeyFile string

	// AgentLeaseTTL is how long an agent's lease on a job lasts without
	// renewal: a lost agent's job is offered again after at most this.
	// Default leases.DefaultLeaseTTL; every replica must use the same.
	AgentLeaseTTL time.Duration
	// AgentPollWait bounds how long an agent's poll for its next job is
	// held open. Default handlers.DefaultPollWait.
	AgentPollWait time.Duration
	// AgentHeartbeat is how often agents heartbeat. Default
	// fleet.DefaultHeartbeat.
	AgentHeartbeat time.Duration
	// AgentLostAfter is how long an agent goes unheard of before it is
	// marked lost. Default fleet.DefaultLostAfter.
	AgentLostAfter time.Duration

	// Store tunes event history and de-duplication.
	Store state.Options
	// Deliveries tunes how long delivery records are kept.
	Deliveries delivery.Retention
	// ReapInterval is how often the worker looks for stuck deliveries and
	// prunes old delivery records. Default 30s.
	ReapInterval time.Duration
	// Now is the clock of the intake, the store and the rate limits.
	// Default time.Now.
	Now func() time.Time
	// ShutdownTimeout bounds the graceful shutdown of each part. Default 10s.
	ShutdownTimeout time.Duration
	// OnListen, when set, is called with the bound address once the HTTP
	// server listens.
	OnListen func(addr net.Addr)

	// Metrics is the registry the server's metrics are registered with.
	// Default: a registry of its own (metrics.NewRegistry).
	Metrics *prometheus.Registry
	// MetricsElsewhere serves no /metrics on the HTTP listener: the caller
	// serves Metrics on an address of its own (--metrics-listen). Default:
	// the HTTP listener serves them to authenticated callers.
	MetricsElsewhere bool
}

// Validate checks the options that need no Redis, so a mistake in them
// stops a start before anything is changed.
func (o *Options) Validate() error {
	if !o.HTTP && !o.Worker {
		return errors.New("nothing to run: enable the HTTP server, the worker, or both")
	}
	if maxBody := cmp.Or(o.MaxBody, handlers.DefaultMaxBody); o.BodyBudget > 0 && o.BodyBudget < maxBody {
		return fmt.Errorf("the body budget (%d bytes, --max-body-in-flight) is smaller than the largest body (%d bytes, --max-body): such bodies could never be received", o.BodyBudget, maxBody)
	}
	if d := o.SecretRefs.Dir; d != "" && !filepath.IsAbs(d) {
		return fmt.Errorf("the secrets folder %q (--secret-dir) must be an absolute path", d)
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		return errors.New("HTTPS needs both a certificate (--tls-cert) and its key (--tls-key)")
	}
	if o.TLSCertFile != "" {
		if _, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSKeyFile); err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
	}
	for flag, r := range map[string]ratelimit.Rate{"--webhook-rate/--webhook-burst": o.WebhookRate, "--api-rate/--api-burst": o.APIRate} {
		if r.Limited() {
			if err := r.Validate(); err != nil {
				return fmt.Errorf("%s: %w", flag, err)
			}
		}
	}
	if o.AgentPollWait > wire.MaxPollWait {
		return fmt.Errorf("the agents' poll wait (%s, --agent-poll-wait) is over %s", o.AgentPollWait, wire.MaxPollWait)
	}
	if o.AgentLeaseTTL < 0 || (o.AgentLeaseTTL > 0 && o.AgentLeaseTTL < time.Second) {
		return fmt.Errorf("the agents' lease (%s, --agent-lease-ttl) must be at least 1s", o.AgentLeaseTTL)
	}
	for _, p := range o.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			return fmt.Errorf("trusted proxy %q is neither an address nor a CIDR", p)
		}
	}
	return nil
}

// Run serves until ctx is done, then stops accepting, lets in-flight
// requests and jobs finish within the shutdown timeout, and returns. It
// returns early with an error if a part cannot start. Everything that can
// be checked without Redis (options, the listen address) is checked
// before Redis is changed in any way.
func Run(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.ReapInterval <= 0 {
		o.ReapInterval = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Store.Now == nil {
		o.Store.Now = o.Now
	}
	if o.Deliveries.MinAge <= 0 {
		// A record outlives the window in which its event can come again.
		o.Deliveries.MinAge = max(cmp.Or(o.Store.DedupeWindow, state.DefaultDedupeWindow), 24*time.Hour) + time.Hour
	}
	if o.Store.Check == nil {
		o.Store.Check = func(obj *state.Object) error {
			return errors.Join(policies.Check(obj), triggers.Check(obj), sources.Check(obj))
		}
	}
	if o.Store.Log == nil {
		o.Store.Log = o.Log
	}
	store := state.New(o.Redis, o.Store)
	hub := state.NewHub(store, o.Log)
	var authz policies.Authorizer = o.Authz
	var engine *policies.Engine
	if authz == nil {
		engine = policies.NewEngine(store, o.Log)
		authz = engine
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewRegistry()
	}
	authz = metrics.CountDecisions(authz, o.Metrics)
	dispatcher, err := newDispatcher(store, authz, o)
	if err != nil {
		return err
	}
	defer dispatcher.Leases.Close()
	dispatcher.Metrics = delivery.NewMetrics(o.Metrics)
	agents := &fleet.Fleet{Store: store, Log: o.Log, Now: o.Now, HeartbeatInterval: o.AgentHeartbeat, LostAfter: o.AgentLostAfter}
	registerCollectors(o, store, dispatcher.Leases)
	var (
		srv     *http.Server
		ln      = o.Listener
		srcs    *sources.Set
		authn   *auth.Authenticator
		serving bool
	)
	// A start that fails lets go of its listener.
	defer func() {
		if ln != nil && !serving {
			ln.Close()
		}
	}()
	if o.HTTP || o.Worker {
		// The intake verifies with the sources; the worker confirms
		// events with their providers for those that ask.
		srcs = sources.NewSet(store, o.Log, o.Config, o.SecretRefs)
	}
	var hooksCode *handlers.HooksCode
	if o.HTTP {
		if hooksCode, err = newHooksCode(store, srcs, o); err != nil {
			return err
		}
		authn = auth.NewAuthenticator(store, o.AdminKey, o.KeyCacheTTL)
		if srv, err = newHTTPServer(store, hub, srcs, authn, authz, dispatcher, agents, hooksCode, o); err != nil {
			return err
		}
		if ln == nil {
			if ln, err = net.Listen("tcp", srv.Addr); err != nil {
				return fmt.Errorf("listen on %s: %w", srv.Addr, err)
			}
		}
		if n := cmp.Or(o.MaxConnections, DefaultMaxConnections); n > 0 {
			ln = limitListener(ln, n)
		}
	}

	// From here on, Redis is changed.
	if err := prepare(ctx, store, o); err != nil {
		return err
	}

	// Background views of live state, stopped last.
	bg, stopBackground := context.WithCancel(context.Background())
	var bgWG sync.WaitGroup
	defer func() { stopBackground(); bgWG.Wait() }()
	if err := hub.Start(ctx); err != nil {
		return err
	}
	bgWG.Go(func() { hub.Run(bg) })
	bgWG.Go(func() { store.RunTrimmer(bg) })
	if engine != nil {
		if err := engine.Reload(ctx); err != nil {
			return err
		}
		bgWG.Go(func() { engine.Run(bg, hub) })
	}
	if srcs != nil {
		if err := srcs.Reload(ctx); err != nil {
			return err
		}
		bgWG.Go(func() { srcs.Run(bg, hub) })
		if hooksCode != nil && o.Config.Hooks.Redeliver != nil {
			spec := o.Config.Hooks.Redeliver
			interval, _ := time.ParseDuration(spec.Interval)
			since, _ := time.ParseDuration(spec.Since)
			bgWG.Go(func() {
				periodic.Run(bg, cmp.Or(interval, 10*time.Minute), func(ctx context.Context) {
					hooksCode.Recover(ctx, cmp.Or(since, 6*time.Hour), spec.Events, o.Log)
				})
			})
		}
		// Secrets a rotation replaced are removed once their grace
		// period ends; every replica may do it, the store orders the
		// writes.
		retire := &hookset.Set{Store: store, Sources: srcs}
		bgWG.Go(func() {
			periodic.Run(bg, cmp.Or(o.RetireInterval, 30*time.Second), func(ctx context.Context) {
				if n, err := retire.RetireDue(ctx, time.Now()); err != nil {
					o.Log.Warn("retiring rotated secrets failed", "error", err)
				} else if n > 0 {
					o.Log.Info("rotated secrets retired", "count", n)
				}
			})
		})
	}

	var worker *jobs.Worker
	if o.Worker {
		processor := jobs.NewEventProcessor(store, o.Log)
		processor.Now = o.Now
		processor.Confirm = srcs.Confirm
		if o.KeyClient != nil {
			processor.Confirm = func(ctx context.Context, ev *event.Event) (*event.Confirmation, error) {
				return srcs.Confirm(keyfetch.WithClient(ctx, o.KeyClient), ev)
			}
		}
		set := triggers.NewSet(store, o.Log)
		if err := set.Reload(ctx); err != nil {
			return err
		}
		bgWG.Go(func() { set.Run(bg, hub) })
		processor.Deliveries = &delivery.Decider{Triggers: set, Authz: authz, Dispatcher: dispatcher, Store: store, Log: o.Log}
		bgWG.Go(func() { dispatcher.RunReaper(bg, o.ReapInterval) })
		bgWG.Go(func() { reapAgents(bg, agents, o.ReapInterval) })
		if o.SpillAt > 0 {
			bgWG.Go(func() { jobs.RunRefill(bg, o.Redis, o.SpillAt, o.Log) })
		}
		worker = jobs.NewWorker(o.Redis, processor, jobs.WorkerOptions{
			Concurrency: o.Concurrency, PollInterval: o.PollInterval, ShutdownTimeout: o.ShutdownTimeout, Log: o.Log,
			Metrics: o.Metrics,
		})
		if err := worker.Start(dispatcher); err != nil {
			return err
		}
		o.Log.Info("worker started", "concurrency", cmp.Or(o.Concurrency, jobs.DefaultConcurrency()))
	}

	errc := make(chan error, 1)
	if o.HTTP {
		bgWG.Go(func() { authn.Run(bg, hub) })
		// Ending the hub closes the watch streams, which would otherwise
		// keep a graceful shutdown waiting.
		srv.RegisterOnShutdown(stopBackground)
		o.Log.Info("listening", "addr", ln.Addr().String(), "sources", srcs.Len(), "max_connections", cmp.Or(o.MaxConnections, DefaultMaxConnections),
			"webhook_rate", cmp.Or(o.WebhookRate, DefaultWebhookRate).String(), "api_rate", apiRate(o.APIRate).String())
		if o.OnListen != nil {
			o.OnListen(ln.Addr())
		}
		serving = true
		go func() {
			if srv.TLSConfig != nil {
				errc <- srv.ServeTLS(ln, "", "")
				return
			}
			errc <- srv.Serve(ln)
		}()
	}

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		runErr = fmt.Errorf("http server: %w", err)
	}
	o.Log.Info("shutting down", "timeout", o.ShutdownTimeout)
	// Agents' polls end at once, and poll another replica meanwhile.
	_ = dispatcher.Leases.Close()
	var wg sync.WaitGroup
	if srv != nil {
		wg.Go(func() {
			sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				o.Log.Warn("HTTP shutdown did not finish cleanly", "error", err)
			}
		})
	}
	wg.Go(func() { stopWorker(worker) })
	wg.Wait()
	o.Log.Info("stopped")
	return runErr
}

// prepare brings the live state to what this start needs: the declared
// configuration applied, the built-in defaults and the master key created.
func prepare(ctx context.Context, store *state.Store, o Options) error {
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	if o.Config != nil {
		if err := applyConfig(ctx, store, o.Config, o.Log); err != nil {
			return err
		}
	}
	if err := policies.EnsureDefaults(ctx, store); err != nil {
		return fmt.Errorf("create the default policy: %w", err)
	}
	if !o.HTTP {
		return nil
	}
	key, err := auth.Bootstrap(ctx, store, o.AdminKey)
	if err != nil {
		return fmt.Errorf("create the master API key: %w", err)
	}
	if key != "" && o.OnMasterKey != nil {
		o.OnMasterKey(key)
	}
	return nil
}

// applyConfig makes the live state match the configuration file, without
// deleting anything it does not declare. Replicas starting together may
// race: the loser computes its plan again.
func applyConfig(ctx context.Context, store *state.Store, cfg *config.Config, log *slog.Logger) error {
	desired := plan.Desired(cfg, plan.Local)
	for attempt := 0; ; attempt++ {
		p, err := plan.Compute(ctx, store, desired, false)
		if err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
		res, err := plan.Apply(ctx, store, p, "reflex:config")
		if err != nil && attempt < 5 && (errors.Is(err, state.ErrStale) || errors.Is(err, state.ErrExists)) {
			continue
		}
		if err != nil {
			return fmt.Errorf("apply the configuration: %w", err)
		}
		log.Info("configuration applied", "changes", len(res.Applied), "unmanaged", len(p.Unmanaged))
		return nil
	}
}

func newHTTPServer(store *state.Store, hub *state.Hub, set *sources.Set, authn *auth.Authenticator, authz policies.Authorizer, dispatcher *delivery.Dispatcher, agents *fleet.Fleet, hooksCode *handlers.HooksCode, o Options) (*http.Server, error) {
	in := &intake.Intake{Redis: o.Redis, Store: store, Authz: authz, Log: o.Log, SpillAt: o.SpillAt}
	var served prometheus.Gatherer = o.Metrics
	if o.MetricsElsewhere {
		served = nil
	}
	router, err := handlers.NewRouter(handlers.Deps{
		Redis: o.Redis, Store: store, TrustedProxies: o.TrustedProxies, Log: o.Log,
		Auth: authn, Authz: authz, Hub: hub, Dispatcher: dispatcher, Fleet: agents, PollWait: o.AgentPollWait,
		Hooks: handlers.NewHooks(set, in, handlers.HooksOptions{
			MaxBody: o.MaxBody, Budget: o.BodyBudget, Now: o.Now, Metrics: o.Metrics, KeyClient: o.KeyClient, RateLimit: cmp.Or(o.WebhookRate, DefaultWebhookRate),
		}),
		APILimits: handlers.NewAPILimits(apiRate(o.APIRate), o.Now),
		Metrics:   served,
		HooksCode: hooksCode,
	})
	if err != nil {
		return nil, err
	}
	addr := o.Addr
	if addr == "" {
		addr = ":8080"
	}
	var tlsConfig *tls.Config
	if o.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	return &http.Server{
		Addr:              addr,
		TLSConfig:         tlsConfig,
		Handler:           router,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
	}, nil
}

// newDispatcher returns the delivery dispatcher, with the signing key and
// the GitHub reporter of the configuration when it has them.
func newDispatcher(store *state.Store, authz policies.Authorizer, o Options) (*delivery.Dispatcher, error) {
	d := &delivery.Dispatcher{
		Store: store, Redis: o.Redis, Log: o.Log, Retention: o.Deliveries, Now: o.Now, Authz: authz,
		Client: asynq.NewClientFromRedisClient(o.Redis),
		Leases: &leases.Queue{Redis: o.Redis, Now: o.Now, LeaseTTL: o.AgentLeaseTTL, Log: o.Log},
	}
	if o.Config == nil {
		return d, nil
	}
	id, seed, err := o.Config.SigningKey()
	if err != nil {
		return nil, err
	}
	if id != "" {
		if d.Signer, err = wire.NewSigner(id, seed); err != nil {
			return nil, err
		}
	}
	if g := o.Config.Delivery; g != nil && g.GitHub != nil {
		token, err := config.ResolveSecret(g.GitHub.Token)
		if err != nil {
			return nil, fmt.Errorf("delivery.github.token: %w", err)
		}
		reporter, err := deployments.New(string(token), g.GitHub.APIURL, o.Log)
		if err != nil {
			return nil, err
		}
		d.Reporters = map[string]delivery.StatusReporter{github.Name: reporter}
	}
	return d, nil
}

// reapAgents marks lost the agents not heard of, every interval until ctx
// ends.
func reapAgents(ctx context.Context, agents *fleet.Fleet, interval time.Duration) {
	periodic.Run(ctx, interval, func(ctx context.Context) {
		if _, err := agents.Reap(ctx); err != nil && ctx.Err() == nil {
			agents.Log.Warn("cannot look for lost agents", "error", err)
		}
	})
}

// stopWorker stops fetching new jobs and waits for running ones (up to the
// shutdown timeout, after which asynq returns them to the queue).
func stopWorker(w *jobs.Worker) {
	if w != nil {
		w.Stop()
	}
}

// newHooksCode returns what plans and applies the hooks sources declare,
// with the providers the configuration's hooks section names; nil when it
// has none.
func newHooksCode(store *state.Store, set *sources.Set, o Options) (*handlers.HooksCode, error) {
	if o.Config == nil || o.Config.Hooks == nil {
		return nil, nil
	}
	ps, err := providers.New(o.Config.Hooks)
	if err != nil {
		return nil, err
	}
	return &handlers.HooksCode{
		Reconciler: &hooks.Reconciler{Providers: ps, PublicURL: o.Config.Hooks.PublicURL, Ledger: hooks.NewRedisLedger(o.Redis)},
		Set:        &hookset.Set{Store: store, Sources: set},
	}, nil
}
