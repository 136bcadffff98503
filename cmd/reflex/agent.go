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
	"github.com/reflexops/reflex/wire"
)

func newAgentCmd(g *globals, logOut io.Writer) *cobra.Command {
	var (
		o          agent.Options
		egress     agent.Egress
		actions    string
		publicKeys []string
		stateDir   string
		keyFile    string
		metricsAt  string
	)
	cmd := &cobra.Command{
		Use:   "agent --url URL --zone ZONE --actions FILE --public-key ID=KEY",
		Short: "Run deliveries inside the secured network",
		Long: `Run the deliveries of one zone inside the secured network. The agent makes
outbound HTTPS calls to Reflex's API only (--url), through the network's
proxy when HTTPS_PROXY is set (NO_PROXY excepted), and listens on nothing
(--health-addr and --metrics-listen aside). It needs no Redis and no credential but its own API
key, of kind agent and bound to its zone, read from REFLEX_APIKEY or
--apikey-file; the key names the agent.

It long-polls for its zone's jobs, and runs only jobs signed with one of its
public keys, not expired, for its zone, naming an action its own --actions
file defines with parameters that action declares, and neither finished here
before nor older than one finished for its service (its ledger in --state-dir
remembers); anything else is refused, reported, and never run. While a job
runs, it renews the job's lease, streams its output, and stops it when
Reflex cancels it; a job it cannot finish before it stops is given back.`,
		Example: `  REFLEX_APIKEY=agent-1.… reflex agent --url https://reflex.example.com \
    --zone production --actions /etc/reflex/actions.json --public-key k1=MCowBQYDK2VwAyEA…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.newLogger(logOut)
			if err != nil {
				return err
			}
			if o.APIKey, err = agentKey(keyFile); err != nil {
				return err
			}
			if err := agent.Conceal(); err != nil {
				log.Warn("the agent's key may be readable by its actions through /proc", "error", err)
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
			if o.HTTP, err = egress.Client(); err != nil {
				return err
			}
			if stateDir == "" {
				if stateDir, err = defaultStateDir(); err != nil {
					return err
				}
			}
			name, _, _ := strings.Cut(o.APIKey, ".")
			if o.Ledger, err = agent.OpenLedger(filepath.Join(stateDir, ledgerName(name)), nil); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			reg, metricsDone, err := serveMetrics(ctx, metricsAt, log)
			if err != nil {
				return err
			}
			defer metricsDone()
			defer stop()
			if reg != nil {
				o.Metrics = reg
			}
			o.Log, o.Version = log, versionString()
			return agent.Run(ctx, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Broker, "url", "", "Reflex's base URL: https://…, or http:// to localhost for a trial (required)")
	envFlag(fl, "url", "REFLEX_URL")
	fl.StringVar(&keyFile, "apikey-file", "", "a file holding the agent's API key (default: the variable REFLEX_APIKEY)")
	fl.StringVar(&o.Zone, "zone", "", "the zone whose deliveries this agent runs, as its key is bound to (required)")
	fl.StringVar(&actions, "actions", "", "the agent's actions file (required)")
	fl.StringSliceVar(&publicKeys, "public-key", nil, "a public key jobs may be signed with, as ID=BASE64 (repeatable, for rotation) (required)")
	fl.StringVar(&egress.CAFile, "ca-file", "", "a PEM bundle of CAs to trust for Reflex's certificate, besides the system's")
	fl.StringVar(&egress.CertFile, "client-cert", "", "a client certificate (PEM) for a front end that asks for one")
	fl.StringVar(&egress.KeyFile, "client-key", "", "the client certificate's key (PEM)")
	fl.IntVar(&o.Concurrency, "concurrency", 1, "jobs run at once")
	fl.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a shutdown waits for running jobs before stopping them and giving them back")
	fl.StringVar(&o.HealthAddr, "health-addr", "", "serve /healthz on this local address (default: listen on nothing)")
	addMetricsFlag(fl, &metricsAt)
	fl.StringVar(&stateDir, "state-dir", "", "where the agent keeps its ledger of finished jobs (default: $STATE_DIRECTORY, else $XDG_STATE_HOME/reflex-agent, else ~/.local/state/reflex-agent)")
	// Checked before anything else, all at once: `required flag(s) "actions",
	// "public-key", "url", "zone" not set`.
	for _, name := range []string{"url", "zone", "actions", "public-key"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// agentKey reads the agent's API key from a file, or else from
// REFLEX_APIKEY, which it then removes from the process's environment, so
// that no action inherits it (Conceal keeps actions from reading it back
// through /proc).
func agentKey(file string) (string, error) {
	var key string
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--apikey-file: %w", err)
		}
		key = strings.TrimSpace(string(raw))
	} else {
		key = strings.TrimSpace(os.Getenv("REFLEX_APIKEY"))
	}
	_ = os.Unsetenv("REFLEX_APIKEY")
	if key == "" {
		return "", errors.New("the agent's API key is missing: set REFLEX_APIKEY, or give --apikey-file (create one with: reflex agents add NAME --zone ZONE)")
	}
	return key, nil
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
