package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	)
	cmd := &cobra.Command{
		Use:   "agent --zone ZONE --actions FILE --public-key ID=KEY",
		Short: "Run deliveries inside the secured network",
		Long: `Run the deliveries of one zone inside the secured network. The agent connects
out to the Redis in REDIS_URL (rediss:// for TLS, user:password@ for an ACL
user) and listens on nothing (--health-addr aside). It takes only its zone's
jobs, runs only jobs signed with one of its public keys, not expired, for its
zone, and naming an action its own --actions file defines; anything else is
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
