package policies

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
)

// ErrExpression wraps an expression that does not compile, with the CEL
// error and its position.
var ErrExpression = errors.New("bad expression")

// costLimit bounds the work one evaluation may do; beyond it the
// evaluation fails, and so denies.
const costLimit = 100_000

// The variables an expression sees. Maps hold JSON-like values.
//
//	caller    {kind: "apikey"|"source", name, groups, master, source, connector}
//	request   {ip, headers (lower-case names), verified}
//	action    "receive", "deliver", "read" or "write"
//	type      the target's type: "event" or an object type
//	object    the object (without its sensitive part), or {}
//	event     the normalized event, or {}
//	sensitive true when the question concerns a sensitive part
//	now       the time of the decision
var variables = []cel.EnvOption{
	cel.Variable("caller", cel.MapType(cel.StringType, cel.DynType)),
	cel.Variable("request", cel.MapType(cel.StringType, cel.DynType)),
	cel.Variable("action", cel.StringType),
	cel.Variable("type", cel.StringType),
	cel.Variable("object", cel.MapType(cel.StringType, cel.DynType)),
	cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
	cel.Variable("sensitive", cel.BoolType),
	cel.Variable("now", cel.TimestampType),
}

// targetVariables are the variables a scope's match sees: only the
// target, so a match result depends on the target alone and can be kept
// until the target changes. Callers are judged by policies.
var targetVariables = []cel.EnvOption{
	cel.Variable("action", cel.StringType),
	cel.Variable("type", cel.StringType),
	cel.Variable("object", cel.MapType(cel.StringType, cel.DynType)),
	cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
}

// library is what every expression may call: the standard library, the
// string, list, set and network extensions, glob and the semver helpers.
var library = append([]cel.EnvOption{
	ext.Strings(), ext.Lists(), ext.Sets(), ext.Network(),
	cel.Function("glob",
		cel.MemberOverload("string_glob_string", []*cel.Type{cel.StringType, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(glob))),
}, semverFunctions...)

// NewEnv returns a CEL environment with Reflex's function library (the
// standard library, strings, lists, sets, network, glob and semver
// helpers) and the given variables, for expressions other than policies.
func NewEnv(variables ...cel.EnvOption) (*cel.Env, error) {
	return cel.NewEnv(append(slices.Clone(library), variables...)...)
}

// CompileIn compiles an expression in env. With wantBool, it must yield a
// bool (or a value only known at run time); otherwise any value.
func CompileIn(e *cel.Env, expr string, wantBool bool) (*Program, error) {
	return compile(e, expr, wantBool)
}

// env is the environment of policies; matchEnv that of scope matches.
var (
	env      = sync.OnceValues(func() (*cel.Env, error) { return cel.NewEnv(append(slices.Clone(library), variables...)...) })
	matchEnv = sync.OnceValues(func() (*cel.Env, error) { return cel.NewEnv(append(slices.Clone(library), targetVariables...)...) })
)

// glob implements s.glob(pattern): path.Match, where * does not cross "/".
func glob(lhs, rhs ref.Val) ref.Val {
	s, ok1 := lhs.(types.String)
	p, ok2 := rhs.(types.String)
	if !ok1 || !ok2 {
		return types.NewErr("glob: want strings")
	}
	ok, err := path.Match(string(p), string(s))
	if err != nil {
		return types.NewErr("glob: bad pattern %q", string(p))
	}
	return types.Bool(ok)
}

// Program is a compiled, type-checked expression.
type Program struct {
	Source string
	prg    cel.Program
	// env and ast let Reads build a program that records what it reads.
	env *cel.Env
	ast *cel.Ast
}

// Compile parses and type-checks a policy expression, which must yield a
// bool (or a value only known at run time, checked then). Errors wrap ErrExpression and carry CEL's message with the
// position.
func Compile(expr string) (*Program, error) { return compileIn(env, expr) }

// CompileMatch compiles a scope's match, which sees only the target.
func CompileMatch(expr string) (*Program, error) { return compileIn(matchEnv, expr) }

func compileIn(envOf func() (*cel.Env, error), expr string) (*Program, error) {
	e, err := envOf()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	return compile(e, expr, true)
}

func compile(e *cel.Env, expr string, wantBool bool) (*Program, error) {
	ast, iss := e.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%w: %s", ErrExpression, oneLine(iss.Err().Error()))
	}
	// A field of a map is only known at run time (dyn); Eval refuses a
	// result that turns out not to be a bool.
	if out := ast.OutputType(); wantBool && !out.IsExactType(cel.BoolType) && !out.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("%w: the expression yields %s, not bool", ErrExpression, out)
	}
	prg, err := e.Program(ast, cel.CostLimit(costLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrExpression, err)
	}
	return &Program{Source: expr, prg: prg, env: e, ast: ast}, nil
}

// Value runs the program and returns its result as a Go value. vars is a
// map of variables or an interpreter.Activation.
func (p *Program) Value(vars any) (any, error) {
	out, _, err := p.prg.Eval(vars)
	if err != nil {
		return nil, err
	}
	return out.Value(), nil
}

// Eval runs the program on vars (as for Value). Any error, including a result
// that is not a bool or a cost over the limit, is returned as such: the
// caller must deny.
func (p *Program) Eval(vars any) (bool, error) {
	out, _, err := p.prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("yielded %v, not a bool", out)
	}
	return bool(b), nil
}

// oneLine folds CEL's multi-line error (message, source line, caret) into
// one line that keeps the position.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && strings.Trim(l, "^.|") != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}
