package keyspace_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// TestScriptsDeclareTheirKeys reads every Lua script of the module (each
// redis.NewScript in a non-test Go file) and fails when one touches a key
// it did not receive in KEYS: a key built from ARGV or by concatenation, a
// command whose keys cannot be told, or a pattern lookup (KEYS, SCAN). On
// Redis Cluster a script may only touch the keys it declares, and those
// must share a hash tag, which only the Go side, through the keyspace
// builders, can see.
func TestScriptsDeclareTheirKeys(t *testing.T) {
	scripts := moduleScripts(t)
	if len(scripts) < 5 {
		t.Fatalf("found %d scripts in the module; the search is broken", len(scripts))
	}
	for _, s := range scripts {
		problems, err := checkScript(s.source)
		if err != nil {
			t.Errorf("%s:%d: %s: %v", s.file, s.line, s.name, err)
			continue
		}
		for _, p := range problems {
			t.Errorf("%s:%d: script %s: %s", s.file, s.line+p.line-1, s.name, p.msg)
		}
	}
}

// TestScriptCheck makes sure the check finds what it looks for.
func TestScriptCheck(t *testing.T) {
	tests := []struct {
		name, src string
		bad       bool
	}{
		{"declared keys", `redis.call("SET", KEYS[1], ARGV[1]) redis.call("DEL", KEYS[2], KEYS[3])`, false},
		{"computed index", `local n = #KEYS for i = 1, n do redis.call("GET", KEYS[i]) end`, false},
		{"local from KEYS", `local a, b = KEYS[1], tonumber(ARGV[1]) redis.call("ZADD", a, b, "x")`, false},
		{"unpack of KEYS", `redis.call("DEL", unpack(KEYS))`, false},
		{"no key", `return redis.call("DBSIZE")`, false},
		{"a score bound built", `redis.call("ZCOUNT", KEYS[1], "(" .. ARGV[1], "+inf")`, false},
		{"concatenation", `redis.call("DEL", ARGV[1] .. ARGV[2])`, true},
		{"key from ARGV", `redis.call("GET", ARGV[1])`, true},
		{"a later key built", `redis.call("DEL", KEYS[1], "reflex:" .. ARGV[1])`, true},
		{"local built", `local k = ARGV[1] .. "x" redis.call("GET", k)`, true},
		{"local reassigned", `local k = KEYS[1] k = ARGV[1] redis.call("GET", k)`, true},
		{"shadowed", `local k = KEYS[1] for _, k in ipairs(ARGV) do redis.call("DEL", k) end`, true},
		{"loop variable", `for _, m in ipairs(redis.call("ZRANGE", KEYS[1], 0, 1)) do redis.call("DEL", m) end`, true},
		{"renamed KEYS", `local KEYS = ARGV redis.call("GET", KEYS[1])`, true},
		{"dynamic command", `redis.call(ARGV[1], KEYS[1])`, true},
		{"unknown command", `redis.call("SORT", KEYS[1])`, true},
		{"pattern lookup", `redis.call("SCAN", 0, "MATCH", "reflex:*")`, true},
		{"aliased call", `local call = redis.call call("GET", ARGV[1])`, true},
		{"pcall", `redis.pcall("HGET", ARGV[1] .. "x", "f")`, true},
		{"unpack of ARGV", `redis.call("DEL", unpack(ARGV))`, true},
		{"stream group", `redis.call("XGROUP", "CREATE", KEYS[1], ARGV[1], "0", "MKSTREAM")`, false},
		{"stream group built", `redis.call("XGROUP", "CREATE", ARGV[1], "g", "0")`, true},
		{"autoclaim", `redis.call("XAUTOCLAIM", KEYS[1], ARGV[1], ARGV[2], 10, "0-0", "COUNT", 1)`, false},
		{"autoclaim built", `redis.call("XAUTOCLAIM", "reflex:" .. ARGV[1], "g", "c", 10, "0-0")`, true},
		{"publish", `redis.call("PUBLISH", ARGV[1], ARGV[2])`, false},
		{"local function", `local s = KEYS[1] local function ack(id) redis.call("XACK", s, "g", id) end ack(ARGV[1])`, false},
		{"local function built", `local function ack(k) redis.call("XACK", k, "g", "1-1") end ack(ARGV[1])`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, err := checkScript(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if bad := len(problems) > 0; bad != tt.bad {
				t.Errorf("problems %v, want some: %v", problems, tt.bad)
			}
		})
	}
}

type script struct {
	file, name string
	line       int
	source     string
}

// moduleScripts returns the source of every redis.NewScript of the
// module's non-test Go files.
func moduleScripts(t *testing.T) []script {
	t.Helper()
	root := moduleRoot(t)
	var out []script
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkg := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/redis/go-redis/v9" {
				pkg = "redis"
				if imp.Name != nil {
					pkg = imp.Name.Name
				}
			}
		}
		if pkg == "" {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		var inspectErr error
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "NewScript" {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != pkg {
				return true
			}
			pos := fset.Position(call.Pos())
			src, ok := constString(f, call.Args[0])
			if !ok {
				inspectErr = fmt.Errorf("%s:%d: the script's source is not string literals and constants of its file, so it cannot be checked", rel, pos.Line)
				return false
			}
			out = append(out, script{file: rel, line: fset.Position(call.Args[0].Pos()).Line, name: scriptName(f, call), source: src})
			return true
		})
		return inspectErr
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// constString returns the value of a string made of literals and string
// constants declared in f, joined by +.
func constString(f *ast.File, e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := constString(f, e.X)
		b, ok2 := constString(f, e.Y)
		return a + b, ok1 && ok2
	case *ast.ParenExpr:
		return constString(f, e.X)
	case *ast.Ident:
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if name.Name == e.Name && i < len(vs.Values) {
						return constString(f, vs.Values[i])
					}
				}
			}
		}
	}
	return "", false
}

// scriptName returns the variable a script is assigned to, for messages.
func scriptName(f *ast.File, call *ast.CallExpr) string {
	name := "(unnamed)"
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, v := range vs.Values {
				if v == call && i < len(vs.Names) {
					name = vs.Names[i].Name
				}
			}
		}
		return name == "(unnamed)"
	})
	return name
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// problem is one way a script touches a key it was not given.
type problem struct {
	line int
	msg  string
}

func (p problem) String() string { return fmt.Sprintf("line %d: %s", p.line, p.msg) }

// binding is a Lua variable; key stays true while every value assigned to
// it is an element of KEYS.
type binding struct {
	name string
	key  bool
}

type scope struct {
	parent *scope
	vars   map[string]*binding
}

func (s *scope) lookup(name string) *binding {
	for ; s != nil; s = s.parent {
		if b, ok := s.vars[name]; ok {
			return b
		}
	}
	return nil
}

func (s *scope) declare(name string, key bool) {
	s.vars[name] = &binding{name: name, key: key}
}

// use is a variable passed where a command takes a key; it is judged once
// the whole script is read, since a later assignment may spoil it.
type use struct {
	b    *binding
	line int
	cmd  string
}

type checker struct {
	globals  *scope
	problems []problem
	uses     []use
}

// checkScript returns the places where a script touches a key that is not
// one of its KEYS.
func checkScript(src string) ([]problem, error) {
	chunk, err := parse.Parse(strings.NewReader(src), "script")
	if err != nil {
		return nil, err
	}
	c := &checker{globals: &scope{vars: map[string]*binding{}}}
	c.block(chunk, c.globals)
	for _, u := range c.uses {
		if !u.b.key {
			c.report(u.line, "%s: key %q is not always one of KEYS", u.cmd, u.b.name)
		}
	}
	return c.problems, nil
}

func (c *checker) report(line int, format string, args ...any) {
	c.problems = append(c.problems, problem{line: line, msg: fmt.Sprintf(format, args...)})
}

// block walks a block in a scope of its own, where names (loop variables,
// parameters) are declared first, and returns that scope.
func (c *checker) block(stmts []lua.Stmt, parent *scope, names ...string) *scope {
	sc := &scope{parent: parent, vars: map[string]*binding{}}
	for _, n := range names {
		sc.declare(n, false)
	}
	for _, st := range stmts {
		c.stmt(st, sc)
	}
	return sc
}

// exprs walks expressions, skipping absent ones.
func (c *checker) exprs(sc *scope, es ...lua.Expr) {
	for _, e := range es {
		if e != nil {
			c.expr(e, sc)
		}
	}
}

// assign records an assignment to a variable that is not declared by it:
// the local in sight, or else a global.
func (c *checker) assign(sc *scope, name string, key bool) {
	if b := sc.lookup(name); b != nil {
		b.key = b.key && key
	} else {
		c.globals.declare(name, key)
	}
}

func (c *checker) stmt(st lua.Stmt, sc *scope) {
	switch st := st.(type) {
	case *lua.LocalAssignStmt:
		for _, e := range st.Exprs {
			c.expr(e, sc)
		}
		for i, name := range st.Names {
			sc.declare(name, i < len(st.Exprs) && c.isKeysElement(st.Exprs[i], sc))
		}
	case *lua.AssignStmt:
		for _, e := range st.Rhs {
			c.expr(e, sc)
		}
		for i, lhs := range st.Lhs {
			id, ok := lhs.(*lua.IdentExpr)
			if !ok {
				c.expr(lhs, sc)
				continue
			}
			c.assign(sc, id.Value, i < len(st.Rhs) && c.isKeysElement(st.Rhs[i], sc))
		}
	case *lua.FuncCallStmt:
		c.expr(st.Expr, sc)
	case *lua.DoBlockStmt:
		c.block(st.Stmts, sc)
	case *lua.WhileStmt:
		c.expr(st.Condition, sc)
		c.block(st.Stmts, sc)
	case *lua.RepeatStmt:
		c.expr(st.Condition, c.block(st.Stmts, sc))
	case *lua.IfStmt:
		c.expr(st.Condition, sc)
		c.block(st.Then, sc)
		c.block(st.Else, sc)
	case *lua.NumberForStmt:
		c.exprs(sc, st.Init, st.Limit, st.Step)
		c.block(st.Stmts, sc, st.Name)
	case *lua.GenericForStmt:
		c.exprs(sc, st.Exprs...)
		c.block(st.Stmts, sc, st.Names...)
	case *lua.FuncDefStmt:
		if id, ok := st.Name.Func.(*lua.IdentExpr); ok {
			c.assign(sc, id.Value, false)
		}
		c.expr(st.Func, sc)
	case *lua.ReturnStmt:
		for _, e := range st.Exprs {
			c.expr(e, sc)
		}
	}
}

func (c *checker) expr(e lua.Expr, sc *scope) {
	switch e := e.(type) {
	case *lua.FuncCallExpr:
		if c.isRedisCall(e.Func, sc) {
			c.call(e, sc)
		} else if e.Func != nil {
			c.expr(e.Func, sc)
		}
		if e.Receiver != nil {
			c.expr(e.Receiver, sc)
		}
		for _, a := range e.Args {
			c.expr(a, sc)
		}
	case *lua.AttrGetExpr:
		if c.isRedisCall(e, sc) {
			c.report(e.Line(), "redis.call is used other than by calling it: its keys cannot be checked")
		}
		c.expr(e.Object, sc)
		c.expr(e.Key, sc)
	case *lua.FunctionExpr:
		c.block(e.Stmts, sc, e.ParList.Names...)
	case *lua.TableExpr:
		for _, f := range e.Fields {
			c.exprs(sc, f.Key, f.Value)
		}
	case *lua.LogicalOpExpr:
		c.exprs(sc, e.Lhs, e.Rhs)
	case *lua.RelationalOpExpr:
		c.exprs(sc, e.Lhs, e.Rhs)
	case *lua.StringConcatOpExpr:
		c.exprs(sc, e.Lhs, e.Rhs)
	case *lua.ArithmeticOpExpr:
		c.exprs(sc, e.Lhs, e.Rhs)
	case *lua.UnaryMinusOpExpr:
		c.expr(e.Expr, sc)
	case *lua.UnaryNotOpExpr:
		c.expr(e.Expr, sc)
	case *lua.UnaryLenOpExpr:
		c.expr(e.Expr, sc)
	}
}

// isGlobal reports whether e names the global name, not a local that
// hides it.
func (c *checker) isGlobal(e lua.Expr, sc *scope, name string) bool {
	id, ok := e.(*lua.IdentExpr)
	if !ok || id.Value != name {
		return false
	}
	return sc.lookup(name) == nil
}

// isRedisCall reports whether e is redis.call or redis.pcall.
func (c *checker) isRedisCall(e lua.Expr, sc *scope) bool {
	get, ok := e.(*lua.AttrGetExpr)
	if !ok || !c.isGlobal(get.Object, sc, "redis") {
		return false
	}
	k, ok := get.Key.(*lua.StringExpr)
	return ok && (k.Value == "call" || k.Value == "pcall")
}

// isKeysElement reports whether e is KEYS[...], whatever the index.
func (c *checker) isKeysElement(e lua.Expr, sc *scope) bool {
	get, ok := e.(*lua.AttrGetExpr)
	return ok && c.isGlobal(get.Object, sc, "KEYS")
}

// isUnpack reports whether e is unpack(...) or table.unpack(...), and
// whether it unpacks KEYS.
func (c *checker) isUnpack(e lua.Expr, sc *scope) (unpack, ofKeys bool) {
	call, ok := e.(*lua.FuncCallExpr)
	if !ok {
		return false, false
	}
	switch f := call.Func.(type) {
	case *lua.IdentExpr:
		unpack = c.isGlobal(f, sc, "unpack")
	case *lua.AttrGetExpr:
		k, ok := f.Key.(*lua.StringExpr)
		unpack = ok && k.Value == "unpack" && c.isGlobal(f.Object, sc, "table")
	}
	return unpack, unpack && len(call.Args) > 0 && c.isGlobal(call.Args[0], sc, "KEYS")
}

// call checks the key arguments of one redis.call.
func (c *checker) call(e *lua.FuncCallExpr, sc *scope) {
	if len(e.Args) == 0 {
		c.report(e.Line(), "redis.call without a command")
		return
	}
	lit, ok := e.Args[0].(*lua.StringExpr)
	if !ok {
		c.report(e.Line(), "the command is not a literal, so its keys cannot be told")
		return
	}
	cmd := strings.ToUpper(lit.Value)
	args := e.Args[1:]
	if cmd == "KEYS" || cmd == "SCAN" {
		c.report(e.Line(), "%s: a script must not look keys up by pattern", cmd)
		return
	}
	isKey, known := keyPositions(cmd)
	if !known {
		c.report(e.Line(), "%s: unknown command; add its key positions to keyPositions", cmd)
		return
	}
	for i, a := range args {
		last := i == len(args)-1
		if unpack, ofKeys := c.isUnpack(a, sc); unpack && last {
			// It expands to every remaining argument.
			if !ofKeys && slices.ContainsFunc([]int{i, i + 1, i + 2, i + 3}, isKey) {
				c.report(a.Line(), "%s: keys unpacked from something else than KEYS", cmd)
			}
			continue
		}
		if _, ok := a.(*lua.Comma3Expr); ok && last {
			c.report(a.Line(), "%s: keys taken from ...", cmd)
			continue
		}
		if !isKey(i) {
			continue
		}
		switch {
		case c.isKeysElement(a, sc):
		case isIdent(a):
			id := a.(*lua.IdentExpr)
			if b := sc.lookup(id.Value); b != nil {
				c.uses = append(c.uses, use{b: b, line: a.Line(), cmd: cmd})
			} else {
				c.report(a.Line(), "%s: key %q is a global, not one of KEYS", cmd, id.Value)
			}
		default:
			if _, ok := a.(*lua.StringConcatOpExpr); ok {
				c.report(a.Line(), "%s: argument %d builds a key name by concatenation", cmd, i+1)
			} else {
				c.report(a.Line(), "%s: argument %d is a key that is not one of KEYS", cmd, i+1)
			}
		}
	}
}

func isIdent(e lua.Expr) bool { _, ok := e.(*lua.IdentExpr); return ok }

// keyPositions tells which arguments of a command (0-based, after the
// command's name) are keys, for the commands scripts use.
func keyPositions(cmd string) (func(int) bool, bool) {
	switch cmd {
	case "DBSIZE", "TIME", "PING", "INFO":
		return func(int) bool { return false }, true
	case "DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "SINTER", "SUNION", "SDIFF", "PFCOUNT":
		return func(int) bool { return true }, true
	case "MSET", "MSETNX":
		return func(i int) bool { return i%2 == 0 }, true
	case "RENAME", "RENAMENX", "SMOVE", "LMOVE", "RPOPLPUSH", "COPY":
		return func(i int) bool { return i < 2 }, true
	case "GET", "SET", "SETNX", "SETEX", "PSETEX", "GETDEL", "GETSET", "APPEND", "STRLEN",
		"INCR", "INCRBY", "DECR", "DECRBY", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST", "TTL", "PTTL", "TYPE",
		"HSET", "HSETNX", "HGET", "HMGET", "HMSET", "HDEL", "HGETALL", "HEXISTS", "HINCRBY", "HLEN", "HKEYS", "HVALS",
		"LPUSH", "RPUSH", "LPOP", "RPOP", "LRANGE", "LREM", "LLEN", "LINDEX", "LSET", "LTRIM",
		"SADD", "SREM", "SMEMBERS", "SISMEMBER", "SCARD", "SPOP",
		"ZADD", "ZREM", "ZCARD", "ZSCORE", "ZMSCORE", "ZRANK", "ZREVRANK", "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE",
		"ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZCOUNT", "ZINCRBY", "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZPOPMIN",
		"XADD", "XLEN", "XRANGE", "XREVRANGE", "XTRIM", "XDEL", "XACK", "XCLAIM", "XAUTOCLAIM", "XPENDING":
		return func(i int) bool { return i == 0 }, true
	case "XGROUP", "XINFO":
		// A subcommand, then the key: XGROUP CREATE key group id.
		return func(i int) bool { return i == 1 }, true
	case "PUBLISH":
		// A channel is not a key.
		return func(int) bool { return false }, true
	}
	return nil, false
}
