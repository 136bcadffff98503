package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/event"
)

// feedItem is one item of GET /api/v1/events/feed.
type feedItem struct {
	Type    string       `json:"type"`
	Outcome string       `json:"outcome"`
	Event   *event.Event `json:"event,omitempty"`
	Intake  *struct {
		At         time.Time `json:"at"`
		Source     string    `json:"source"`
		Connector  string    `json:"connector"`
		ID         string    `json:"id"`
		Type       string    `json:"type"`
		Kind       string    `json:"kind"`
		Repository string    `json:"repository"`
		Reason     string    `json:"reason"`
		Status     int       `json:"status"`
		Message    string    `json:"message"`
	} `json:"intake,omitempty"`
}

func newEventsTailCmd(c *apiClient, output *string) *cobra.Command {
	var source, outcome, repository, kind string
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Follow the deliveries that arrive, live",
		Long: `Print each delivery as it arrives, until interrupted: accepted and denied
events (again when their processing ends), duplicates, and deliveries refused
before they were decided (unknown source, bad signature, too large…) with the
reason. Filters keep only one source, outcome (accepted, denied, duplicate,
refused), repository or event kind. With -o json, one JSON object per line.
A dropped connection is opened again; what arrived meanwhile is in
"reflex events list".`,
		Example: "  reflex events tail\n  reflex events tail --source acme-github --outcome refused\n  reflex events tail -o json | jq .event.id",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := outputFormat(*output, outTable, []string{outTable, outJSON})
			if err != nil {
				return err
			}
			q := url.Values{}
			for k, v := range map[string]string{"source": source, "outcome": outcome, "repository": repository, "kind": kind} {
				if v != "" {
					q.Set(k, v)
				}
			}
			w := cmd.OutOrStdout()
			return followStream(cmd.Context(), c, "/api/v1/events/feed?"+q.Encode(), cmd.ErrOrStderr(), stream{
				header:  func() http.Header { return http.Header{"Accept": {"text/event-stream"}} },
				started: func() string { return "following new deliveries (Ctrl-C stops)" },
				read: func(body io.Reader) error {
					return readSSE(body, func(_, name, data string) error {
						if name == "error" {
							return fmt.Errorf("the server ended the feed: %s", data)
						}
						return printFeedItem(w, out, data)
					})
				},
			})
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "only this source's deliveries")
	cmd.Flags().StringVar(&outcome, "outcome", "", "only this outcome: accepted, denied, duplicate or refused")
	cmd.Flags().StringVar(&repository, "repository", "", "only this repository's events")
	cmd.Flags().StringVar(&kind, "kind", "", "only this kind of event (code.pushed, artifact.published, …)")
	return cmd
}

// printFeedItem prints one feed item: its JSON as it came, or a line
// whose first columns have fixed widths, so lines printed one at a time
// line up.
func printFeedItem(w io.Writer, output, data string) error {
	if output == outJSON {
		_, err := fmt.Fprintf(w, "%s\n", unescapeHTML([]byte(data)))
		return err
	}
	var it feedItem
	if err := json.Unmarshal([]byte(data), &it); err != nil {
		return fmt.Errorf("decode a feed item: %w", err)
	}
	var cols []string
	switch {
	case it.Event != nil:
		ev := it.Event
		repo := ""
		if ev.Repository != nil {
			repo = ev.Repository.Name
		} else if ev.Artifact != nil {
			repo = ev.Artifact.Repository
		}
		cols = []string{ev.ReceivedAt.UTC().Format(time.RFC3339), it.Outcome, ev.Source, ev.Type, string(ev.Kind),
			cmp.Or(repo, "-"), cmp.Or(ev.Branch, ev.Tag, ev.Ref, "-"), ev.ID, string(ev.Status) + errorNote(ev.Error)}
	case it.Intake != nil:
		e := it.Intake
		detail := e.Reason
		if e.Message != "" {
			detail += ": " + e.Message
		}
		cols = []string{e.At.UTC().Format(time.RFC3339), it.Outcome, cmp.Or(e.Source, "(unknown source)"), cmp.Or(e.Type, "-"),
			cmp.Or(e.Kind, "-"), cmp.Or(e.Repository, "-"), "-", cmp.Or(e.ID, "-"), cmp.Or(detail, "-")}
	default:
		return nil
	}
	widths := []int{20, 9, 16, 16, 20, 24, 12, 0, 0}
	for i, col := range cols {
		if widths[i] > 0 {
			cols[i] = fmt.Sprintf("%-*s", widths[i], col)
		}
	}
	_, err := fmt.Fprintln(w, strings.TrimRight(strings.Join(cols, " "), " "))
	return err
}

// errorNote is an event's error, as a suffix.
func errorNote(msg string) string {
	if msg == "" {
		return ""
	}
	return " (" + msg + ")"
}
