package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/plan"
	"github.com/reflexops/reflex/policies"
)

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Test and check policies",
	}
	cmd.AddCommand(newPolicyTestCmd(), newPolicyLintCmd())
	return cmd
}

// actions are the actions a decision can be about.
var actions = func() []string {
	var out []string
	for _, a := range policies.Actions() {
		out = append(out, string(a))
	}
	return out
}()

// errDenied ends policy test with status 1 when the decision is DENY; the
// decision itself is already printed.
var errDenied = errors.New("denied")

func newPolicyTestCmd() *cobra.Command {
	var (
		eventRef, action, source, caller, ip, typ, name string
		headers                                         []string
		unverified, sensitive, asJSON                   bool
		output                                          string
	)
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Show the decision the policies in force would make, and why",
		Long: `Ask a running Reflex which decision its policies would make for an event or an
object, and print the trail: the scopes that matched and each policy
evaluated. Nothing is recorded or changed.

--event is a stored event's id, or a file holding a normalized event (such as
fixtures/github/push.branch.golden.json). --type and --name name an object
of the live state: alone, the target (for read and write); with --event,
the object the event would be delivered to (a service), as a real deliver
decision sees it.

Exit status, as "kubectl auth can-i": 0 when the decision is ALLOW, 1 when
it is DENY (the decision is printed in full on stdout, in any output format,
and stderr says only "reflex: denied"), 1 with a "reflex: …" line on stderr
for an error (nothing on stdout).`,
		Example: `  reflex policy test --event fixtures/github/push.branch.golden.json --action deliver --type service --name web-prod
  reflex policy test --event 72d3162e-cc78-11e3-81ab-4c9367dc0958 --action receive --ip 203.0.113.9
  reflex policy test --type build --name bct-1 --caller ci --action write --json`,
		Args: cobra.NoArgs,
	}
	c := apiFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if asJSON {
			if cmd.Flags().Changed("output") && output != outJSON {
				return fmt.Errorf("--json is -o json: give one or the other, not --json with -o %s", output)
			}
			output = outJSON
		}
		format, err := outputFormat(output, outText, reportFormats)
		if err != nil {
			return err
		}
		if !slices.Contains(actions, action) {
			return fmt.Errorf("--action %q: want %s", action, orList(actions))
		}
		body := map[string]any{"action": action, "sensitive": sensitive, "verified": !unverified}
		if (typ == "") != (name == "") {
			return errors.New("--type and --name go together: the object's type and name")
		}
		if typ != "" {
			body["type"], body["name"] = typ, name
		}
		switch {
		case eventRef != "" && fileExists(eventRef):
			raw, err := os.ReadFile(eventRef)
			if err != nil {
				return fmt.Errorf("read the event: %w", err)
			}
			var ev map[string]any
			if err := json.Unmarshal(raw, &ev); err != nil || ev == nil {
				return fmt.Errorf("%s is not a normalized event (JSON object)", eventRef)
			}
			body["event"] = ev
		case eventRef != "":
			body["event_id"] = eventRef
		case typ == "":
			return errors.New("name the target: --event ID|FILE, or --type and --name")
		}
		if source != "" {
			body["source"] = source
		}
		if caller != "" {
			body["caller"] = map[string]any{"name": caller}
		}
		if ip != "" {
			body["ip"] = ip
		}
		if len(headers) > 0 {
			h := map[string]string{}
			for _, kv := range headers {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("--header %q: want NAME=VALUE", kv)
				}
				h[strings.ToLower(k)] = v
			}
			body["headers"] = h
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode the test request: %w", err)
		}
		var d policies.Decision
		if _, err := c.do(cmd.Context(), http.MethodPost, "/api/v1/decisions/test", nil, raw, &d); err != nil {
			return err
		}
		if d.Scopes == nil {
			d.Scopes = []string{}
		}
		if d.Policies == nil {
			d.Policies = []policies.PolicyResult{}
		}
		err = show(cmd.OutOrStdout(), format, view{
			data:  d,
			table: func() (table, error) { return decisionTable(d), nil },
			text:  func(w io.Writer) error { printDecision(w, d); return nil },
		})
		if err == nil && !d.Allowed {
			return errDenied
		}
		return err
	}
	fl := cmd.Flags()
	fl.StringVar(&eventRef, "event", "", "stored event id, or a file with a normalized event")
	fl.StringVar(&action, "action", string(policies.ActionReceive), orList(actions))
	fl.StringVar(&source, "source", "", "evaluate the event as if it came from this source")
	fl.StringVar(&caller, "caller", "", "API key name asking (default for events: the event's source)")
	fl.StringVar(&ip, "ip", "", "client address the request comes from")
	fl.StringSliceVar(&headers, "header", nil, "request header NAME=VALUE (repeatable)")
	fl.BoolVar(&unverified, "unverified", false, "evaluate as if the signature had not been verified")
	fl.BoolVar(&sensitive, "sensitive", false, "ask about the sensitive part")
	fl.StringVar(&typ, "type", "", "object type: of the target, or with --event of the object delivered to")
	fl.StringVar(&name, "name", "", "object name: of the target, or with --event of the object delivered to")
	fl.StringVarP(&output, "output", "o", outText, "output: text, json, yaml or table")
	fl.BoolVar(&asJSON, "json", false, "print the decision as JSON (-o json)")
	return cmd
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

func verdict(d policies.Decision) string {
	if d.Allowed {
		return "ALLOW"
	}
	return "DENY"
}

func printDecision(w io.Writer, d policies.Decision) {
	fmt.Fprintf(w, "%s  %s %s %s\n", verdict(d), d.Action, d.Type, d.Target)
	fmt.Fprintf(w, "  reason:  %s\n", d.Reason)
	if len(d.Scopes) == 0 {
		fmt.Fprintln(w, "  scopes:  (none matched)")
	} else {
		fmt.Fprintf(w, "  scopes:  %s\n", strings.Join(d.Scopes, ", "))
	}
	for _, p := range d.Policies {
		fmt.Fprintf(w, "  policy:  %s (%s) → %s\n", p.Name, policyKind(p), policyResult(p))
	}
}

func policyKind(p policies.PolicyResult) string {
	if p.Deny {
		return "deny"
	}
	return "allow"
}

func policyResult(p policies.PolicyResult) string {
	if p.Error != "" {
		return "error: " + p.Error
	}
	return strconv.FormatBool(p.Result)
}

// decisionTable is a decision as a one-row table.
func decisionTable(d policies.Decision) table {
	pols := make([]string, len(d.Policies))
	for i, p := range d.Policies {
		kind := ""
		if p.Deny {
			kind = "(deny)"
		}
		pols[i] = p.Name + kind + "=" + policyResult(p)
	}
	return table{
		header: []string{"decision", "action", "type", "target", "scopes", "policies", "reason"},
		rows:   [][]string{{verdict(d), string(d.Action), d.Type, d.Target, strings.Join(d.Scopes, ","), strings.Join(pols, ","), d.Reason}},
	}
}

func newPolicyLintCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lint FILE",
		Short: "Check a configuration file's policies and scopes offline",
		Long: `Check a configuration file without a server: its structure, every object
against its schema, every expression (compiled and type-checked, with the
position of each error), and that every policy a scope names is declared.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read %s: %w", args[0], err)
			}
			cfg, err := config.Parse(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			desired := plan.Desired(cfg, plan.Sealed)
			if err := plan.Validate(desired, nil, false); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d objects, all valid\n", args[0], len(desired))
			return nil
		},
	}
}
