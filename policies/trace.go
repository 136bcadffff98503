package policies

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// Bounds of a trace, so that explaining an expression over a large event
// answers a few kilobytes at most.
const (
	// MaxReads is the most reads a trace lists; the others are counted in
	// Trace.Omitted.
	MaxReads = 32
	// MaxValue is the most characters of a read's value; a longer one is
	// cut and ends with "…".
	MaxValue = 120
)

// Read is one value an expression read from its variables: the path it
// read (event.branch, service.release, event.labels[0], has(event.tag))
// and what it found, as JSON, or the error reading it gave (no such key).
type Read struct {
	Path  string `json:"path"`
	Value string `json:"value,omitempty"`
	Error string `json:"error,omitempty"`
}

// Reads runs the program on vars and lists the values it read from
// them: every path from a variable through fields and constant indexes
// (event.repository.name, event["branch"], has(event.tag)), with the
// value found at the longest such path, sorted by path, at most MaxReads;
// the second result counts the reads left out. Every branch is evaluated
// for the list, so a read that did not decide the result (the right side
// of a false &&) is listed too. The result itself is Value's or Eval's.
func (p *Program) Reads(vars map[string]any) ([]Read, int) {
	prg, err := p.env.Program(p.ast, cel.CostLimit(costLimit), cel.EvalOptions(cel.OptExhaustiveEval))
	if err != nil {
		return []Read{}, 0 // the expression compiled once already: this does not happen
	}
	_, details, _ := prg.Eval(vars)
	if details == nil || details.State() == nil {
		return []Read{}, 0
	}
	return reads(p.ast.NativeRep(), details.State(), vars)
}

// reads lists the longest variable paths of a checked expression with
// the values the evaluation state holds for them.
func reads(a *ast.AST, state interpreter.EvalState, vars map[string]any) ([]Read, int) {
	seen := map[string]bool{}
	out := []Read{}
	var walk func(ast.NavigableExpr)
	walk = func(e ast.NavigableExpr) {
		if path, ok := pathOf(e, vars); ok && !extended(e, vars) {
			if !seen[path] {
				seen[path] = true
				if v, found := state.Value(e.ID()); found {
					out = append(out, readOf(path, v))
				}
			}
		}
		for _, child := range e.Children() {
			walk(child)
		}
	}
	walk(ast.NavigateAST(a))
	slices.SortFunc(out, func(a, b Read) int { return strings.Compare(a.Path, b.Path) })
	if len(out) > MaxReads {
		return out[:MaxReads], len(out) - MaxReads
	}
	return out, 0
}

// pathOf returns the path an expression reads, when it is a variable
// followed by fields and constant indexes, or a presence test of one.
func pathOf(e ast.Expr, vars map[string]any) (string, bool) {
	switch e.Kind() {
	case ast.IdentKind:
		_, ok := vars[e.AsIdent()]
		return e.AsIdent(), ok
	case ast.SelectKind:
		sel := e.AsSelect()
		base, ok := pathOf(sel.Operand(), vars)
		if !ok {
			return "", false
		}
		if sel.IsTestOnly() {
			return "has(" + base + step(sel.FieldName()) + ")", true
		}
		return base + step(sel.FieldName()), true
	case ast.CallKind:
		call := e.AsCall()
		if call.FunctionName() != operators.Index || len(call.Args()) != 2 || call.Args()[1].Kind() != ast.LiteralKind {
			return "", false
		}
		base, ok := pathOf(call.Args()[0], vars)
		if !ok {
			return "", false
		}
		switch key := call.Args()[1].AsLiteral().(type) {
		case types.String:
			return base + step(string(key)), true
		case types.Int, types.Uint:
			return base + "[" + fmt.Sprint(key.Value()) + "]", true
		}
	}
	return "", false
}

// extended reports whether an expression's parent reads further into it
// (a field of it, a constant index, a presence test), so that the parent's
// read is the one listed.
func extended(e ast.NavigableExpr, vars map[string]any) bool {
	parent, ok := e.Parent()
	if !ok {
		return false
	}
	_, isPath := pathOf(parent, vars)
	return isPath
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// step renders a field step: .name, or ["odd name"].
func step(name string) string {
	if identifier.MatchString(name) {
		return "." + name
	}
	return "[" + strconv.Quote(name) + "]"
}

// readOf renders one read value, bounded by MaxValue.
func readOf(path string, v ref.Val) Read {
	switch {
	case types.IsError(v):
		return Read{Path: path, Error: bounded(fmt.Sprint(v))}
	case types.IsUnknown(v):
		return Read{Path: path, Error: "unknown"}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v.Value()); err != nil {
		return Read{Path: path, Value: bounded(fmt.Sprint(v))}
	}
	return Read{Path: path, Value: bounded(strings.TrimSuffix(buf.String(), "\n"))}
}

// bounded cuts s to MaxValue characters.
func bounded(s string) string {
	if utf8.RuneCountInString(s) <= MaxValue {
		return s
	}
	return string([]rune(s)[:MaxValue-1]) + "…"
}
