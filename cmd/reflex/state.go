package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// objectInput is where a command reads an object document from.
type objectInput struct {
	content string
	file    string
}

func (in *objectInput) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&in.content, "content", "c", "", "the object as JSON")
	cmd.Flags().StringVarP(&in.file, "file", "f", "", "read the object from a JSON file (- for stdin)")
}

// read returns the document from -c, -f or a piped stdin, checked to be a
// JSON object.
func (in *objectInput) read(stdin io.Reader) ([]byte, error) {
	var raw []byte
	var err error
	switch {
	case in.content != "" && in.file != "":
		return nil, errors.New("give either -c or -f, not both")
	case in.content != "":
		raw = []byte(in.content)
	case in.file != "" && in.file != "-":
		if raw, err = os.ReadFile(in.file); err != nil {
			return nil, fmt.Errorf("read the object: %w", err)
		}
	default:
		if f, ok := stdin.(*os.File); ok && in.file == "" {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				return nil, errors.New("give the object with -c JSON, -f FILE or on stdin")
			}
		}
		if raw, err = io.ReadAll(io.LimitReader(stdin, 1<<20)); err != nil {
			return nil, fmt.Errorf("read the object from stdin: %w", err)
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		return nil, fmt.Errorf("the object must be a JSON object: %v", errOrNull(err))
	}
	return raw, nil
}

func errOrNull(err error) string {
	if err == nil {
		return "got null"
	}
	return err.Error()
}

func newStateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Read and change live state on a running Reflex",
		Long: `Read and change live-state objects (pipeline, service, instance, build, release,
state, apikey) on a running Reflex. The server is --url (REFLEX_URL) and the
API key REFLEX_APIKEY.`,
	}
	c := apiFlags(cmd)
	var output string
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "", "output: table or json (default: table for list and history, json otherwise)")

	list := &cobra.Command{
		Use: "list TYPE", Short: "List objects of a type", Args: cobra.ExactArgs(1),
		Example: "  reflex state list service --match 'bct-*' --cols pipeline,zone",
	}
	var match, cols string
	list.Flags().StringVar(&match, "match", "", "glob on names, e.g. 'bct-*'")
	list.Flags().StringVar(&cols, "cols", "", "fields to show, comma-separated (* for all)")
	list.RunE = func(cmd *cobra.Command, args []string) error {
		q := url.Values{}
		if match != "" {
			q.Set("match", match)
		}
		if cols != "" {
			q.Set("cols", cols)
		}
		var out []map[string]any
		if _, err := c.do(cmd.Context(), http.MethodGet, "/api/v1/"+url.PathEscape(args[0])+"/?"+q.Encode(), nil, nil, &out); err != nil {
			return err
		}
		return render(cmd.OutOrStdout(), output, "table", out)
	}

	get := &cobra.Command{Use: "get TYPE NAME", Short: "Show one object", Args: cobra.ExactArgs(2)}
	var version int
	get.Flags().IntVar(&version, "version", 0, "show this revision instead of the current one")
	get.RunE = func(cmd *cobra.Command, args []string) error {
		path := objectPath(args[0], args[1])
		if version > 0 {
			path += "?version=" + strconv.Itoa(version)
		}
		var out map[string]any
		if _, err := c.do(cmd.Context(), http.MethodGet, path, nil, nil, &out); err != nil {
			return err
		}
		return render(cmd.OutOrStdout(), output, "json", out)
	}

	history := &cobra.Command{Use: "history TYPE NAME", Short: "List the kept revisions of an object", Args: cobra.ExactArgs(2)}
	history.RunE = func(cmd *cobra.Command, args []string) error {
		var out []map[string]any
		if _, err := c.do(cmd.Context(), http.MethodGet, objectPath(args[0], args[1])+"/versions", nil, nil, &out); err != nil {
			return err
		}
		return render(cmd.OutOrStdout(), output, "table", out)
	}

	var in objectInput
	create := &cobra.Command{
		Use: "create TYPE", Short: "Create an object", Args: cobra.ExactArgs(1),
		Example: `  reflex state create pipeline -c '{"name":"bct","services":["bct-test","bct-prod"]}'
  reflex state create service -f service.json`,
	}
	in.register(create)
	create.RunE = func(cmd *cobra.Command, args []string) error {
		body, err := in.read(cmd.InOrStdin())
		if err != nil {
			return err
		}
		return write(cmd, c, http.MethodPost, "/api/v1/"+url.PathEscape(args[0]), nil, body, output)
	}

	var ifMatch int
	update := &cobra.Command{Use: "update TYPE NAME", Short: "Replace an object with a new document", Args: cobra.ExactArgs(2)}
	merge := &cobra.Command{
		Use: "merge TYPE NAME", Short: "Merge fields into an object (RFC 7386: null removes a field)", Args: cobra.ExactArgs(2),
		Example: `  reflex state merge service bct-prod -c '{"status":{"deploying":true}}'`,
	}
	del := &cobra.Command{Use: "delete TYPE NAME", Short: "Delete an object", Args: cobra.ExactArgs(2)}
	for _, sub := range []*cobra.Command{update, merge, del} {
		sub.Flags().IntVar(&ifMatch, "if-match", 0, "write only if the object is at this revision")
	}
	in.register(update)
	in.register(merge)
	conditional := func() http.Header {
		h := http.Header{}
		if ifMatch > 0 {
			h.Set("If-Match", strconv.Quote(strconv.Itoa(ifMatch)))
		}
		return h
	}
	update.RunE = func(cmd *cobra.Command, args []string) error {
		body, err := in.read(cmd.InOrStdin())
		if err != nil {
			return err
		}
		return write(cmd, c, http.MethodPut, objectPath(args[0], args[1]), conditional(), body, output)
	}
	merge.RunE = func(cmd *cobra.Command, args []string) error {
		body, err := in.read(cmd.InOrStdin())
		if err != nil {
			return err
		}
		h := conditional()
		h.Set("Content-Type", "application/merge-patch+json")
		return write(cmd, c, http.MethodPatch, objectPath(args[0], args[1]), h, body, output)
	}
	del.RunE = func(cmd *cobra.Command, args []string) error {
		return write(cmd, c, http.MethodDelete, objectPath(args[0], args[1]), conditional(), nil, output)
	}

	watch := &cobra.Command{
		Use:   "watch [TYPE...]",
		Short: "Print object changes as they happen",
		Long: `Print object changes as they happen, one line each (or one JSON object each
with -o json). The stream resumes where it stopped after a network failure.`,
	}
	watch.RunE = func(cmd *cobra.Command, args []string) error {
		return watchChanges(cmd.Context(), c, args, output, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}

	cmd.AddCommand(list, get, history, create, update, merge, del, watch)
	return cmd
}

func objectPath(typ, name string) string {
	return "/api/v1/" + url.PathEscape(typ) + "/" + url.PathEscape(name)
}

// write sends a write and prints its answer.
func write(cmd *cobra.Command, c *apiClient, method, path string, h http.Header, body []byte, output string) error {
	var out map[string]any
	if _, err := c.do(cmd.Context(), method, path, h, body, &out); err != nil {
		return err
	}
	return render(cmd.OutOrStdout(), output, "table", out)
}

// render prints v as JSON or as a table.
func render(w io.Writer, output, fallback string, v any) error {
	if output == "" {
		output = fallback
	}
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "table":
		return table(w, v)
	}
	return fmt.Errorf("--output %q: want table or json", output)
}

// table prints a list of objects as columns, or one object as key: value
// lines.
func table(w io.Writer, v any) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	defer tw.Flush()
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			fmt.Fprintf(tw, "%s:\t%s\n", k, cell(t[k]))
		}
	case []map[string]any:
		cols := columns(t)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
		for _, row := range t {
			cells := make([]string, len(cols))
			for i, col := range cols {
				cells[i] = cell(row[col])
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
	}
	return nil
}

// columns orders a table's columns: name first, then the rest sorted.
func columns(rows []map[string]any) []string {
	seen := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			seen[k] = true
		}
	}
	var cols []string
	for _, first := range []string{"name", "revision"} {
		if seen[first] {
			cols = append(cols, first)
			delete(seen, first)
		}
	}
	return append(cols, sortedKeys(seen)...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func cell(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

// watchChanges follows /api/v1/watch and reconnects after a failure,
// resuming after the last change printed.
func watchChanges(ctx context.Context, c *apiClient, types []string, output string, out, errOut io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	path, what := "/api/v1/watch", "every type"
	if len(types) > 0 {
		what = strings.Join(types, ", ")
		path += "?types=" + url.QueryEscape(strings.Join(types, ","))
	}
	last, wait := "", time.Second
	stream := *c
	stream.http = &http.Client{} // no overall timeout: the stream is long-lived
	for {
		h := http.Header{"Accept": {"text/event-stream"}}
		if last != "" {
			h.Set("Last-Event-ID", last)
		}
		resp, err := stream.send(ctx, http.MethodGet, path, h, nil)
		if err == nil && resp.StatusCode >= 400 {
			_, err = c.do(ctx, http.MethodGet, path, nil, nil, nil) // for the error message
			resp.Body.Close()
			return err
		}
		if err == nil {
			if last == "" {
				fmt.Fprintf(errOut, "reflex: watching changes to %s (Ctrl-C stops)\n", what)
			} else {
				fmt.Fprintf(errOut, "reflex: watch resumed after change %s\n", last)
			}
			wait = time.Second
			last, err = printStream(resp.Body, last, output, out)
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return nil
		}
		fmt.Fprintf(errOut, "reflex: watch interrupted (%v); reconnecting in %s\n", err, wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// printStream prints the events of one SSE stream until it ends and
// returns the last event id seen.
func printStream(r io.Reader, last, output string, out io.Writer) (string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var id, name, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && data != "":
			if err := printChange(out, output, name, data); err != nil {
				return last, err
			}
			if id != "" {
				last = id
			}
			id, name, data = "", "", ""
		}
	}
	if err := sc.Err(); err != nil {
		return last, err
	}
	return last, io.ErrUnexpectedEOF
}

func printChange(out io.Writer, output, name, data string) error {
	if output == "json" {
		_, err := fmt.Fprintln(out, data)
		return err
	}
	var msg struct {
		Op       string         `json:"op"`
		Type     string         `json:"type"`
		Name     string         `json:"name"`
		Revision int64          `json:"revision"`
		Object   map[string]any `json:"object"`
		Reason   string         `json:"reason"`
	}
	if err := json.Unmarshal([]byte(data), &msg); err != nil {
		return fmt.Errorf("undecodable change: %w", err)
	}
	if name == "reset" {
		_, err := fmt.Fprintf(out, "reset: %s\n", msg.Reason)
		return err
	}
	by, _ := msg.Object["updated_by"].(string)
	_, err := fmt.Fprintf(out, "%s %-8s %s/%s revision %d %s\n", time.Now().UTC().Format(time.TimeOnly), msg.Op, msg.Type, msg.Name, msg.Revision, by)
	return err
}
