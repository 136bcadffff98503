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
// 1 on failure, with a one-line message on stderr, or the status a
// command asks for with exitStatus.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	var status exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &status):
		return int(status)
	}
	fmt.Fprintf(stderr, "reflex: %s\n", oneLine(err))
	return 1
}

// exitStatus is returned by a command that succeeded but tells something
// by its exit status (plan --detailed-exitcode: 2 when there are changes).
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

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

Some flags can also be set from the environment: their help names the
variable, as in [$REFLEX_ADDR]. No other variable changes what a command
does, and a flag given on the command line wins.`,
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
	envFlag(root.PersistentFlags(), "log-level", "REFLEX_LOG_LEVEL")
	envFlag(root.PersistentFlags(), "log-format", "REFLEX_LOG_FORMAT")
	root.AddCommand(newServeCmd(g, stderr), newWorkerCmd(g, stderr), newSendCmd(), newConnectorsCmd(), newStateCmd(), newPlanCmd(), newApplyCmd(), newHooksCmd(), newPolicyCmd(),
		newAgentCmd(g, stderr), newAgentsCmd(), newBenchCmd(g, stderr), newKeysCmd(), newDeliveryCmd(), newEventsCmd(), newQueueCmd(), newVersionCmd())
	return root
}

// envAnnotation is the flag annotation naming the environment variable
// a flag also reads.
const envAnnotation = "reflex-env"

// envFlag lets flag name of fs be set through the variable env as well,
// and says so in the flag's help. Only flags declared this way read the
// environment: an unrelated REFLEX_* variable (one an agent sets for its
// actions, say) never changes a command.
func envFlag(fs *pflag.FlagSet, name, env string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("envFlag: no flag --" + name) // a programming error
	}
	f.Usage += " [$" + env + "]"
	_ = fs.SetAnnotation(name, envAnnotation, []string{env})
}

// bindEnv sets every flag declared with envFlag that the command line does
// not give from its variable, when that is set.
func bindEnv(flags *pflag.FlagSet) error {
	var errs []error
	flags.VisitAll(func(f *pflag.Flag) {
		env := f.Annotations[envAnnotation]
		if f.Changed || len(env) == 0 {
			return
		}
		if v, ok := os.LookupEnv(env[0]); ok && v != "" {
			if err := flags.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env[0], err))
			}
		}
	})
	return errors.Join(errs...)
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}
