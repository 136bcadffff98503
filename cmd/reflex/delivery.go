package main

import (
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
key REFLEX_APIKEY.`,
	}
	c := apiFlags(cmd)
	var output string
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "", "output: table or json")
	list := &cobra.Command{
		Use: "list", Short: "List deliveries", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rows []map[string]any
			if _, err := c.do(cmd.Context(), http.MethodGet, "/api/v1/deployment/?cols=service,zone,status,release,queued_at", nil, nil, &rows); err != nil {
				return err
			}
			return render(cmd.OutOrStdout(), output, "table", rows)
		},
	}
	get := &cobra.Command{
		Use: "get ID", Short: "Show a delivery: its status, attempts and output", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rec map[string]any
			if _, err := c.do(cmd.Context(), http.MethodGet, objectPath("deployment", args[0]), nil, nil, &rec); err != nil {
				return err
			}
			return render(cmd.OutOrStdout(), output, "json", rec)
		},
	}
	operate := func(verb, short string) *cobra.Command {
		return &cobra.Command{
			Use: verb + " ID", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				var out map[string]any
				if _, err := c.do(cmd.Context(), http.MethodPost, "/api/v1/deliveries/"+url.PathEscape(args[0])+"/"+verb, nil, []byte("{}"), &out); err != nil {
					return err
				}
				return render(cmd.OutOrStdout(), output, "table", out)
			},
		}
	}
	cmd.AddCommand(list, get,
		operate("retry", "Run a failed, refused or cancelled delivery again"),
		operate("cancel", "Cancel a delivery that has not started"))
	return cmd
}
