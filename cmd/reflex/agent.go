package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/agent"
	"github.com/reflexops/reflex/redisconn"
	"github.com/reflexops/reflex/wire"
)

func newAgentCmd(g *globals, logOut io.Writer) *cobra.Command {
	var (
		o          agent.Options
		actions    string
		publicKeys []string
		stateDir   string
	)
	cmd := &cobra.Command{
		Use:   "agent --zone ZONE --actions FILE --public-key ID=KEY",
		Short: "Run deliveries inside the secured network",
		Long: `Run the deliveries of one zone inside the secured network. The agent connects
out to the Redis in REDIS_URL (rediss:// for TLS, user:password@ for an ACL
user) and listens on nothing (--health-addr aside). It takes only its zone's
jobs, runs only jobs signed with one of its public keys, not expired, for its
zone, naming an action its own --actions file defines with parameters that
action declares, and neither finished here before nor older than one finished
for its service (its ledger in --state-dir remembers); anything else is
refused, reported, and never run.`,
		Example: `  REDIS_URL=rediss://agent:secret@redis.example.com:6380/0 \
    reflex agent --zone production --actions /etc/reflex/actions.json --public-key k1=MCowBQYDK2VwAyEA…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.newLogger(logOut)
			if err != nil {
				return err
			}
			url := os.Getenv("REDIS_URL")
			if url == "" {
				return errors.New("REDIS_URL is required: the Redis that Reflex queues deliveries in")
			}
			o.Keys = wire.Verifier{}
			for _, spec := range publicKeys {
				if err := o.Keys.ParsePublicKey(spec); err != nil {
					return fmt.Errorf("--public-key: %w", err)
				}
			}
			if o.Actions, err = agent.LoadActions(actions); err != nil {
				return err
			}
			if o.Name == "" {
				o.Name, _ = os.Hostname()
			}
			if stateDir == "" {
				if stateDir, err = defaultStateDir(); err != nil {
					return err
				}
			}
			if o.Ledger, err = agent.OpenLedger(filepath.Join(stateDir, ledgerName(o.Name)), nil); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			redisconn.RouteLogs(log)
			conn, err := redisconn.Open(ctx, url, "", log)
			if err != nil {
				return err
			}
			defer conn.Close()
			o.Redis, o.Log = conn.Client, log
			return agent.Run(ctx, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Zone, "zone", "", "the zone whose deliveries this agent runs (required)")
	fl.StringVar(&actions, "actions", "", "the agent's actions file (required)")
	fl.StringSliceVar(&publicKeys, "public-key", nil, "a public key jobs may be signed with, as ID=BASE64 (repeatable, for rotation)")
	fl.StringVar(&o.Name, "name", "", "the agent's name in reports (default: the host name)")
	fl.IntVar(&o.Concurrency, "concurrency", 1, "jobs run at once")
	fl.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a shutdown waits for running jobs before returning them to the queue")
	fl.DurationVar(&o.PollInterval, "poll-interval", 100*time.Millisecond, "wait between looks at an empty queue")
	fl.StringVar(&o.HealthAddr, "health-addr", "", "serve /healthz on this local address (default: listen on nothing)")
	fl.StringVar(&stateDir, "state-dir", "", "where the agent keeps its ledger of finished jobs (default: $STATE_DIRECTORY, else $XDG_STATE_HOME/reflex-agent, else ~/.local/state/reflex-agent)")
	// Checked before anything else, all at once: `required flag(s) "actions",
	// "public-key", "zone" not set`.
	for _, name := range []string{"zone", "actions", "public-key"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create the keys that sign delivery jobs"}
	var id string
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Create a signing key: a private seed for the server, a public key for agents",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			seed, pub, err := wire.GenerateKey()
			if err != nil {
				return err
			}
			name := "REFLEX_SIGNING_KEY_" + strings.ToUpper(strings.ReplaceAll(id, "-", "_"))
			fmt.Fprintf(cmd.OutOrStdout(), `# Delivery signing key %[1]s.
# The server keeps the seed secret; its configuration names it:
#   delivery:
#     signing:
#       keys: [{id: %[1]s, secret: "env:%[2]s"}]
%[2]s=%[3]s
# Every agent of every zone gets the public key:
#   reflex agent --public-key %[1]s=%[4]s
`, id, name, seed, pub)
			return nil
		},
	}
	gen.Flags().StringVar(&id, "id", "k1", "the key's id, named in every job it signs")
	cmd.AddCommand(gen)
	return cmd
}

// defaultStateDir is where an agent keeps its ledger without --state-dir:
// systemd's StateDirectory=, else the XDG state directory.
func defaultStateDir() (string, error) {
	if d := os.Getenv("STATE_DIRECTORY"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "reflex-agent"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no --state-dir, and no home directory to keep the ledger in: %w", err)
	}
	return filepath.Join(home, ".local", "state", "reflex-agent"), nil
}

// ledgerName is the ledger file of the agent called name.
func ledgerName(name string) string {
	return "ledger-" + strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, name) + ".json"
}
