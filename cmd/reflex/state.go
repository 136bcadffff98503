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
	"time"

	"github.com/spf13/cobra"

	"github.com/reflexops/reflex/state"
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
		Long: wrapWords("Read and change live-state objects on a running Reflex. TYPE is one of "+
			strings.Join(state.Types(), ", ")+". The server is --url (REFLEX_URL) and the API key REFLEX_APIKEY.", 78) + `

-o json, yaml or table prints any answer in that form: lists, history and
the answers of writes default to a table, get to JSON.`,
	}
	c := apiFlags(cmd)
	var output string
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "", "output: json, yaml or table (default: table for list, history and writes, json for get)")
	types := state.Types()

	list := &cobra.Command{
		Use: "list TYPE", Short: "List objects of a type", Args: cobra.ExactArgs(1), ValidArgsFunction: completeType,
		Example: "  reflex state list service --match 'bct-*' --cols pipeline,zone",
	}
	var match, cols, order string
	var where []string
	var pages pageFlags
	list.Flags().StringVar(&match, "match", "", "glob on names, e.g. 'bct-*'")
	list.Flags().StringVar(&cols, "cols", "", "fields to show, comma-separated (* for all)")
	list.Flags().StringVar(&order, "order", "", "name, or newest for newest first (default: name; newest for deployment)")
	list.Flags().StringArrayVar(&where, "where", nil, "keep objects whose FIELD equals VALUE, as FIELD=VALUE (repeatable; the fields a type filters on, e.g. service=bct-prod for deployment)")
	pages.register(list, "objects")
	list.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outTable, objectFormats)
		if err != nil {
			return err
		}
		q := url.Values{}
		if match != "" {
			q.Set("match", match)
		}
		if cols != "" {
			q.Set("cols", cols)
		}
		if order != "" {
			q.Set("order", order)
		}
		for _, kv := range where {
			field, value, ok := strings.Cut(kv, "=")
			if !ok || field == "" {
				return fmt.Errorf("--where %q: want FIELD=VALUE", kv)
			}
			q.Set(field, value)
		}
		out, err := pages.fetch(cmd.Context(), c, "/api/v1/"+url.PathEscape(args[0])+"/", q, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		return showObjects(cmd.OutOrStdout(), format, out)
	}

	get := &cobra.Command{Use: "get TYPE NAME", Short: "Show one object", Args: cobra.ExactArgs(2), ValidArgsFunction: completeType}
	var version int
	get.Flags().IntVar(&version, "version", 0, "show this revision instead of the current one")
	get.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outJSON, objectFormats)
		if err != nil {
			return err
		}
		path := objectPath(args[0], args[1])
		if version > 0 {
			path += "?version=" + strconv.Itoa(version)
		}
		var out json.RawMessage
		if _, err := c.do(cmd.Context(), http.MethodGet, path, nil, nil, &out); err != nil {
			return err
		}
		return showObject(cmd.OutOrStdout(), format, out)
	}

	history := &cobra.Command{Use: "history TYPE NAME", Short: "List the kept revisions of an object", Args: cobra.ExactArgs(2), ValidArgsFunction: completeType}
	history.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outTable, objectFormats)
		if err != nil {
			return err
		}
		// Every kept revision: the history is bounded (--object-history).
		out, err := c.list(cmd.Context(), objectPath(args[0], args[1])+"/versions?limit=1000")
		if err != nil {
			return err
		}
		return showObjects(cmd.OutOrStdout(), format, out)
	}

	var in objectInput
	create := &cobra.Command{
		Use: "create TYPE", Short: "Create an object", Args: cobra.ExactArgs(1), ValidArgsFunction: completeType,
		Example: `  reflex state create pipeline -c '{"name":"bct","services":["bct-test","bct-prod"]}'
  reflex state create service -f service.json`,
	}
	in.register(create)
	create.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outTable, objectFormats)
		if err != nil {
			return err
		}
		body, err := in.read(cmd.InOrStdin())
		if err != nil {
			return err
		}
		return write(cmd, c, http.MethodPost, "/api/v1/"+url.PathEscape(args[0]), nil, body, format)
	}

	var ifMatch int
	update := &cobra.Command{Use: "update TYPE NAME", Short: "Replace an object with a new document", Args: cobra.ExactArgs(2), ValidArgsFunction: completeType}
	merge := &cobra.Command{
		Use: "merge TYPE NAME", Short: "Merge fields into an object (RFC 7386: null removes a field)", Args: cobra.ExactArgs(2), ValidArgsFunction: completeType,
		Example: `  reflex state merge service bct-prod -c '{"status":{"deploying":true}}'`,
	}
	del := &cobra.Command{Use: "delete TYPE NAME", Short: "Delete an object", Args: cobra.ExactArgs(2), ValidArgsFunction: completeType}
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
		format, err := outputFormat(output, outTable, objectFormats)
		if err != nil {
			return err
		}
		body, err := in.read(cmd.InOrStdin())
		if err != nil {
			return err
		}
		return write(cmd, c, http.MethodPut, objectPath(args[0], args[1]), conditional(), body, format)
	}
	merge.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outTable, objectFormats)
		if err != nil {
			return err
		}
		body, err := in.read(cmd.InOrStdin())
		if err != nil {
			return err
		}
		h := conditional()
		h.Set("Content-Type", "application/merge-patch+json")
		return write(cmd, c, http.MethodPatch, objectPath(args[0], args[1]), h, body, format)
	}
	del.RunE = func(cmd *cobra.Command, args []string) error {
		format, err := outputFormat(output, outTable, objectFormats)
		if err != nil {
			return err
		}
		return write(cmd, c, http.MethodDelete, objectPath(args[0], args[1]), conditional(), nil, format)
	}

	watch := &cobra.Command{
		Use:       "watch [TYPE...]",
		Short:     "Print object changes as they happen",
		ValidArgs: types,
		Long: `Print object changes as they happen, one line each, or each change as a JSON
object (one a line) with -o json, or as a YAML document with -o yaml. The
stream resumes where it stopped after a network failure.`,
	}
	watch.RunE = func(cmd *cobra.Command, args []string) error {
		if output != "" && output != outJSON && output != outYAML {
			return fmt.Errorf("--output %q: watch prints a line per change, or json or yaml", output)
		}
		return watchChanges(cmd.Context(), c, args, output, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}

	cmd.AddCommand(list, get, history, create, update, merge, del, watch)
	return cmd
}

// completeType completes a command's first argument, its TYPE.
func completeType(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return state.Types(), cobra.ShellCompDirectiveNoFileComp
}

func objectPath(typ, name string) string {
	return "/api/v1/" + url.PathEscape(typ) + "/" + url.PathEscape(name)
}

// write sends a write and prints its answer: a one-row table (STATUS NAME
// REVISION) unless -o asks for json or yaml.
func write(cmd *cobra.Command, c *apiClient, method, path string, h http.Header, body []byte, format string) error {
	var out json.RawMessage
	if _, err := c.do(cmd.Context(), method, path, h, body, &out); err != nil {
		return err
	}
	return show(cmd.OutOrStdout(), format, view{data: out, table: func() (table, error) {
		answer, err := asObject(out)
		return writeTable(answer), err
	}})
}

// showObjects prints a list of objects, each as the server sent it (its
// fields in its order) for json and yaml.
func showObjects(w io.Writer, format string, items []json.RawMessage) error {
	return show(w, format, view{data: items, table: func() (table, error) {
		rows := make([]map[string]any, len(items))
		for i, item := range items {
			var err error
			if rows[i], err = asObject(item); err != nil {
				return table{}, err
			}
		}
		return objectsTable(rows), nil
	}})
}

// showObject prints one object; as a table, it is a one-row table.
func showObject(w io.Writer, format string, obj json.RawMessage) error {
	return show(w, format, view{data: obj, table: func() (table, error) {
		row, err := asObject(obj)
		return objectsTable([]map[string]any{row}), err
	}})
}

// asObject decodes an answer that must be a JSON object.
func asObject(raw json.RawMessage) (map[string]any, error) {
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("decode the answer: want a JSON object, got %.40s", raw)
	}
	return obj, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// watchChanges follows /api/v1/watch and reconnects after a failure,
// resuming after the last change printed.
func watchChanges(ctx context.Context, c *apiClient, types []string, output string, out, errOut io.Writer) error {
	path, what := "/api/v1/watch", "every type"
	if len(types) > 0 {
		what = strings.Join(types, ", ")
		path += "?types=" + url.QueryEscape(strings.Join(types, ","))
	}
	last := ""
	return followStream(ctx, c, path, errOut, stream{
		header: func() http.Header {
			h := http.Header{"Accept": {"text/event-stream"}}
			if last != "" {
				h.Set("Last-Event-ID", last)
			}
			return h
		},
		started: func() string {
			if last == "" {
				return "watching changes to " + what + " (Ctrl-C stops)"
			}
			return "watch resumed after change " + last
		},
		read: func(body io.Reader) (err error) {
			last, err = printStream(body, last, output, out)
			return err
		},
	})
}

// stream is what followStream does with one long-lived stream.
type stream struct {
	// header returns the request's headers, for each connection.
	header func() http.Header
	// started says what a connection that succeeded follows.
	started func() string
	// read reads a connection's stream until it ends.
	read func(body io.Reader) error
}

// followStream reads a stream of path until ctx ends, and connects again
// after a failure, waiting longer each time (1 s to 30 s). An error
// answer (4xx, 5xx) ends it with that answer's error.
func followStream(ctx context.Context, c *apiClient, path string, errOut io.Writer, s stream) error {
	if ctx == nil {
		ctx = context.Background()
	}
	wait := time.Second
	long := *c
	long.http = &http.Client{} // no overall timeout: the stream is long-lived
	for {
		resp, err := long.send(ctx, http.MethodGet, path, s.header(), nil)
		if err == nil && resp.StatusCode >= 400 {
			_, err = c.do(ctx, http.MethodGet, path, nil, nil, nil) // for the error message
			resp.Body.Close()
			return err
		}
		if err == nil {
			fmt.Fprintf(errOut, "reflex: %s\n", s.started())
			wait = time.Second
			err = s.read(resp.Body)
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return nil
		}
		fmt.Fprintf(errOut, "reflex: stream interrupted (%v); reconnecting in %s\n", err, wait)
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
	err := readSSE(r, func(id, name, data string) error {
		if err := printChange(out, output, name, data); err != nil {
			return err
		}
		if id != "" {
			last = id
		}
		return nil
	})
	return last, err
}

// readSSE calls handle with each event of a server-sent event stream
// until the stream ends (io.ErrUnexpectedEOF: a stream never ends by
// itself) or handle fails.
func readSSE(r io.Reader, handle func(id, name, data string) error) error {
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
			if err := handle(id, name, data); err != nil {
				return err
			}
			id, name, data = "", "", ""
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}

func printChange(out io.Writer, output, name, data string) error {
	switch output {
	case outJSON:
		_, err := fmt.Fprintf(out, "%s\n", unescapeHTML([]byte(data)))
		return err
	case outYAML:
		if !json.Valid([]byte(data)) {
			return fmt.Errorf("undecodable change: %.40s", data)
		}
		if _, err := fmt.Fprintln(out, "---"); err != nil {
			return err
		}
		return printYAML(out, json.RawMessage(data))
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
