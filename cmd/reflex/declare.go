package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/plan"
)

// declareFlags are plan's and apply's flags.
type declareFlags struct {
	file   string
	prune  bool
	output string
}

func newPlanCmd() *cobra.Command {
	var f declareFlags
	cmd := &cobra.Command{
		Use:   "plan -f FILE",
		Short: "Show what apply would change to make the live state match a file",
		Long: `Show, field by field, what "reflex apply" would create, update or delete to make
the live state of a running Reflex match a configuration file (its sources,
policies, scopes, groups and API keys). Nothing is changed. Objects changed
through the API since the last apply show up here as drift.`,
		Example: "  reflex plan -f reflex.yaml\n  reflex plan -f reflex.yaml --prune",
		Args:    cobra.NoArgs,
	}
	c := apiFlags(cmd)
	f.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var p plan.Plan
		if err := f.post(cmd, c, "/api/v1/plan", &p); err != nil {
			return err
		}
		if f.output == "json" {
			return render(cmd.OutOrStdout(), "json", "json", p)
		}
		printChanges(cmd.OutOrStdout(), p.Changes)
		printUnmanaged(cmd.OutOrStdout(), p.Unmanaged, f.prune)
		fmt.Fprintln(cmd.OutOrStdout(), summary(p.Changes, "Plan"))
		return nil
	}
	return cmd
}

func newApplyCmd() *cobra.Command {
	var f declareFlags
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Make the live state match a configuration file",
		Long: `Make the live state of a running Reflex match a configuration file, in one
atomic write: every change lands, or, if anything stands in the way (an
object changed meanwhile, a change not allowed), none does. The file is
checked first (schemas, expressions, references); a file with an error
changes nothing. --prune also deletes what the file no longer declares.

API keys the file creates are printed once; keep them.`,
		Example: "  reflex apply -f reflex.yaml",
		Args:    cobra.NoArgs,
	}
	c := apiFlags(cmd)
	f.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var res struct {
			Applied   []plan.Change     `json:"applied"`
			Keys      map[string]string `json:"keys"`
			Unmanaged []string          `json:"unmanaged"`
		}
		if err := f.post(cmd, c, "/api/v1/apply", &res); err != nil {
			return err
		}
		if f.output == "json" {
			return render(cmd.OutOrStdout(), "json", "json", res)
		}
		out := cmd.OutOrStdout()
		printChanges(out, res.Applied)
		printUnmanaged(out, res.Unmanaged, f.prune)
		fmt.Fprintln(out, summary(res.Applied, "Applied"))
		names := make([]string, 0, len(res.Keys))
		for n := range res.Keys {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(out, "\nNew API key %s (shown only this once; keep it safe):\n    %s\n", n, res.Keys[n])
		}
		return nil
	}
	return cmd
}

func (f *declareFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.file, "file", "f", "", "configuration file (YAML) (required)")
	cmd.Flags().BoolVar(&f.prune, "prune", false, "also delete live sources, policies, scopes, groups and API keys the file does not declare")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output: text or json")
}

// post checks the file locally, then sends it.
func (f *declareFlags) post(cmd *cobra.Command, c *apiClient, path string, out any) error {
	if f.file == "" {
		return fmt.Errorf("-f FILE is required: the configuration file to compare")
	}
	raw, err := os.ReadFile(f.file)
	if err != nil {
		return fmt.Errorf("read the configuration: %w", err)
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", f.file, err)
	}
	if cfg.Encryption != nil || cfg.Delivery != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "note: the encryption and delivery sections are each server's own settings (its --config); plan and apply leave them alone")
	}
	if f.prune {
		path += "?prune=true"
	}
	_, err = c.do(cmd.Context(), http.MethodPost, path, http.Header{"Content-Type": {"application/yaml"}}, raw, out)
	return err
}

func printChanges(w io.Writer, changes []plan.Change) {
	mark := map[string]string{"create": "+", "update": "~", "delete": "-"}
	for _, ch := range changes {
		rev := ""
		if ch.Revision > 0 {
			rev = fmt.Sprintf(" (revision %d)", ch.Revision)
		}
		fmt.Fprintf(w, "%s %s %s%s\n", mark[ch.Op], ch.Type, ch.Name, rev)
		for _, fc := range ch.Fields {
			switch {
			case fc.Field == "sensitive":
				fmt.Fprintf(w, "    sensitive: (changes; not shown)\n")
			case ch.Op == "create":
				fmt.Fprintf(w, "    %s: %s\n", fc.Field, compact(fc.To))
			default:
				fmt.Fprintf(w, "    %s: %s → %s\n", fc.Field, compact(fc.From), compact(fc.To))
			}
		}
	}
}

func printUnmanaged(w io.Writer, unmanaged []string, prune bool) {
	if len(unmanaged) == 0 || prune {
		return
	}
	fmt.Fprintln(w, "Live, but not in the file (--prune would delete them):")
	for _, u := range unmanaged {
		fmt.Fprintf(w, "    %s\n", u)
	}
}

func compact(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "(none)"
	}
	return string(raw)
}

func summary(changes []plan.Change, verb string) string {
	if len(changes) == 0 {
		return "No changes: the live state matches the file."
	}
	n := map[string]int{}
	for _, ch := range changes {
		n[ch.Op]++
	}
	return fmt.Sprintf("%s: %d to create, %d to update, %d to delete.", verb, n["create"], n["update"], n["delete"])
}
