package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registry"
)

// connectorInfo is what `reflex connectors` shows of one connector.
type connectorInfo struct {
	Name string `json:"name"`
	connectors.Description
	// URLs are the addresses to give the provider: one per source of the
	// configuration that uses the connector, else a pattern.
	URLs []string `json:"urls"`
	// Settings is the JSON Schema of the connector's per-source settings,
	// absent when it takes none.
	Settings json.RawMessage `json:"settings,omitempty"`
}

func newConnectorsCmd() *cobra.Command {
	var (
		output, base, file string
		asJSON             bool
	)
	cmd := &cobra.Command{
		Use:   "connectors [NAME]",
		Short: "List the providers Reflex verifies, how, the URL to give each, and the events it normalizes",
		Long: `List every connector: the provider it stands for, how a delivery is
verified and de-duplicated, the URL to give the provider, and the events it
normalizes. With NAME, show one in full, with the settings a source of it
takes. With --config, the URLs are those of the file's sources.`,
		Example: `  reflex connectors
  reflex connectors gitlab --url https://reflex.example.com --config reflex.yaml
  reflex connectors --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				output = outJSON
			}
			format, err := outputFormat(output, outText, reportFormats)
			if err != nil {
				return err
			}
			infos, err := connectorInfos(args, base, file)
			if err != nil {
				return err
			}
			var data any = infos
			if len(args) == 1 {
				data = infos[0]
			}
			return show(cmd.OutOrStdout(), format, view{
				data:  data,
				table: func() (table, error) { return connectorsTable(infos), nil },
				text: func(w io.Writer) error {
					if len(args) == 1 {
						return printConnector(w, infos[0])
					}
					return connectorsTable(infos).print(w)
				},
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&base, "url", "https://reflex.example.com", "Reflex's public base URL, as providers reach it")
	fl.StringVar(&file, "config", "", "a configuration file whose sources to show the URLs of")
	fl.StringVarP(&output, "output", "o", "", "output: text, json, yaml or table")
	fl.BoolVar(&asJSON, "json", false, "print as JSON (-o json)")
	return cmd
}

// connectorInfos describes the connectors named (all when none).
func connectorInfos(names []string, base, file string) ([]connectorInfo, error) {
	var cfg *config.Config
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		// Only the sources' names and connectors are needed: their
		// secrets stay unresolved.
		if cfg, err = config.Parse(raw); err != nil {
			return nil, fmt.Errorf("config %s: %w", file, err)
		}
	}
	if len(names) == 0 {
		names = registry.Names()
	}
	out := make([]connectorInfo, 0, len(names))
	for _, name := range names {
		conn, err := registry.Lookup(name)
		if err != nil {
			return nil, err
		}
		info := connectorInfo{Name: name}
		if d, ok := conn.(connectors.Describer); ok {
			info.Description = d.Describe()
		}
		if schema, _ := registry.SettingsSchema(name); schema != "" {
			info.Settings = json.RawMessage(schema)
		}
		hooks := strings.TrimRight(base, "/") + "/hooks/"
		if cfg != nil {
			for _, s := range cfg.Sources {
				if s.Connector == name {
					u := hooks + url.PathEscape(s.Name)
					if c, err := registry.Configure(name, s.Settings); err == nil && takesPathToken(c) {
						u += "/<secret>"
					}
					info.URLs = append(info.URLs, u)
				}
			}
		}
		if len(info.URLs) == 0 {
			u := hooks + "<source>"
			if takesPathToken(conn) {
				u += "/<secret>"
			}
			info.URLs = []string{u}
		}
		out = append(out, info)
	}
	return out, nil
}

func connectorsTable(infos []connectorInfo) table {
	t := table{header: []string{"connector", "verified by", "url", "events"}}
	for _, in := range infos {
		types := make([]string, len(in.Events))
		for i, e := range in.Events {
			types[i] = e.Type
		}
		t.rows = append(t.rows, []string{in.Name, in.Scheme, strings.Join(in.URLs, " "), strings.Join(types, ", ")})
	}
	return t
}

// printConnector writes one connector's description for a person.
func printConnector(w io.Writer, in connectorInfo) error {
	fmt.Fprintf(w, "%s: %s\n\n", in.Name, in.Provider)
	fmt.Fprintf(w, "Verification:  %s\n", in.Verification)
	fmt.Fprintf(w, "Delivery id:   %s\n", in.DeliveryID)
	if in.Setup != "" {
		fmt.Fprintf(w, "At the provider: %s\n", in.Setup)
	}
	fmt.Fprintf(w, "URL:           %s\n", strings.Join(in.URLs, "\n               "))
	if len(in.Settings) > 0 {
		var schema struct {
			Properties map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(in.Settings, &schema); err == nil && len(schema.Properties) > 0 {
			fmt.Fprintln(w, "\nSettings (under a source's settings:):")
			t := table{header: []string{"setting", "meaning"}}
			for _, name := range sortedKeys(schema.Properties) {
				t.rows = append(t.rows, []string{name, schema.Properties[name].Description})
			}
			if err := t.print(w); err != nil {
				return err
			}
		}
	}
	fmt.Fprintln(w, "\nEvents:")
	t := table{header: []string{"type", "kinds", "note"}}
	for _, e := range in.Events {
		t.rows = append(t.rows, []string{e.Type, strings.Join(e.Kinds, ", "), e.Note})
	}
	if err := t.print(w); err != nil {
		return err
	}
	if len(in.Docs) > 0 {
		fmt.Fprintf(w, "\nProvider docs:\n  %s\n", strings.Join(in.Docs, "\n  "))
	}
	return nil
}

// takesPathToken reports whether a connector's URL ends in the source's
// secret, which is never printed: "<secret>" stands for it.
func takesPathToken(c connectors.Connector) bool {
	t, ok := c.(connectors.PathTokenTaker)
	return ok && t.TakesPathToken()
}
