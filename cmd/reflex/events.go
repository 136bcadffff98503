package main

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

func newEventsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List and show received events on a running Reflex",
		Long: `List the events Reflex received, newest first, or show one: its normalized
fields, where its processing stands (status, attempts, error), the triggers
that could not decide on it (trigger_errors) and the decisions made about
it. The server is --url (REFLEX_URL), the key REFLEX_APIKEY.`,
	}
	c := apiFlags(cmd)
	var output string
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "", "output: json, yaml or table (default: table for list, json for get)")

	var (
		pages  pageFlags
		source string
		format string
	)
	list := &cobra.Command{
		Use: "list", Short: "List events, newest first", Args: cobra.NoArgs,
		Example: "  reflex events list --source acme-github --limit 20\n  reflex events list --all --format cloudevents -o json",
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := outputFormat(output, outTable, objectFormats)
			if err != nil {
				return err
			}
			rows, err := pages.fetch(cmd.Context(), c, "/api/v1/events", eventQuery(source, format), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if out == outTable {
				rows = eventRows(rows)
			}
			return showObjects(cmd.OutOrStdout(), out, rows)
		},
	}
	pages.register(list, "events")
	list.Flags().StringVar(&source, "source", "", "only this source's events")
	list.Flags().StringVar(&format, "format", "", "reflex (default) or cloudevents")

	get := &cobra.Command{
		Use: "get ID", Short: "Show one event, with its decisions", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := outputFormat(output, outJSON, objectFormats)
			if err != nil {
				return err
			}
			var ev json.RawMessage
			path := "/api/v1/events/" + url.PathEscape(args[0]) + "?" + eventQuery(source, format).Encode()
			if _, err := c.do(cmd.Context(), http.MethodGet, path, nil, nil, &ev); err != nil {
				return err
			}
			return showObject(cmd.OutOrStdout(), out, ev)
		},
	}
	get.Flags().StringVar(&source, "source", "", "the source, when two sources received the same id")
	get.Flags().StringVar(&format, "format", "", "reflex (default) or cloudevents")
	cmd.AddCommand(list, get)
	cmd.AddCommand(newEventsReplayCmd(c, &output))
	cmd.AddCommand(newEventsTailCmd(c, &output))
	cmd.AddCommand(newEventsExplainCmd(c, &output))
	return cmd
}

// eventQuery is the query of an events request: the source and the format,
// when given.
func eventQuery(source, format string) url.Values {
	q := url.Values{}
	if source != "" {
		q.Set("source", source)
	}
	if format != "" {
		q.Set("format", format)
	}
	return q
}

// eventRows keeps the columns of an event that fit a table row.
func eventRows(rows []json.RawMessage) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(rows))
	for _, raw := range rows {
		var ev map[string]any
		if json.Unmarshal(raw, &ev) != nil {
			out = append(out, raw)
			continue
		}
		row := map[string]any{}
		for _, k := range []string{"id", "source", "type", "kind", "status", "received_at"} {
			if v, ok := ev[k]; ok {
				row[k] = v
			}
		}
		if errs, ok := ev["trigger_errors"].([]any); ok {
			row["trigger_errors"] = len(errs)
		}
		b, _ := json.Marshal(row)
		out = append(out, b)
	}
	return out
}
