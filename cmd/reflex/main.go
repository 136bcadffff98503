// Command reflex is the Reflex binary: the webhook intake and API server,
// the job worker, and the tools that talk to them.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code: 0 on success,
// 1 on failure, with a one-line message on stderr.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(stderr, "reflex: %s\n", oneLine(err))
		return 1
	}
	return 0
}

// globals are the flags every command shares.
type globals struct {
	logLevel  string
	logFormat string
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "reflex",
		Short: "Reflex: webhooks in, live state and secured delivery out",
		Long: `Reflex receives webhooks from Git hosts, cloud builds and registries, verifies and
normalizes them, keeps the live state they describe, and hands deliveries to
agents inside a secured network that never has to accept a connection.

Every flag can also be set with a REFLEX_* environment variable: --max-body is
REFLEX_MAX_BODY. Flags given on the command line win.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return bindEnv(cmd.Flags())
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.AddCommand(newServeCmd(g, stderr), newWorkerCmd(g, stderr), newSendCmd(), newStateCmd(), newPlanCmd(), newApplyCmd(), newPolicyCmd(),
		newAgentCmd(g, stderr), newKeysCmd(), newDeliveryCmd(), newVersionCmd())
	return root
}

// bindEnv sets every flag not given on the command line from its
// REFLEX_<NAME> environment variable, if set.
func bindEnv(flags *pflag.FlagSet) error {
	var errs []error
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" {
			return
		}
		name := "REFLEX_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && v != "" {
			if err := flags.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	})
	return errors.Join(errs...)
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}
