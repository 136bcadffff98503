package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/handlers"
	"github.com/reflexops/reflex/redisconn"
	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/state"
)

// runFlags are the settings serve and worker share.
type runFlags struct {
	embeddedAddr    string
	keys            *state.KeyRing
	objectHistory   int
	concurrency     int
	history         int
	dedupeWindow    time.Duration
	shutdownTimeout time.Duration
}

func (f *runFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&f.concurrency, "concurrency", 0, "jobs run at once (0: one per CPU)")
	fl.IntVar(&f.history, "event-history", state.DefaultHistory, "how many events are kept; older ones are dropped")
	fl.DurationVar(&f.dedupeWindow, "dedupe-window", state.DefaultDedupeWindow, "how long a delivery id is remembered, so a redelivery is recognised")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a shutdown waits for in-flight requests and jobs")
	fl.IntVar(&f.objectHistory, "object-history", state.DefaultObjectHistory, "how many revisions of each object are kept")
	fl.StringVar(&f.embeddedAddr, "embedded-redis-addr", "", "without REDIS_URL: where the embedded Redis listens (default: a free port on 127.0.0.1), e.g. for a trial agent")
}

func newServeCmd(g *globals, logOut io.Writer) *cobra.Command {
	var (
		rf         runFlags
		addr       string
		configPath string
		worker     bool
		maxBody    = byteSize(handlers.DefaultMaxBody)
		proxies    []string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the webhook intake and API (and, by default, the job worker)",
		Long: `Run the webhook intake and the HTTP API, and by default the job worker in the
same process (--worker=false runs the intake alone; run "reflex worker"
elsewhere to scale the two apart).

Redis: REDIS_URL (redis:// or rediss://, with password and db) selects a real
Redis. Without it Reflex starts an embedded in-memory Redis, and nothing
survives a restart.

The API under /api/v1 requires an API key, sent as "Authorization: Bearer
<name.secret>". REFLEX_ADMIN_KEY, when set, is accepted as the master key;
otherwise the first start creates the master key and prints it once.`,
		Example: `  ACME_GITHUB_SECRET=s3cret reflex serve --config examples/reflex.yaml
  REDIS_URL=redis://:pass@redis:6379/0 reflex serve --addr :9000 --config /etc/reflex.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.newLogger(logOut)
			if err != nil {
				return err
			}
			var cfg *config.Config
			var keys *state.KeyRing
			if configPath != "" {
				if cfg, _, err = config.Load(configPath); err != nil {
					return err
				}
				if keys, err = cfg.KeyRing(); err != nil {
					return fmt.Errorf("config %s: %w", configPath, err)
				}
			}
			rf.keys = keys
			return runServer(cmd.Context(), log, rf, server.Options{
				HTTP: true, Addr: addr, Config: cfg, AdminKey: os.Getenv("REFLEX_ADMIN_KEY"),
				OnMasterKey: func(key string) {
					fmt.Fprintf(logOut, "\nCreated the master API key. It is shown only this once; keep it safe:\n\n    %s\n\nUse it as REFLEX_APIKEY, or send it as Authorization: Bearer <key>.\n\n", key)
				},
				TrustedProxies: proxies, MaxBody: int64(maxBody), Worker: worker,
			})
		},
	}
	rf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&addr, "addr", ":8080", "HTTP listen address")
	fl.StringVarP(&configPath, "config", "c", "", "configuration file (YAML) declaring the sources")
	fl.BoolVar(&worker, "worker", true, "also run the job worker in this process")
	fl.Var(&maxBody, "max-body", "largest request body accepted (e.g. 25MiB); larger ones get 413")
	fl.StringSliceVar(&proxies, "trusted-proxies", nil, "addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed")
	return cmd
}

func newWorkerCmd(g *globals, logOut io.Writer) *cobra.Command {
	var (
		rf         runFlags
		configPath string
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run only the job worker",
		Long: `Run only the job worker: it processes the jobs that "reflex serve --worker=false"
instances queue. Start as many as the load needs, all on the same REDIS_URL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.newLogger(logOut)
			if err != nil {
				return err
			}
			var cfg *config.Config
			if configPath != "" {
				if cfg, _, err = config.Load(configPath); err != nil {
					return err
				}
			}
			return runServer(cmd.Context(), log, rf, server.Options{Worker: true, Config: cfg})
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVarP(&configPath, "config", "c", "", "configuration file: its delivery settings (signing key, GitHub) are the worker's")
	return cmd
}

// runServer opens Redis and runs the server until SIGINT or SIGTERM.
func runServer(parent context.Context, log *slog.Logger, rf runFlags, o server.Options) error {
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	redisconn.RouteLogs(log)
	conn, err := redisconn.Open(ctx, os.Getenv("REDIS_URL"), rf.embeddedAddr, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	o.Redis, o.Log = conn.Client, log
	o.Concurrency, o.ShutdownTimeout = rf.concurrency, rf.shutdownTimeout
	o.Store = state.Options{History: rf.history, DedupeWindow: rf.dedupeWindow, ObjectHistory: rf.objectHistory, Keys: rf.keys}
	if err := server.Run(ctx, o); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
