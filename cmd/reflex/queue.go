package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func newQueueCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "Watch and steer the job queues of a running Reflex",
		Long: `Show the job queues (events, deliveries, …) with their figures, list the jobs
of one queue by state, run an archived or retrying job again, delete or
archive one, and pause or resume a queue. The server is --url (REFLEX_URL),
the key REFLEX_APIKEY: reading needs read on events, acting write on events.

A job is named by its queue and its id, as queue ls prints them: an event's
job is "source/delivery-id" (a replay's ends in "/replay-N").

-o json or yaml prints the server's answer as data, for scripts; the
default is a table. Every command exits 0 when it did what it was asked and
1 otherwise, with a one-line message on stderr.`,
	}
	c := apiFlags(cmd)
	var output string
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "", "output: table (default), json or yaml")
	format := func() (string, error) { return outputFormat(output, outTable, objectFormats) }

	var watch struct {
		on       bool
		interval time.Duration
	}
	stats := &cobra.Command{
		Use: "stats", Short: "Show each queue's figures; --watch redraws them", Args: cobra.NoArgs,
		Long: `Show a table of the queues: the jobs each holds (SIZE: pending, active,
scheduled, retry and archived together), the jobs processed and failed
today (UTC), how long its oldest pending job has waited (LATENCY), and
whether it is paused.

--watch fetches the figures again every --interval until interrupted. On a
terminal the table is redrawn in place (the screen is cleared and the
cursor sent home before each); when stdout is not a terminal, each table
follows the previous one after a blank line, and -o json prints one JSON
array per line, so the output can be logged or piped.`,
		Example: "  reflex queue stats\n  reflex queue stats --watch --interval 5s\n  reflex queue stats -o json",
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := format()
			if err != nil {
				return err
			}
			if !watch.on {
				return showStats(cmd.Context(), c, cmd.OutOrStdout(), f)
			}
			if watch.interval < 100*time.Millisecond {
				return fmt.Errorf("--interval %s: want at least 100ms", watch.interval)
			}
			return watchStats(cmd.Context(), c, cmd.OutOrStdout(), cmd.ErrOrStderr(), f, watch.interval)
		},
	}
	stats.Flags().BoolVarP(&watch.on, "watch", "w", false, "fetch and show the figures again every --interval until interrupted")
	stats.Flags().DurationVar(&watch.interval, "interval", 2*time.Second, "how often --watch fetches the figures")

	var (
		state string
		limit int
		page  int
	)
	ls := &cobra.Command{
		Use: "ls QUEUE", Short: "List a queue's jobs in one state", Args: cobra.ExactArgs(1),
		Long: `List one page of a queue's jobs in one state: pending (the default), active,
scheduled, retry, archived or completed. A job shows its id, type, state,
retries, the event it processes (an event's job) and its last error; never
its payload. When more jobs follow, stderr says which --page shows them.`,
		Example: "  reflex queue ls events\n  reflex queue ls deliveries --state archived -o json",
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := format()
			if err != nil {
				return err
			}
			if limit < 1 || limit > 1000 || page < 1 {
				return fmt.Errorf("--limit %d --page %d: want a limit from 1 to 1000 and a page from 1", limit, page)
			}
			q := url.Values{"state": {state}, "limit": {strconv.Itoa(limit)}, "page": {strconv.Itoa(page)}}
			var raw []json.RawMessage
			h, err := c.do(cmd.Context(), http.MethodGet, queuePath(args[0])+"/jobs?"+q.Encode(), nil, nil, &raw)
			if err != nil {
				return err
			}
			if linkNext(h) != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "reflex: more follow: add --page %d\n", page+1)
			}
			return show(cmd.OutOrStdout(), f, view{data: raw, table: func() (table, error) { return jobsTable(raw) }})
		},
	}
	ls.Flags().StringVar(&state, "state", "pending", "the jobs' state: pending, active, scheduled, retry, archived or completed")
	ls.Flags().IntVar(&limit, "limit", 50, "how many jobs to show (1-1000)")
	ls.Flags().IntVar(&page, "page", 1, "which page of --limit jobs to show")

	get := &cobra.Command{
		Use: "get QUEUE ID", Short: "Show one job", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := format()
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if _, err := c.do(cmd.Context(), http.MethodGet, jobPath(args[0], args[1]), nil, nil, &raw); err != nil {
				return err
			}
			return show(cmd.OutOrStdout(), f, view{data: raw, table: func() (table, error) { return jobsTable([]json.RawMessage{raw}) }})
		},
	}
	act := func(use, short, example string, args int, path func([]string) string) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Example: example, Args: cobra.ExactArgs(args),
			RunE: func(cmd *cobra.Command, args []string) error {
				f, err := format()
				if err != nil {
					return err
				}
				var raw json.RawMessage
				if _, err := c.do(cmd.Context(), http.MethodPost, path(args), nil, []byte("{}"), &raw); err != nil {
					return err
				}
				return show(cmd.OutOrStdout(), f, view{data: raw, table: func() (table, error) { return answerTable(raw) }})
			},
		}
	}
	jobVerb := func(verb, short string) *cobra.Command {
		return act(verb+" QUEUE ID", short, "  reflex queue "+verb+" events acme-github/72d3162e-cc78-11e3-81ab-4c9367dc0958", 2,
			func(args []string) string { return jobPath(args[0], args[1]) + "/" + verb })
	}
	queueVerb := func(verb, short string) *cobra.Command {
		return act(verb+" QUEUE", short, "  reflex queue "+verb+" events", 1,
			func(args []string) string { return queuePath(args[0]) + "/" + verb })
	}
	cmd.AddCommand(stats, ls, get,
		jobVerb("retry", "Run an archived, retrying or scheduled job now"),
		jobVerb("delete", "Delete a job that is not running"),
		jobVerb("archive", "Archive a pending, scheduled or retrying job: it is kept, and not run"),
		queueVerb("pause", "Pause a queue: its workers take none of its jobs until it is resumed"),
		queueVerb("resume", "Resume a paused queue"))
	return cmd
}

// queuePath is the API path of a queue.
func queuePath(queue string) string { return "/api/v1/queues/" + url.PathEscape(queue) }

// jobPath is the API path of a job. Its id's "/" stays as it is: the
// route takes the rest of the path.
func jobPath(queue, id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return queuePath(queue) + "/jobs/" + strings.Join(parts, "/")
}

// statsColumns are the fields of a queue's figures that stats shows, in
// order, with their headers.
var statsColumns = [][2]string{
	{"queue", "queue"}, {"size", "size"}, {"pending", "pending"}, {"active", "active"}, {"scheduled", "scheduled"},
	{"retry", "retry"}, {"archived", "archived"}, {"processed_today", "processed"}, {"failed_today", "failed"},
	{"latency_ms", "latency"}, {"paused", "paused"},
}

// statsTable is the table of the queues' figures.
func statsTable(raw []json.RawMessage) (table, error) {
	var t table
	for _, c := range statsColumns {
		t.header = append(t.header, c[1])
	}
	for _, r := range raw {
		q, err := asObject(r)
		if err != nil {
			return table{}, err
		}
		row := make([]string, len(statsColumns))
		for i, c := range statsColumns {
			row[i] = cell(q[c[0]])
		}
		if ms, ok := q["latency_ms"].(float64); ok {
			row[9] = (time.Duration(ms) * time.Millisecond).String()
		}
		t.rows = append(t.rows, row)
	}
	return t, nil
}

// fetchStats reads the queues' figures.
func fetchStats(ctx context.Context, c *apiClient) ([]json.RawMessage, error) {
	var raw []json.RawMessage
	_, err := c.do(ctx, http.MethodGet, "/api/v1/queues", nil, nil, &raw)
	return raw, err
}

// showStats prints the queues' figures once.
func showStats(ctx context.Context, c *apiClient, w io.Writer, format string) error {
	raw, err := fetchStats(ctx, c)
	if err != nil {
		return err
	}
	if len(raw) == 0 && format == outTable {
		_, err := fmt.Fprintln(w, "no queues yet: they appear with their first job")
		return err
	}
	return show(w, format, view{data: raw, table: func() (table, error) { return statsTable(raw) }})
}

// clearScreen sends the cursor home and clears the screen (ANSI), so a
// table drawn after it replaces the previous one without scrolling.
const clearScreen = "\x1b[H\x1b[2J"

// watchStats shows the figures every interval until interrupted (exit 0).
// A failure to fetch them ends the command at the first fetch, and is
// shown and tried again after it.
func watchStats(ctx context.Context, c *apiClient, w, errOut io.Writer, format string, interval time.Duration) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	redraw := format == outTable && isTerminal(w)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for frame := 0; ; frame++ {
		raw, err := fetchStats(ctx, c)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && frame == 0:
			return err
		case err != nil && redraw:
			fmt.Fprintf(w, "%sreflex: %s (trying again every %s)\n", clearScreen, oneLine(err), interval)
		case err != nil:
			fmt.Fprintf(errOut, "reflex: %s (trying again every %s)\n", oneLine(err), interval)
		default:
			if err := drawStats(w, format, raw, redraw, frame, interval); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// drawStats writes one frame of watchStats: on a terminal, over the
// previous one; elsewhere a table after a blank line, or one JSON line.
func drawStats(w io.Writer, format string, raw []json.RawMessage, redraw bool, frame int, interval time.Duration) error {
	switch {
	case format == outJSON:
		_, err := fmt.Fprintln(w, compactJSON(raw))
		return err
	case format != outTable:
		if frame > 0 {
			fmt.Fprintln(w, "---")
		}
		return show(w, format, view{data: raw})
	}
	t, err := statsTable(raw)
	if err != nil {
		return err
	}
	var b strings.Builder
	if redraw {
		fmt.Fprintf(&b, "%sEvery %s: reflex queue stats    %s\n\n", clearScreen, interval, time.Now().Format(time.TimeOnly))
	} else if frame > 0 {
		b.WriteString("\n")
	}
	if err := t.print(&b); err != nil {
		return err
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// answerTable is the table of an operation's answer: its status, the
// queue, and the job when it was about one.
func answerTable(raw json.RawMessage) (table, error) {
	var a struct{ Status, Queue, ID string }
	if err := json.Unmarshal(raw, &a); err != nil {
		return table{}, fmt.Errorf("decode the answer: %w", err)
	}
	if a.ID == "" {
		return table{header: []string{"status", "queue"}, rows: [][]string{{a.Status, a.Queue}}}, nil
	}
	return table{header: []string{"status", "queue", "id"}, rows: [][]string{{a.Status, a.Queue, a.ID}}}, nil
}

// jobRow is a job as a table shows it.
type jobRow struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	State     string `json:"state"`
	Retried   int    `json:"retried"`
	MaxRetry  int    `json:"max_retry"`
	LastError string `json:"last_error"`
	Next      string `json:"next_process_at"`
	Event     *struct {
		Kind string `json:"kind"`
	} `json:"event"`
}

// jobsTable is the table of a list of jobs.
func jobsTable(raw []json.RawMessage) (table, error) {
	t := table{header: []string{"id", "type", "state", "retried", "event", "next", "last_error"}}
	for _, r := range raw {
		var j jobRow
		if err := json.Unmarshal(r, &j); err != nil {
			return table{}, fmt.Errorf("decode a job: %w", err)
		}
		ev, next := "-", "-"
		if j.Event != nil && j.Event.Kind != "" {
			ev = j.Event.Kind
		}
		if j.Next != "" && (j.State == "scheduled" || j.State == "retry") {
			next = j.Next
		}
		lastErr := "-"
		if j.LastError != "" {
			lastErr = oneLineText(j.LastError, 80)
		}
		t.rows = append(t.rows, []string{j.ID, j.Type, j.State, fmt.Sprintf("%d/%d", j.Retried, j.MaxRetry), ev, next, lastErr})
	}
	return t, nil
}

// oneLineText keeps text on one line of at most width characters.
func oneLineText(text string, width int) string {
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return text
}
