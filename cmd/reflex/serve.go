package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/metrics"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/fleet"
	"github.com/reflexops/reflex/handlers"
	"github.com/reflexops/reflex/internal/periodic"
	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/leases"
	"github.com/reflexops/reflex/redisconn"
	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/sources"
	"github.com/reflexops/reflex/state"
)

// runFlags are the settings serve and worker share.
type runFlags struct {
	configPath      string
	embeddedAddr    string
	objectHistory   int
	concurrency     int
	history         int
	dedupeWindow    time.Duration
	shutdownTimeout time.Duration
	deliveryKeep    int
	deliveryMaxAge  time.Duration
	allowEviction   bool
	replicaAcks     int
	agentLeaseTTL   time.Duration
	agentLostAfter  time.Duration
	metricsListen   string
}

func (f *runFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.configPath, "config", "f", "", "configuration file (YAML): the sources, policies, triggers, and this server's encryption and delivery settings")
	fl.IntVar(&f.concurrency, "concurrency", 0, "events processed at once (0: sixteen per CPU, at least 32)")
	fl.IntVar(&f.history, "event-history", state.DefaultHistory, "how many events are kept; older ones are dropped")
	fl.DurationVar(&f.dedupeWindow, "dedupe-window", state.DefaultDedupeWindow, "how long a delivery id is remembered, so a redelivery is recognised")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a shutdown waits for in-flight requests and jobs")
	fl.IntVar(&f.objectHistory, "object-history", state.DefaultObjectHistory, "how many revisions of each object are kept")
	fl.IntVar(&f.deliveryKeep, "delivery-history", delivery.DefaultKeep, "how many delivery records are kept (ended ones beyond it are removed, oldest first)")
	fl.DurationVar(&f.deliveryMaxAge, "delivery-max-age", 0, "also remove ended delivery records older than this, e.g. 2160h (0: no age limit)")
	fl.StringVar(&f.embeddedAddr, "embedded-redis-addr", "", "without REDIS_URL: where the embedded Redis listens (default: a free port on 127.0.0.1), e.g. to look into it with redis-cli")
	fl.BoolVar(&f.allowEviction, "allow-redis-eviction", false, "start even when Redis may evict keys (maxmemory-policy other than noeviction), which loses queued jobs")
	fl.IntVar(&f.replicaAcks, "redis-replica-acks", 0, "acknowledge a webhook only once this many Redis replicas hold it (WAIT, up to 1s, else 503), so a failover loses no acknowledged event; not on Redis Cluster")
	fl.DurationVar(&f.agentLeaseTTL, "agent-lease-ttl", leases.DefaultLeaseTTL, "how long an agent's lease on a job lasts without renewal: a lost agent's job is offered again after this (the same on every replica)")
	fl.DurationVar(&f.agentLostAfter, "agent-lost-after", fleet.DefaultLostAfter, "how long an agent goes unheard of before its agent object says lost")
	for flag, env := range map[string]string{
		"config": "REFLEX_CONFIG", "concurrency": "REFLEX_CONCURRENCY", "event-history": "REFLEX_EVENT_HISTORY",
		"dedupe-window": "REFLEX_DEDUPE_WINDOW", "shutdown-timeout": "REFLEX_SHUTDOWN_TIMEOUT", "object-history": "REFLEX_OBJECT_HISTORY",
		"delivery-history": "REFLEX_DELIVERY_HISTORY", "delivery-max-age": "REFLEX_DELIVERY_MAX_AGE",
		"agent-lease-ttl": "REFLEX_AGENT_LEASE_TTL", "agent-lost-after": "REFLEX_AGENT_LOST_AFTER",
		"redis-replica-acks": "REFLEX_REDIS_REPLICA_ACKS",
	} {
		envFlag(fl, flag, env)
	}
	addMetricsFlag(fl, &f.metricsListen)
}

// options turns the shared flags into the server options they set,
// reading the configuration file.
func (f *runFlags) options() (server.Options, error) {
	o := server.Options{
		Concurrency: f.concurrency, ShutdownTimeout: f.shutdownTimeout,
		AgentLeaseTTL: f.agentLeaseTTL, AgentLostAfter: f.agentLostAfter,
		Deliveries: delivery.Retention{Keep: f.deliveryKeep, MaxAge: f.deliveryMaxAge},
		Store: state.Options{History: f.history, DedupeWindow: f.dedupeWindow, ObjectHistory: f.objectHistory,
			ReplicaAcks: f.replicaAcks},
	}
	if f.configPath == "" {
		return o, nil
	}
	cfg, _, err := config.Load(f.configPath)
	if err != nil {
		return o, err
	}
	if o.Store.Keys, err = cfg.KeyRing(); err != nil {
		return o, fmt.Errorf("config %s: %w", f.configPath, err)
	}
	o.Config = cfg
	return o, nil
}

func newServeCmd(g *globals, logOut io.Writer) *cobra.Command {
	var (
		rf            runFlags
		addr          string
		worker        bool
		maxBody       = byteSize(handlers.DefaultMaxBody)
		budget        = byteSize(handlers.DefaultBodyBudget)
		proxies       []string
		secretPrefix  string
		secretDir     string
		masterKeyFile string
		pollWait      time.Duration
		tlsCert       string
		tlsKey        string
		limits        limitFlags
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the webhook intake and API (and, by default, the job worker)",
		Long: `Run the webhook intake and the HTTP API, and by default the job worker in the
same process (--worker=false runs the intake alone; run "reflex worker"
elsewhere to scale the two apart).

Redis: REDIS_URL selects a real Redis: redis:// or rediss:// (with password
and db) for one server, redis-sentinel://host1,host2/db?master=name for the
primary that Sentinel names, redis-cluster://host1,host2 for a Redis Cluster.
Without it Reflex starts an embedded in-memory Redis, and nothing survives a
restart.

The API under /api/v1 requires an API key, sent as "Authorization: Bearer
<name.secret>". REFLEX_ADMIN_KEY, when set, is accepted as the master key;
otherwise the first start creates the master key and prints it once (or
writes it to --master-key-file).

Every setting is checked, and the listen address bound, before Redis is
changed in any way.`,
		Example: `  ACME_GITHUB_SECRET=s3cret reflex serve --config examples/reflex.yaml
  REDIS_URL=redis://:pass@redis:6379/0 reflex serve --addr :9000 -f /etc/reflex.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.newLogger(logOut)
			if err != nil {
				return err
			}
			o, err := rf.options()
			if err != nil {
				return err
			}
			o.HTTP, o.Worker, o.Addr, o.TrustedProxies = true, worker, addr, proxies
			o.MaxBody, o.BodyBudget = int64(maxBody), int64(budget)
			o.SecretRefs = sources.SecretRefs{EnvPrefix: secretPrefix, Dir: secretDir}
			o.AgentPollWait, o.TLSCertFile, o.TLSKeyFile = pollWait, tlsCert, tlsKey
			limits.apply(&o)
			o.AdminKey = os.Getenv("REFLEX_ADMIN_KEY")
			o.OnMasterKey = masterKeyShower(g, log, logOut, masterKeyFile)
			if err := o.Validate(); err != nil {
				return err
			}
			softMemoryLimit(cmdContext(cmd), o.BodyBudget, os.Getenv("REDIS_URL") == "")
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("--addr %s: %w", addr, err)
			}
			o.Listener = ln
			defer ln.Close()
			return runServer(cmdContext(cmd), log, rf, o)
		},
	}
	rf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&addr, "addr", ":8080", "HTTP listen address")
	fl.BoolVar(&worker, "worker", true, "also run the job worker in this process")
	fl.Var(&maxBody, "max-body", "largest request body accepted (e.g. 25MiB); larger ones get 413; a source's max_body may lower it")
	fl.Var(&budget, "max-body-in-flight", "webhook body bytes held at once across all requests; beyond it deliveries get 503 and Retry-After")
	fl.StringSliceVar(&proxies, "trusted-proxies", nil, "addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed")
	fl.StringVar(&secretPrefix, "secret-env-prefix", sources.DefaultSecretEnvPrefix, "env: secret references of sources not declared in --config must name a variable with this prefix")
	fl.StringVar(&secretDir, "secret-dir", sources.DefaultSecretDir, "file: secret references of sources not declared in --config must name a file in this folder")
	fl.StringVar(&masterKeyFile, "master-key-file", "", "write a master key created at this start to this file (mode 0600) instead of the log")
	fl.StringVar(&tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM, with its chain); needs --tls-key")
	fl.StringVar(&tlsKey, "tls-key", "", "the key of --tls-cert (PEM)")
	fl.DurationVar(&pollWait, "agent-poll-wait", handlers.DefaultPollWait, "how long an agent's poll for its next job is held open (at most 60s; keep it under your proxies' idle timeout)")
	limits.register(fl)
	for flag, env := range map[string]string{
		"addr": "REFLEX_ADDR", "worker": "REFLEX_WORKER", "max-body": "REFLEX_MAX_BODY", "max-body-in-flight": "REFLEX_MAX_BODY_IN_FLIGHT",
		"trusted-proxies": "REFLEX_TRUSTED_PROXIES", "secret-env-prefix": "REFLEX_SECRET_ENV_PREFIX", "secret-dir": "REFLEX_SECRET_DIR",
		"master-key-file": "REFLEX_MASTER_KEY_FILE", "tls-cert": "REFLEX_TLS_CERT", "tls-key": "REFLEX_TLS_KEY",
		"agent-poll-wait": "REFLEX_AGENT_POLL_WAIT",
	} {
		envFlag(fl, flag, env)
	}
	return cmd
}

// masterKeyShower returns how a master key created at the start is shown
// once: written to a file when one is named, else in the log, as one
// record in the JSON format and as a banner in the text format.
func masterKeyShower(g *globals, log *slog.Logger, out io.Writer, file string) func(string) {
	return func(key string) {
		const note = "Created the master API key. It is shown only this once; keep it safe. Use it as REFLEX_APIKEY, or send it as Authorization: Bearer <key>."
		switch {
		case file != "":
			if err := os.WriteFile(file, []byte(key+"\n"), 0o600); err != nil {
				log.Error("cannot write the master key file; the key is shown here instead", "file", file, "error", err)
				log.Warn(note, "master_key", key)
				return
			}
			log.Warn("created the master API key and wrote it to the master key file", "file", file)
		case g.logFormat == "json":
			log.Warn(note, "master_key", key)
		default:
			fmt.Fprintf(out, "\nCreated the master API key. It is shown only this once; keep it safe:\n\n    %s\n\nUse it as REFLEX_APIKEY, or send it as Authorization: Bearer <key>.\n\n", key)
		}
	}
}

func newWorkerCmd(g *globals, logOut io.Writer) *cobra.Command {
	var rf runFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run only the job worker",
		Long: `Run only the job worker: it processes the jobs that "reflex serve --worker=false"
instances queue. Start as many as the load needs, all on the same REDIS_URL,
which is required: an embedded Redis would be this process's alone, and no
intake could queue a job in it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Getenv("REDIS_URL") == "" {
				return errors.New("REDIS_URL is required: the worker takes the jobs that reflex serve queues in that Redis")
			}
			log, err := g.newLogger(logOut)
			if err != nil {
				return err
			}
			o, err := rf.options()
			if err != nil {
				return err
			}
			o.Worker = true
			if err := o.Validate(); err != nil {
				return err
			}
			return runServer(cmdContext(cmd), log, rf, o)
		},
	}
	rf.register(cmd)
	return cmd
}

// runServer opens Redis and runs the server until SIGINT or SIGTERM.
func runServer(parent context.Context, log *slog.Logger, rf runFlags, o server.Options) error {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	reg, metricsDone, err := serveMetrics(ctx, rf.metricsListen, log)
	if err != nil {
		return err
	}
	defer metricsDone()
	defer stop()
	o.Metrics, o.MetricsElsewhere = reg, reg != nil
	redisconn.RouteLogs(log)
	conn, err := redisconn.Open(ctx, os.Getenv("REDIS_URL"), rf.embeddedAddr, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := checkEviction(ctx, conn, rf.allowEviction, log); err != nil {
		return err
	}
	if rf.replicaAcks > 0 && (conn.Mode == redisconn.ModeCluster || conn.Embedded) {
		return fmt.Errorf("--redis-replica-acks needs one Redis primary with replicas (redis:// or redis-sentinel://), not %s", conn.Mode)
	}
	o.Redis, o.Log = conn.Client, log
	if conn.Embedded {
		o.SpillAt = jobs.EmbeddedSpillAt
	}
	if err := server.Run(ctx, o); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// checkEviction refuses a Redis that may evict keys unless allowed, in
// which case, as when the policy cannot be read, it only warns.
func checkEviction(ctx context.Context, conn *redisconn.Conn, allow bool, log *slog.Logger) error {
	err := conn.CheckEviction(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redisconn.ErrEviction) && !allow:
		return fmt.Errorf("%w; or start with --allow-redis-eviction to run anyway", err)
	case errors.Is(err, redisconn.ErrEviction), errors.Is(err, redisconn.ErrEvictionUnchecked):
		log.Warn(err.Error())
		return nil
	}
	return err
}

// memoryHeadroom is what the process needs besides the webhook bodies it
// holds: the heap of its caches, connections and jobs.
const memoryHeadroom = 128 << 20

// softMemoryLimit sets the Go runtime's soft memory limit, unless
// GOMEMLIMIT does, to the body budget twice (what it holds, and the
// garbage of the buffers it outgrew) plus memoryHeadroom: the collector
// then works harder as memory nears it, instead of letting garbage from
// a burst of large bodies double the process's size. With the embedded
// Redis, whose data lives on the same heap, the limit follows that heap:
// once a second it is set to the heap that survived the last collection
// plus the same margin, so that the data can grow and the garbage of large
// bodies still cannot pile up; it stops when ctx ends.
func softMemoryLimit(ctx context.Context, budget int64, embedded bool) {
	if os.Getenv("GOMEMLIMIT") != "" || budget <= 0 {
		return
	}
	margin := 2*budget + memoryHeadroom
	if !embedded {
		debug.SetMemoryLimit(margin)
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	follow := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(int64(sample[0].Value.Uint64()) + margin)
		}
	}
	follow()
	go periodic.Run(ctx, time.Second, func(context.Context) { follow() })
}
