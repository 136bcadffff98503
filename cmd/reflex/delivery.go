package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

func newDeliveryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delivery",
		Short: "Watch and steer deliveries on a running Reflex",
		Long: `List and inspect deliveries (their deployment records), follow the output of
one that runs, run a failed one again, or cancel one. The server is --url
(REFLEX_URL), the key REFLEX_APIKEY.

-o json, yaml or table prints any answer in that form: list, retry and
cancel default to a table, get to JSON.`,
	}
	c := apiFlags(cmd)
	var output string
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "", "output: json, yaml or table (default: table for list, retry and cancel, json for get)")
	var (
		pages                 pageFlags
		service, zone, status string
	)
	list := &cobra.Command{
		Use: "list", Short: "List deliveries, newest first", Args: cobra.NoArgs,
		Example: "  reflex delivery list --service bct-prod --status failed\n  reflex delivery list --zone production --all -o json",
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(output, outTable, objectFormats)
			if err != nil {
				return err
			}
			q := url.Values{"cols": {"service,zone,status,release,queued_at"}}
			for k, v := range map[string]string{"service": service, "zone": zone, "status": status} {
				if v != "" {
					q.Set(k, v)
				}
			}
			rows, err := pages.fetch(cmd.Context(), c, "/api/v1/deployment/", q, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return showObjects(cmd.OutOrStdout(), format, rows)
		},
	}
	pages.register(list, "deliveries")
	list.Flags().StringVar(&service, "service", "", "only this service's deliveries")
	list.Flags().StringVar(&zone, "zone", "", "only this zone's deliveries")
	list.Flags().StringVar(&status, "status", "", "only deliveries in this status (queued, running, succeeded, failed, …)")
	get := &cobra.Command{
		Use: "get ID", Short: "Show a delivery: its status, attempts and output", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(output, outJSON, objectFormats)
			if err != nil {
				return err
			}
			var rec json.RawMessage
			if _, err := c.do(cmd.Context(), http.MethodGet, objectPath("deployment", args[0]), nil, nil, &rec); err != nil {
				return err
			}
			return showObject(cmd.OutOrStdout(), format, rec)
		},
	}
	operate := func(verb, short string) *cobra.Command {
		return &cobra.Command{
			Use: verb + " ID", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				format, err := outputFormat(output, outTable, objectFormats)
				if err != nil {
					return err
				}
				return write(cmd, c, http.MethodPost, "/api/v1/deliveries/"+url.PathEscape(args[0])+"/"+verb, nil, []byte("{}"), format)
			},
		}
	}
	var follow bool
	outputCmd := &cobra.Command{
		Use: "output ID", Short: "Print the output of a delivery's last attempt, as its agent sends it", Args: cobra.ExactArgs(1),
		Example: "  reflex delivery output d-4f1c… --follow",
		RunE: func(cmd *cobra.Command, args []string) error {
			return printOutput(cmd, c, args[0], follow)
		},
	}
	outputCmd.Flags().BoolVar(&follow, "follow", false, "keep printing the output as it comes, until the delivery ends")
	cmd.AddCommand(list, get, outputCmd,
		operate("retry", "Run a failed, refused or cancelled delivery again"),
		operate("cancel", "Cancel a delivery: one not started ends at once, a running one is stopped by its agent"))
	return cmd
}

// printOutput prints a delivery's output; with follow, what comes after
// too, once a second, until the delivery ends.
func printOutput(cmd *cobra.Command, c *apiClient, id string, follow bool) error {
	printed := 0
	for {
		resp, err := c.send(cmd.Context(), http.MethodGet, "/api/v1/deliveries/"+url.PathEscape(id)+"/output", nil, nil)
		if err != nil {
			return err
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("read the output: %w", err)
		}
		if resp.StatusCode >= 400 {
			var e struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(raw, &e)
			return &apiError{status: resp.StatusCode, message: e.Message}
		}
		if len(raw) < printed {
			printed = 0 // a new attempt
		}
		if _, err := cmd.OutOrStdout().Write(raw[printed:]); err != nil {
			return err
		}
		printed = len(raw)
		if !follow {
			return nil
		}
		var rec struct {
			Status string `json:"status"`
		}
		if _, err := c.do(cmd.Context(), http.MethodGet, objectPath("deployment", id), nil, nil, &rec); err != nil {
			return err
		}
		switch rec.Status {
		case "succeeded", "failed", "refused", "cancelled", "superseded":
			return nil
		}
		select {
		case <-cmd.Context().Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}
