package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"gopkg.in/yaml.v3"
)

// The output formats of -o/--output. Not every command offers text: it is
// the default of the commands whose natural answer is a report (plan,
// apply, policy test).
const (
	outText  = "text"
	outJSON  = "json"
	outYAML  = "yaml"
	outTable = "table"
)

var (
	// objectFormats are the formats of the commands that print objects.
	objectFormats = []string{outJSON, outYAML, outTable}
	// reportFormats are those of the commands that print a report.
	reportFormats = []string{outText, outJSON, outYAML, outTable}
)

// outputFormat returns the format -o asks for, def when -o is empty. An
// unknown format is an error naming the allowed ones, so a command checks
// it before it sends anything.
func outputFormat(value, def string, allowed []string) (string, error) {
	if value == "" {
		value = def
	}
	for _, a := range allowed {
		if value == a {
			return value, nil
		}
	}
	return "", fmt.Errorf("--output %q: want %s", value, orList(allowed))
}

// orList writes values as "a, b or c".
func orList(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// view is one answer, ready to print in any format: its data (for json
// and yaml), its table, and its text report (nil when it has none).
type view struct {
	data  any
	table func() (table, error)
	text  func(io.Writer) error
}

// show prints v in format, one checked by outputFormat.
func show(w io.Writer, format string, v view) error {
	switch format {
	case outJSON:
		return printJSON(w, v.data)
	case outYAML:
		return printYAML(w, v.data)
	case outTable:
		t, err := v.table()
		if err != nil {
			return err
		}
		return t.print(w)
	case outText:
		if v.text != nil {
			return v.text(w)
		}
	}
	return fmt.Errorf("--output %q: not offered here", format)
}

// printJSON prints v as indented JSON with its text as it is: no HTML
// escaping (&& stays &&), also in the raw values the server sent escaped.
func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode the answer as JSON: %w", err)
	}
	_, err := w.Write(unescapeHTML(buf.Bytes()))
	return err
}

// printYAML prints v as a YAML document. It goes through JSON so that the
// fields keep their JSON names and order (and a json.RawMessage its value).
func printYAML(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode the answer: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("convert the answer to YAML: %w", err)
	}
	blockStyle(&doc)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("encode the answer as YAML: %w", err)
	}
	return enc.Close()
}

// blockStyle drops the flow and quoting styles JSON gave the nodes: the
// encoder then writes block YAML, and quotes only the strings that need it.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// unescapeHTML turns the \u0026, \u003c and \u003e escapes inside the JSON
// strings of raw back into &, < and >. Everything else, \\u0026 included,
// stays as it is.
func unescapeHTML(raw []byte) []byte {
	if !bytes.Contains(raw, []byte(`\u00`)) {
		return raw
	}
	out := make([]byte, 0, len(raw))
	inString := false
	for i := 0; i < len(raw); i++ {
		b := raw[i]
		switch {
		case !inString:
			inString = b == '"'
		case b == '"':
			inString = false
		case b == '\\' && i+1 < len(raw):
			if raw[i+1] == 'u' && i+5 < len(raw) {
				if r, ok := htmlEscapes[strings.ToLower(string(raw[i+2:i+6]))]; ok {
					out = append(out, r)
					i += 5
					continue
				}
			}
			out = append(out, b, raw[i+1])
			i++
			continue
		}
		out = append(out, b)
	}
	return out
}

var htmlEscapes = map[string]byte{"0026": '&', "003c": '<', "003e": '>'}

// table is a header and rows of cells.
type table struct {
	header []string
	rows   [][]string
}

// print writes the table in aligned columns, the header upper case. A
// table with no rows prints nothing.
func (t table) print(w io.Writer) error {
	if len(t.rows) == 0 {
		return nil
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.header, "\t")))
	for _, row := range t.rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Empty last cells leave padding behind: drop it.
	var out strings.Builder
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line != "" {
			out.WriteString(strings.TrimRight(line, " \n") + "\n")
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// objectsTable is a table of objects: one row each, a column per field,
// name and revision first.
func objectsTable(rows []map[string]any) table {
	cols := columns(rows)
	t := table{header: cols}
	for _, row := range rows {
		cells := make([]string, len(cols))
		for i, col := range cols {
			cells[i] = cell(row[col])
		}
		t.rows = append(t.rows, cells)
	}
	return t
}

// columns orders a table's columns: name and revision first, then the rest
// sorted.
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

// writeTable is the table of a write's answer ({"status","name",
// "revision",…}): STATUS NAME REVISION, then ID and KEY when the answer
// has them.
func writeTable(answer map[string]any) table {
	cols := []string{"status", "name", "revision"}
	for _, k := range []string{"id", "key"} {
		if _, ok := answer[k]; ok {
			cols = append(cols, k)
		}
	}
	var rest []string
	for _, k := range sortedKeys(answer) {
		if !slices.Contains(cols, k) {
			rest = append(rest, k)
		}
	}
	cols = append(cols, rest...)
	row := make([]string, len(cols))
	for i, c := range cols {
		row[i] = cell(answer[c])
	}
	return table{header: cols, rows: [][]string{row}}
}

// cell is one value as a table shows it: strings and numbers as they are,
// anything else as compact JSON.
func cell(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case json.Number:
		return t.String()
	}
	return compactJSON(v)
}

// compactJSON is v as one line of JSON, not HTML-escaped.
func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return string(unescapeHTML(bytes.TrimRight(buf.Bytes(), "\n")))
}

// wrapWords breaks text into lines of at most width characters, at spaces.
func wrapWords(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		switch {
		case n == 0:
		case n+1+len(w) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
