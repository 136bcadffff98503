package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/hooks"
)

func newHooksCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hooks",
		Short: "Keep the webhooks of external services as the sources declare them",
		Long: `A source's "hooks" declare where its webhooks must exist: GitHub repositories
and organizations, GitLab projects and groups, Gitea repositories. "reflex hooks
plan" compares them with what each provider holds; "reflex hooks apply" makes
them so, with the running server's credentials (its configuration's "hooks"
section). Only hooks whose URL is this Reflex's are ever changed. See
docs/hooks.md.`,
	}
	cmd.AddCommand(newHooksPlanCmd(), newHooksApplyCmd(), newHooksListCmd(), newHooksPingCmd(), newHooksSetupCmd(), newHooksRotateCmd(), newHooksRedeliverCmd())
	return cmd
}

func newHooksPlanCmd() *cobra.Command {
	var (
		output   string
		detailed bool
	)
	cmd := &cobra.Command{
		Use:   "plan [SOURCE...]",
		Short: "Show what apply would change at the providers",
		Long: `Show, repository by repository, which hooks "reflex hooks apply" would create,
update (url, events, content type, active, secret) or delete, for the given
sources or every source that declares hooks. Nothing is changed. Progress goes
to standard error.

Exit status: 0 on success, 1 on an error. With --detailed-exitcode: 0 when
there is nothing to change, 2 when apply would change something, 1 on an error.`,
		Example: "  reflex hooks plan\n  reflex hooks plan acme-github --detailed-exitcode -o json",
	}
	c := apiFlags(cmd)
	addOutputFlag(cmd, &output, outText, "output: text, json or yaml")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when there are changes, 0 when there are none (1 on an error)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outText, []string{outText, "json", "yaml"})
		if err != nil {
			return err
		}
		var p hooks.Plan
		if err := streamHooks(cmd, c, "/api/v1/hooks/plan", args, &p); err != nil {
			return err
		}
		if p.Changes == nil {
			p.Changes = []hooks.Change{}
		}
		err = show(cmd.OutOrStdout(), format, view{data: p, text: func(w io.Writer) error {
			printHookChanges(w, p.Changes, colours(w))
			_, err := fmt.Fprintln(w, hooksSummary(p.Changes, p.Unchanged, "Plan"))
			return err
		}})
		if err == nil && detailed && len(p.Changes) > 0 {
			return exitStatus(2)
		}
		return err
	}
	return cmd
}

func newHooksApplyCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "apply [SOURCE...]",
		Short: "Make the providers' hooks as the sources declare them",
		Long: `Create, update and delete hooks at the providers so that they are as the given
sources (or every source that declares hooks) say, repository by repository,
each under a lock that several applies (or replicas) share: a second apply
changes nothing, and none creates a hook twice. A source without a secret gets
one, generated and kept sealed in live state; no secret is ever printed.
Progress goes to standard error. A repository that fails does not stop the
others; the exit status is then 1.`,
		Example: "  reflex hooks apply\n  reflex hooks apply acme-github -o json",
	}
	c := apiFlags(cmd)
	addOutputFlag(cmd, &output, outText, "output: text, json or yaml")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outText, []string{outText, "json", "yaml"})
		if err != nil {
			return err
		}
		var res hooks.Result
		if err := streamHooks(cmd, c, "/api/v1/hooks/apply", args, &res); err != nil {
			return err
		}
		if res.Applied == nil {
			res.Applied = []hooks.Change{}
		}
		err = show(cmd.OutOrStdout(), format, view{data: res, text: func(w io.Writer) error {
			printHookChanges(w, res.Applied, colours(w))
			for _, f := range res.Failed {
				fmt.Fprintf(w, "! %s: %s the hook of %s: %s\n", f.Change.Target, f.Change.Op, f.Change.Source, f.Error)
			}
			_, err := fmt.Fprintln(w, hooksSummary(res.Applied, res.Unchanged, "Applied"))
			return err
		}})
		if err == nil && len(res.Failed) > 0 {
			return fmt.Errorf("%d of the changes failed", len(res.Failed))
		}
		return err
	}
	return cmd
}

// streamHooks posts a hooks plan or apply, prints its progress lines to
// standard error as they come, and decodes the result into out.
func streamHooks(cmd *cobra.Command, c *apiClient, path string, sources []string, out any) error {
	return streamHooksRequest(cmd, c, path, map[string]any{"sources": sources}, out)
}

// streamHooksRequest is streamHooks with a request of its own.
func streamHooksRequest(cmd *cobra.Command, c *apiClient, path string, req map[string]any, out any) error {
	body, _ := json.Marshal(req)
	resp, err := c.send(cmd.Context(), http.MethodPost, path, http.Header{"Content-Type": {"application/json"}, "Accept": {"application/x-ndjson"}}, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return answerError(resp.StatusCode, raw)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var line struct {
			Progress string          `json:"progress"`
			Result   json.RawMessage `json:"result"`
			Error    string          `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return fmt.Errorf("read the answer: %w", err)
		}
		switch {
		case line.Error != "":
			return fmt.Errorf("%s", line.Error)
		case line.Result != nil:
			return json.Unmarshal(line.Result, out)
		case line.Progress != "":
			fmt.Fprintln(cmd.ErrOrStderr(), line.Progress)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	return fmt.Errorf("the answer ended before its result")
}

// palette colours a plan's marks, or leaves them plain.
type palette struct{ add, change, remove, reset string }

// colours returns ANSI colours when w is a terminal and NO_COLOR is not
// set, and none otherwise (piped, redirected).
func colours(w io.Writer) palette {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return palette{}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return palette{}
	}
	return palette{add: "\x1b[32m", change: "\x1b[33m", remove: "\x1b[31m", reset: "\x1b[0m"}
}

// printHookChanges prints changes grouped by target, marked + ~ -.
func printHookChanges(w io.Writer, changes []hooks.Change, p palette) {
	var last hooks.Target
	for _, ch := range changes {
		if ch.Target != last {
			fmt.Fprintf(w, "%s:\n", ch.Target)
			last = ch.Target
		}
		mark, colour := "+", p.add
		switch ch.Op {
		case "update":
			mark, colour = "~", p.change
		case "delete":
			mark, colour = "-", p.remove
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "  %s%s hook of %s", colour, mark, ch.Source)
		if ch.HookID != "" {
			fmt.Fprintf(&b, " (id %s)", ch.HookID)
		}
		if ch.Why != "" {
			fmt.Fprintf(&b, ": %s", ch.Why)
		}
		fmt.Fprintf(w, "%s%s\n", b.String(), p.reset)
		if d := ch.Desired; d != nil {
			for _, f := range hookFields(ch) {
				switch f {
				case "url":
					fmt.Fprintf(w, "      url: %s\n", d.URL)
				case "events":
					fmt.Fprintf(w, "      events: %s\n", strings.Join(d.Events, ", "))
				case "content_type":
					fmt.Fprintf(w, "      content type: %s\n", d.ContentType)
				case "active":
					fmt.Fprintf(w, "      active: true\n")
				case "secret":
					fmt.Fprintf(w, "      secret: (set; not shown)\n")
				}
			}
		}
	}
}

// hookFields are the fields a change shows: all of a create's.
func hookFields(ch hooks.Change) []string {
	if ch.Op == "create" {
		return []string{"url", "events", "content_type", "secret"}
	}
	return ch.Fields
}

func hooksSummary(changes []hooks.Change, unchanged int, verb string) string {
	if len(changes) == 0 {
		return fmt.Sprintf("No changes: %d hooks are as declared.", unchanged)
	}
	n := map[string]int{}
	for _, ch := range changes {
		n[ch.Op]++
	}
	return fmt.Sprintf("%s: %d to create, %d to update, %d to delete; %d as declared.", verb, n["create"], n["update"], n["delete"], unchanged)
}

func newHooksRotateCmd() *cobra.Command {
	var (
		output string
		grace  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "rotate SOURCE",
		Short: "Give a source's hooks a new secret, with no delivery refused",
		Long: `Generate a new secret for SOURCE, keep it sealed beside the old one (deliveries
signed with either verify), update every hook of the source at its providers
to the new secret, and remove the old one once --grace has passed. The secret
is never printed; its fingerprint is. Only secrets Reflex keeps in live state
rotate (generated ones, or literals); references (env:, file:) rotate where
they live.`,
		Example: "  reflex hooks rotate acme-github\n  reflex hooks rotate acme-github --grace 10m",
		Args:    cobra.ExactArgs(1),
	}
	c := apiFlags(cmd)
	addOutputFlag(cmd, &output, outText, "output: text, json or yaml")
	cmd.Flags().DurationVar(&grace, "grace", time.Hour, "how long the old secret keeps verifying")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outText, []string{outText, "json", "yaml"})
		if err != nil {
			return err
		}
		body, _ := json.Marshal(map[string]string{"source": args[0], "grace": grace.String()})
		var ans struct {
			Rotation struct {
				Fingerprint string    `json:"fingerprint"`
				RetireAt    time.Time `json:"retire_at"`
				Retiring    int       `json:"retiring"`
			} `json:"rotation"`
			Result hooks.Result `json:"result"`
		}
		if _, err := c.do(cmd.Context(), http.MethodPost, "/api/v1/hooks/rotate", http.Header{"Content-Type": {"application/json"}}, body, &ans); err != nil {
			return err
		}
		err = show(cmd.OutOrStdout(), format, view{data: ans, text: func(w io.Writer) error {
			fmt.Fprintf(w, "Source %s has a new secret (fingerprint %s).\n", args[0], ans.Rotation.Fingerprint)
			printHookChanges(w, ans.Result.Applied, colours(w))
			for _, f := range ans.Result.Failed {
				fmt.Fprintf(w, "! %s: %s the hook of %s: %s\n", f.Change.Target, f.Change.Op, f.Change.Source, f.Error)
			}
			_, err := fmt.Fprintf(w, "%d hooks updated; the %d old secrets verify until %s.\n", len(ans.Result.Applied), ans.Rotation.Retiring, ans.Rotation.RetireAt.Format(time.RFC3339))
			return err
		}})
		if err == nil && len(ans.Result.Failed) > 0 {
			return fmt.Errorf("%d hooks could not be updated; both secrets verify until the old one retires: run reflex hooks apply %s", len(ans.Result.Failed), args[0])
		}
		return err
	}
	return cmd
}

func newHooksRedeliverCmd() *cobra.Command {
	var (
		output string
		since  time.Duration
		events []string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "redeliver [SOURCE...]",
		Short: "Ask the providers to deliver again what failed to reach Reflex",
		Long: `List the recent deliveries of every hook of this Reflex (GitHub's; the
providers whose API lists them), find those that failed since --since and whose
delivery id Reflex never accepted, and ask the provider to deliver them again.
A delivery a later attempt got through, or that Reflex holds, is left alone;
one that arrives twice is a duplicate, answered as such. --event limits it to
event types ("push", or "pull_request.opened" with an action); --dry-run counts
what it would ask for. One redelivery runs at a time across replicas.`,
		Example: "  reflex hooks redeliver --since 6h\n  reflex hooks redeliver acme-github --since 24h --event push --event pull_request.closed --dry-run",
	}
	c := apiFlags(cmd)
	addOutputFlag(cmd, &output, outText, "output: text, json or yaml")
	cmd.Flags().DurationVar(&since, "since", 6*time.Hour, "how far back to look")
	cmd.Flags().StringSliceVar(&events, "event", nil, "only these event types (repeat, or comma-separate): event or event.action")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be redelivered, and ask for nothing")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outText, []string{outText, "json", "yaml"})
		if err != nil {
			return err
		}
		var sum hooks.RecoverSummary
		req := map[string]any{"sources": args, "since": since.String(), "events": events, "dry_run": dryRun}
		if err := streamHooksRequest(cmd, c, "/api/v1/hooks/redeliver", req, &sum); err != nil {
			return err
		}
		err = show(cmd.OutOrStdout(), format, view{data: sum, text: func(w io.Writer) error {
			verb := "redelivered"
			if sum.DryRun {
				verb = "would redeliver"
			}
			for _, e := range sum.Errors {
				fmt.Fprintf(w, "! %s\n", e)
			}
			_, err := fmt.Fprintf(w, "%d hooks: %d failed deliveries found, %d already present, %d %s, %d refused by the provider.\n",
				sum.Hooks, sum.Found, sum.Present, sum.Redelivered, verb, sum.Failed)
			return err
		}})
		if err == nil && (sum.Failed > 0 || len(sum.Errors) > 0) {
			return fmt.Errorf("%d redeliveries failed, %d errors", sum.Failed, len(sum.Errors))
		}
		return err
	}
	return cmd
}

func newHooksListCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list [SOURCE...]",
		Short: "List this Reflex's hooks at the providers, with their last delivery",
		Long: `List, at every repository (project, organization) the sources declare, the
hooks whose URL is this Reflex's: their id, events, whether they are active, and
the status of their last delivery where the provider reports it. -o table, json
or yaml.`,
		Example: "  reflex hooks list\n  reflex hooks list acme-github -o json",
	}
	c := apiFlags(cmd)
	addOutputFlag(cmd, &output, "table", "output: table, json or yaml")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, "table", []string{"table", "json", "yaml"})
		if err != nil {
			return err
		}
		var listed []hooks.Listed
		if err := streamHooks(cmd, c, "/api/v1/hooks/list", args, &listed); err != nil {
			return err
		}
		return show(cmd.OutOrStdout(), format, view{data: listed, table: func() (table, error) {
			t := table{header: []string{"target", "source", "id", "events", "active", "last delivery"}}
			for _, l := range listed {
				t.rows = append(t.rows, []string{l.Target.String(), l.Source, l.Hook.ID, strings.Join(l.Hook.Events, ","), fmt.Sprint(l.Hook.Active), cmp.Or(l.Hook.LastStatus, "-")})
			}
			return t, nil
		}})
	}
	return cmd
}

func newHooksPingCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "ping [SOURCE...]",
		Short: "Ask the providers for a test delivery of each hook",
		Long: `Ask each provider whose API can (GitHub, GitLab, Gitea) to send a test
delivery to every hook of this Reflex the sources declare. The deliveries then
arrive like any other: a GitHub ping is answered "pong".`,
		Example: "  reflex hooks ping acme-github",
	}
	c := apiFlags(cmd)
	addOutputFlag(cmd, &output, outText, "output: text, json or yaml")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outText, []string{outText, "json", "yaml"})
		if err != nil {
			return err
		}
		var pinged []hooks.Pinged
		if err := streamHooks(cmd, c, "/api/v1/hooks/ping", args, &pinged); err != nil {
			return err
		}
		failed := 0
		err = show(cmd.OutOrStdout(), format, view{data: pinged, text: func(w io.Writer) error {
			for _, p := range pinged {
				if p.Error != "" {
					fmt.Fprintf(w, "! %s: hook %s of %s: %s\n", p.Target, p.HookID, p.Source, p.Error)
					continue
				}
				fmt.Fprintf(w, "%s: hook %s of %s: test delivery asked for\n", p.Target, p.HookID, p.Source)
			}
			return nil
		}})
		for _, p := range pinged {
			if p.Error != "" {
				failed++
			}
		}
		if err == nil && failed > 0 {
			return fmt.Errorf("%d of %d hooks could not be pinged", failed, len(pinged))
		}
		return err
	}
	return cmd
}

func newHooksSetupCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "setup SOURCE",
		Short: "Print how to configure a source's webhook by hand",
		Long: `Print what to configure at the provider for SOURCE's webhook, for a provider
whose API Reflex cannot configure (Docker Hub) or a source that declares no
hooks: the URL, the setup steps and the events to tick. For a provider that
signs nothing (Docker Hub, Quay, Jenkins) the URL ends in the source's secret,
and only a key allowed to read the source's secrets gets it: treat the output
as a secret.`,
		Example: "  reflex hooks setup acme-dockerhub",
		Args:    cobra.ExactArgs(1),
	}
	c := apiFlags(cmd)
	addOutputFlag(cmd, &output, outText, "output: text, json or yaml")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outText, []string{outText, "json", "yaml"})
		if err != nil {
			return err
		}
		var ans struct {
			Source    string   `json:"source"`
			Connector string   `json:"connector"`
			Provider  string   `json:"provider"`
			URL       string   `json:"url"`
			Token     bool     `json:"token"`
			Setup     string   `json:"setup"`
			Events    []string `json:"events"`
		}
		if _, err := c.do(cmd.Context(), http.MethodGet, "/api/v1/hooks/setup/"+url.PathEscape(args[0]), nil, nil, &ans); err != nil {
			return err
		}
		return show(cmd.OutOrStdout(), format, view{data: ans, text: func(w io.Writer) error {
			fmt.Fprintf(w, "Source %s (%s: %s)\n", ans.Source, ans.Connector, ans.Provider)
			fmt.Fprintf(w, "  URL:     %s\n", ans.URL)
			if ans.Token {
				fmt.Fprintln(w, "           (it ends in the source's secret: keep it as one)")
			}
			if ans.Setup != "" {
				fmt.Fprintf(w, "  Setup:   %s\n", ans.Setup)
			}
			_, err := fmt.Fprintf(w, "  Events:  %s\n", strings.Join(ans.Events, ", "))
			return err
		}})
	}
	return cmd
}

// addOutputFlag registers -o/--output with its default, and --json, which
// is -o json.
func addOutputFlag(cmd *cobra.Command, output *string, def, help string) {
	cmd.Flags().StringVarP(output, "output", "o", def, help)
	asJSON := cmd.Flags().Bool("json", false, "print JSON (as -o json), for scripts")
	cmd.MarkFlagsMutuallyExclusive("json", "output")
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if *asJSON {
			*output = "json"
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}
