package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

func newAgentsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agents",
		Short: "List the agents of a running Reflex, and add or remove their keys",
		Long: `List the agents that use Reflex's agent API (their agent objects: zone, status,
version, last seen, jobs running), give a new agent its key, or remove one.
An agent's key is an API key of kind agent, bound to one zone: it names the
agent, and lets it take that zone's jobs only. The server is --url
(REFLEX_URL), the operator's key REFLEX_APIKEY.

-o json, yaml or table prints any answer in that form.`,
		Args: cobra.NoArgs,
	}
	c := apiFlags(cmd)
	var output string
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "", "output: json, yaml or table (default: table; for add, the key as a line for the agent's environment)")
	var (
		pages        pageFlags
		zone, status string
	)
	list := &cobra.Command{
		Use: "list", Short: "List the agents, by name", Args: cobra.NoArgs,
		Example: "  reflex agents list --zone production\n  reflex agents list --status lost -o json",
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(output, outTable, objectFormats)
			if err != nil {
				return err
			}
			q := url.Values{"cols": {"zone,status,version,last_seen,jobs"}}
			for k, v := range map[string]string{"zone": zone, "status": status} {
				if v != "" {
					q.Set(k, v)
				}
			}
			rows, err := pages.fetch(cmd.Context(), c, "/api/v1/agent/", q, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return showObjects(cmd.OutOrStdout(), format, rows)
		},
	}
	pages.register(list, "agents")
	list.Flags().StringVar(&zone, "zone", "", "only this zone's agents")
	list.Flags().StringVar(&status, "status", "", "only agents in this status: connected, disconnected or lost")
	cmd.RunE = list.RunE // "reflex agents" lists them
	cmd.Flags().AddFlagSet(list.Flags())

	var addZone, description string
	var groups []string
	add := &cobra.Command{
		Use: "add NAME --zone ZONE", Short: "Create an agent's key, bound to a zone; it is shown once", Args: cobra.ExactArgs(1),
		Example: "  reflex agents add agent-1 --zone production --group prod-agents",
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(output, outText, reportFormats)
			if err != nil {
				return err
			}
			doc := map[string]any{"name": args[0], "kind": "agent", "zone": addZone}
			if description != "" {
				doc["description"] = description
			}
			if len(groups) > 0 {
				doc["groups"] = groups
			}
			body, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			if format != outText {
				return write(cmd, c, http.MethodPost, "/api/v1/apikey", nil, body, format)
			}
			var answer struct {
				Key string `json:"key"`
			}
			if _, err := c.do(cmd.Context(), http.MethodPost, "/api/v1/apikey", nil, body, &answer); err != nil {
				return err
			}
			if answer.Key == "" {
				return errors.New("the server created the key but answered no secret")
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Agent %s may now take the jobs of zone %s. Its key is shown only this once;\ngive it to the agent (its environment, or a file for --apikey-file):\n", args[0], addZone)
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "REFLEX_APIKEY=%s\n", answer.Key)
			return err
		},
	}
	add.Flags().StringVar(&addZone, "zone", "", "the zone whose jobs the agent takes (required)")
	add.Flags().StringVar(&description, "description", "", "what the agent is, for people")
	add.Flags().StringSliceVar(&groups, "group", nil, "a group the agent belongs to, which policies see (repeatable)")
	_ = add.MarkFlagRequired("zone")

	remove := &cobra.Command{
		Use: "remove NAME", Short: "Revoke an agent's key at once, and forget the agent", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(output, outTable, objectFormats)
			if err != nil {
				return err
			}
			if err := write(cmd, c, http.MethodDelete, objectPath("apikey", args[0]), nil, nil, format); err != nil {
				return err
			}
			_, err = c.do(cmd.Context(), http.MethodDelete, objectPath("agent", args[0]), nil, nil, nil)
			var ae *apiError
			if errors.As(err, &ae) && ae.status == http.StatusNotFound {
				return nil // it never connected
			}
			return err
		},
	}
	cmd.AddCommand(list, add, remove)
	return cmd
}
