package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/plan"
	"github.com/reflexops/reflex/state"
)

// declareFlags are plan's and apply's flags.
type declareFlags struct {
	file   string
	prune  bool
	output string
}

func newPlanCmd() *cobra.Command {
	var (
		f        declareFlags
		detailed bool
	)
	cmd := &cobra.Command{
		Use:   "plan -f FILE",
		Short: "Show what apply would change to make the live state match a file",
		Long: `Show, field by field, what "reflex apply" would create, update or delete to make
the live state of a running Reflex match a configuration file (its sources,
policies, scopes, groups and API keys). Nothing is changed. Objects changed
through the API since the last apply show up here as drift.

-o json or yaml prints the plan as data ({"changes": [...], "unmanaged":
[...]}); -o table one row per change, and per live object the file does not
declare (op "unmanaged") unless --prune.

Exit status: 0 on success, 1 on an error. With --detailed-exitcode: 0 when
there is nothing to change, 2 when apply would change something (live
objects the file does not declare count only with --prune), 1 on an error;
in every output format.`,
		Example: "  reflex plan -f reflex.yaml\n  reflex plan -f reflex.yaml --prune\n  reflex plan -f reflex.yaml --detailed-exitcode -o json",
		Args:    cobra.NoArgs,
	}
	c := apiFlags(cmd)
	f.register(cmd)
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when there are changes, 0 when there are none (1 on an error)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		format, err := outputFormat(f.output, outText, reportFormats)
		if err != nil {
			return err
		}
		var p plan.Plan
		if err := f.post(cmd, c, "/api/v1/plan", &p); err != nil {
			return err
		}
		if p.Changes == nil {
			p.Changes = []plan.Change{}
		}
		err = show(cmd.OutOrStdout(), format, view{
			data:  p,
			table: func() (table, error) { return changesTable(p.Changes, p.Unmanaged, f.prune, nil), nil },
			text: func(w io.Writer) error {
				printChanges(w, p.Changes)
				printUnmanaged(w, p.Unmanaged, f.prune)
				_, err := fmt.Fprintln(w, summary(p.Changes, "Plan"))
				return err
			},
		})
		if err == nil && detailed && len(p.Changes) > 0 {
			return exitStatus(2)
		}
		return err
	}
	return cmd
}

// applyResult is the answer of POST /api/v1/apply.
type applyResult struct {
	Status    string            `json:"status"`
	Applied   []plan.Change     `json:"applied"`
	Keys      map[string]string `json:"keys"`
	Unmanaged []string          `json:"unmanaged"`
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

API keys the file creates are printed once; keep them. -o json or yaml
prints the answer as data (the keys under "keys"); -o table one row per
change, a new API key in its KEY column.`,
		Example: "  reflex apply -f reflex.yaml",
		Args:    cobra.NoArgs,
	}
	c := apiFlags(cmd)
	f.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		format, err := outputFormat(f.output, outText, reportFormats)
		if err != nil {
			return err
		}
		var res applyResult
		if err := f.post(cmd, c, "/api/v1/apply", &res); err != nil {
			return err
		}
		if res.Applied == nil {
			res.Applied = []plan.Change{}
		}
		return show(cmd.OutOrStdout(), format, view{
			data:  res,
			table: func() (table, error) { return changesTable(res.Applied, res.Unmanaged, f.prune, res.Keys), nil },
			text:  func(w io.Writer) error { return printApplied(w, res, f.prune) },
		})
	}
	return cmd
}

func printApplied(out io.Writer, res applyResult, prune bool) error {
	printChanges(out, res.Applied)
	printUnmanaged(out, res.Unmanaged, prune)
	fmt.Fprintln(out, summary(res.Applied, "Applied"))
	for _, n := range sortedKeys(res.Keys) {
		fmt.Fprintf(out, "\nNew API key %s (shown only this once; keep it safe):\n    %s\n", n, res.Keys[n])
	}
	return nil
}

// changesTable is a plan's or an apply's table: OP TYPE NAME REVISION
// FIELDS, one row per change, then one per unmanaged live object (unless
// pruned: then they are changes); with keys, a KEY column holds each new
// API key.
func changesTable(changes []plan.Change, unmanaged []string, prune bool, keys map[string]string) table {
	t := table{header: []string{"op", "type", "name", "revision", "fields"}}
	if len(keys) > 0 {
		t.header = append(t.header, "key")
	}
	for _, ch := range changes {
		rev := ""
		if ch.Revision > 0 {
			rev = strconv.FormatInt(ch.Revision, 10)
		}
		fields := make([]string, len(ch.Fields))
		for i, fc := range ch.Fields {
			fields[i] = fc.Field
		}
		row := []string{ch.Op, ch.Type, ch.Name, rev, strings.Join(fields, ",")}
		if len(keys) > 0 {
			key := ""
			if ch.Type == state.TypeAPIKey {
				key = keys[ch.Name]
			}
			row = append(row, key)
		}
		t.rows = append(t.rows, row)
	}
	if !prune {
		for _, u := range unmanaged {
			typ, name, _ := strings.Cut(u, "/")
			row := []string{"unmanaged", typ, name, "", ""}
			if len(keys) > 0 {
				row = append(row, "")
			}
			t.rows = append(t.rows, row)
		}
	}
	return t
}

func (f *declareFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.file, "file", "f", "", "configuration file (YAML) (required)")
	cmd.Flags().BoolVar(&f.prune, "prune", false, "also delete live sources, policies, scopes, groups and API keys the file does not declare")
	cmd.Flags().StringVarP(&f.output, "output", "o", outText, "output: text, json, yaml or table")
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

// compact is a field's value as the plan shows it: its JSON, with no HTML
// escapes (&& as &&, whatever the server sent).
func compact(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "(none)"
	}
	return string(unescapeHTML(raw))
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
