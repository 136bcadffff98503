package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/handlers"
	"github.com/reflexops/reflex/policies"
)

// explainFormats are the formats of events explain.
var explainFormats = []string{outText, outJSON, outYAML}

// newEventsExplainCmd is `reflex events explain ID`: why an event did or
// did not deliver. output is the events command's --output.
func newEventsExplainCmd(c *apiClient, output *string) *cobra.Command {
	var source string
	cmd := &cobra.Command{
		Use:   "explain ID",
		Short: "Why did (or didn't) an event fire its triggers?",
		Long: `Explain one stored event: each trigger evaluated on it now (✓ fires, ✗ does not),
with its "on" expression, its result and the values it read from event and
service; what processing did with each trigger (fired, the deliver policy's
decision, the delivery made, the error met); every policy decision recorded
about the event with its scopes and policies; and the deliveries it produced.

Triggers are evaluated as they and their services are now, and each shows the
revision evaluated: a trigger changed since the event was processed may
answer differently from "at processing". Needs read on events and triggers.`,
		Example: "  reflex events explain 6f1c2a90-… --source acme-github\n  reflex events explain 6f1c2a90-… -o json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := outputFormat(*output, outText, explainFormats)
			if err != nil {
				return err
			}
			path := "/api/v1/events/" + url.PathEscape(args[0]) + "/explain?" + eventQuery(source, "").Encode()
			var raw json.RawMessage
			if _, err := c.do(cmd.Context(), http.MethodGet, path, nil, nil, &raw); err != nil {
				return err
			}
			var x handlers.Explanation
			if err := json.Unmarshal(raw, &x); err != nil {
				return fmt.Errorf("read the explanation: %w", err)
			}
			return show(cmd.OutOrStdout(), out, view{data: raw, text: func(w io.Writer) error { return printExplanation(w, &x) }})
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "the source, when two sources received the same id")
	return cmd
}

// printExplanation writes an explanation for a person to read.
func printExplanation(w io.Writer, x *handlers.Explanation) error {
	var b strings.Builder
	e := x.Event
	fmt.Fprintf(&b, "Event %s from %s (%s %s, %s): %s\n", e.ID, e.Source, e.Connector, strings.TrimSpace(e.Type+" "+e.Action), e.Kind, x.Status)
	var about []string
	for _, f := range [][2]string{{"repository", e.Repository}, {"branch", e.Branch}, {"tag", e.Tag}, {"commit", e.Commit}, {"actor", e.Actor}, {"request", e.RequestID}} {
		if f[1] != "" {
			about = append(about, f[0]+" "+f[1])
		}
	}
	if len(about) > 0 {
		fmt.Fprintf(&b, "  %s\n", strings.Join(about, ", "))
	}
	if e.Error != "" {
		fmt.Fprintf(&b, "  error: %s\n", e.Error)
	}

	fmt.Fprintf(&b, "\nTriggers, evaluated now (%s); they may have changed since the event was processed:\n", x.EvaluatedAt.Format("2006-01-02 15:04:05Z07:00"))
	if len(x.Triggers) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, t := range x.Triggers {
		writeTrigger(&b, t)
	}

	b.WriteString("\nDecisions recorded:\n")
	if len(x.Decisions) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, d := range x.Decisions {
		writeDecision(&b, d)
	}

	b.WriteString("\nDeliveries:\n")
	if len(x.Deliveries) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, d := range x.Deliveries {
		fmt.Fprintf(&b, "  %s  %s → %s (zone %s)  %s, %d attempt(s)", d.Name, d.Trigger, d.Service, d.Zone, d.Status, d.Attempts)
		if d.Agent != "" {
			fmt.Fprintf(&b, ", agent %s", d.Agent)
		}
		if d.Reason != "" {
			fmt.Fprintf(&b, ": %s", d.Reason)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTrigger writes one explained trigger: its verdict, expression,
// reads, what it would carry and what processing did with it.
func writeTrigger(b *strings.Builder, t handlers.ExplainedTrigger) {
	mark := "✗"
	if t.Fires {
		mark = "✓"
	}
	fmt.Fprintf(b, "  %s %s", mark, t.Name)
	if t.Revision > 0 {
		fmt.Fprintf(b, " (revision %d)", t.Revision)
	}
	if t.Service != "" {
		fmt.Fprintf(b, " → service %s", t.Service)
	}
	fmt.Fprintf(b, ": %s\n", t.Why)
	if t.On != "" {
		fmt.Fprintf(b, "      on: %s  ⇒ %s\n", t.On, t.Result)
	}
	for _, r := range t.Reads {
		if r.Error != "" {
			fmt.Fprintf(b, "        %s: %s\n", r.Path, r.Error)
		} else {
			fmt.Fprintf(b, "        %s = %s\n", r.Path, r.Value)
		}
	}
	if t.ReadsOmitted > 0 {
		fmt.Fprintf(b, "        … and %d more\n", t.ReadsOmitted)
	}
	if t.Error != "" {
		fmt.Fprintf(b, "      error: %s\n", t.Error)
	}
	if len(t.Params) > 0 {
		names := make([]string, 0, len(t.Params))
		for k := range t.Params {
			names = append(names, k)
		}
		slices.Sort(names)
		for i, k := range names {
			names[i] = k + "=" + t.Params[k]
		}
		fmt.Fprintf(b, "      params: %s\n", strings.Join(names, " "))
	}
	if t.Release != "" {
		fmt.Fprintf(b, "      release: %s\n", t.Release)
	}
	verdict := "would deliver now: no"
	if t.Delivers {
		verdict = "would deliver now: yes, if the deliver policy allows"
	}
	fmt.Fprintf(b, "      %s; %s\n", verdict, processingLine(t.AtProcessing))
}

// processingLine says what processing did with a trigger.
func processingLine(p handlers.ProcessingOfTrigger) string {
	var parts []string
	switch {
	case p.Fired:
		parts = append(parts, "fired at processing: yes")
	default:
		parts = append(parts, "fired at processing: no")
	}
	if p.Allowed != nil {
		if *p.Allowed {
			parts = append(parts, "policy allowed")
		} else {
			parts = append(parts, "policy refused: "+p.Reason)
		}
	}
	if p.Delivery != "" {
		parts = append(parts, "delivery "+p.Delivery)
	}
	if p.Error != "" {
		parts = append(parts, "error: "+p.Error)
	}
	return strings.Join(parts, ", ")
}

// writeDecision writes one recorded policy decision with its scopes and
// policies.
func writeDecision(b *strings.Builder, d handlers.ExplainedDecision) {
	verdict := "denied"
	if d.Allowed {
		verdict = "allowed"
	}
	fmt.Fprintf(b, "  %s %s", d.Action, verdict)
	if d.Trigger != "" {
		fmt.Fprintf(b, " (trigger %s → service %s)", d.Trigger, d.Service)
	}
	if d.Reason != "" {
		fmt.Fprintf(b, ": %s", d.Reason)
	}
	b.WriteString("\n")
	scopes := "(none)"
	if len(d.Scopes) > 0 {
		scopes = strings.Join(d.Scopes, ", ")
	}
	fmt.Fprintf(b, "      scopes: %s\n", scopes)
	if len(d.Policies) > 0 {
		fmt.Fprintf(b, "      policies: %s\n", policyResults(d.Policies))
	}
}

// policyResults writes evaluated policies as "name=true, deny name=false".
func policyResults(results []policies.PolicyResult) string {
	parts := make([]string, 0, len(results))
	for _, p := range results {
		s := p.Name + "=" + fmt.Sprint(p.Result)
		if p.Deny {
			s = "deny " + s
		}
		if p.Error != "" {
			s += " (" + p.Error + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
