package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
)

// newEventsReplayCmd is `reflex events replay`, on the events command's
// client and -o.
func newEventsReplayCmd(c *apiClient, output *string) *cobra.Command {
	var source string
	cmd := &cobra.Command{
		Use: "replay ID", Short: "Process a stored event again", Args: cobra.ExactArgs(1),
		Long: `Process a stored event again: a fresh job on the events queue applies it to
live state and evaluates the triggers as they are now, as if it had just
arrived, without the provider sending it again. A delivery the event made
before is not made twice (reflex delivery retry runs one again); a trigger
that matches now and has no delivery for the event makes one. The event
records its replays (replays, replayed_at).

Refused (exit 1) for an event denied by policy, and while the event's job
is queued, running or waiting for a retry. Needs write on events.`,
		Example: "  reflex events replay 72d3162e-cc78-11e3-81ab-4c9367dc0958 --source acme-github",
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(*output, outTable, objectFormats)
			if err != nil {
				return err
			}
			path := "/api/v1/events/" + url.PathEscape(args[0]) + "/replay?" + eventQuery(source, "").Encode()
			var raw json.RawMessage
			if _, err := c.do(cmd.Context(), http.MethodPost, path, nil, []byte("{}"), &raw); err != nil {
				return err
			}
			return show(cmd.OutOrStdout(), format, view{data: raw, table: func() (table, error) {
				var a struct {
					Status, ID, Source, Queue, Job string
					Replays                        int
				}
				if err := json.Unmarshal(raw, &a); err != nil {
					return table{}, fmt.Errorf("decode the answer: %w", err)
				}
				return table{header: []string{"status", "id", "source", "replays", "queue", "job"},
					rows: [][]string{{a.Status, a.ID, a.Source, strconv.Itoa(a.Replays), a.Queue, a.Job}}}, nil
			}})
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "the source, when two sources received the same id")
	return cmd
}
