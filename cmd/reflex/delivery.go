package main

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

func newDeliveryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delivery",
		Short: "Watch and steer deliveries on a running Reflex",
		Long: `List and inspect deliveries (their deployment records), run a failed one again,
or cancel one that has not started. The server is --url (REFLEX_URL), the
key REFLEX_APIKEY.

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
	cmd.AddCommand(list, get,
		operate("retry", "Run a failed, refused or cancelled delivery again"),
		operate("cancel", "Cancel a delivery that has not started"))
	return cmd
}
