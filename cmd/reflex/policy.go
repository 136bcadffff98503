package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
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

func newPolicyTestCmd() *cobra.Command {
	var (
		eventRef, action, source, caller, ip, typ, name string
		headers                                         []string
		unverified, sensitive                           bool
		output                                          string
	)
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Show the decision the policies in force would make, and why",
		Long: `Ask a running Reflex which decision its policies would make for an event or an
object, and print the trail: the scopes that matched and each policy
evaluated. Nothing is recorded or changed.

--event is a stored event's id, or a file holding a normalized event (such as
fixtures/github/push.branch.golden.json).`,
		Example: `  reflex policy test --event fixtures/github/push.branch.golden.json --action deliver
  reflex policy test --event 72d3162e-cc78-11e3-81ab-4c9367dc0958 --action receive --ip 203.0.113.9
  reflex policy test --type build --name bct-1 --caller ci --action write`,
		Args: cobra.NoArgs,
	}
	c := apiFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		body := map[string]any{"action": action, "sensitive": sensitive, "verified": !unverified}
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
		case typ != "" && name != "":
			body["type"], body["name"] = typ, name
		default:
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
		raw, _ := json.Marshal(body)
		var d policies.Decision
		if _, err := c.do(cmd.Context(), http.MethodPost, "/api/v1/decisions/test", nil, raw, &d); err != nil {
			return err
		}
		if output == "json" {
			return render(cmd.OutOrStdout(), "json", "json", d)
		}
		printDecision(cmd.OutOrStdout(), d)
		return nil
	}
	fl := cmd.Flags()
	fl.StringVar(&eventRef, "event", "", "stored event id, or a file with a normalized event")
	fl.StringVar(&action, "action", "receive", "receive, deliver, read or write")
	fl.StringVar(&source, "source", "", "evaluate the event as if it came from this source")
	fl.StringVar(&caller, "caller", "", "API key name asking (default for events: the event's source)")
	fl.StringVar(&ip, "ip", "", "client address the request comes from")
	fl.StringSliceVar(&headers, "header", nil, "request header NAME=VALUE (repeatable)")
	fl.BoolVar(&unverified, "unverified", false, "evaluate as if the signature had not been verified")
	fl.BoolVar(&sensitive, "sensitive", false, "ask about the sensitive part")
	fl.StringVar(&typ, "type", "", "object type of an object target")
	fl.StringVar(&name, "name", "", "object name of an object target")
	fl.StringVarP(&output, "output", "o", "text", "output: text or json")
	return cmd
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

func printDecision(w io.Writer, d policies.Decision) {
	verdict := "DENY"
	if d.Allowed {
		verdict = "ALLOW"
	}
	fmt.Fprintf(w, "%s  %s %s %s\n", verdict, d.Action, d.Type, d.Target)
	fmt.Fprintf(w, "  reason:  %s\n", d.Reason)
	if len(d.Scopes) == 0 {
		fmt.Fprintln(w, "  scopes:  (none matched)")
	} else {
		fmt.Fprintf(w, "  scopes:  %s\n", strings.Join(d.Scopes, ", "))
	}
	for _, p := range d.Policies {
		kind := "allow"
		if p.Deny {
			kind = "deny"
		}
		res := fmt.Sprint(p.Result)
		if p.Error != "" {
			res = "error: " + p.Error
		}
		fmt.Fprintf(w, "  policy:  %s (%s) → %s\n", p.Name, kind, res)
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
