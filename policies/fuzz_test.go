package policies_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/reflexops/reflex/internal/fuzzseed"
	"github.com/reflexops/reflex/policies"
)

// evalBound is far beyond what any expression within the cost limit
// takes, even on a loaded machine: an evaluation slower than this means
// the cost limit let something unbounded through.
const evalBound = 5 * time.Second

// FuzzCompile compiles arbitrary expressions as policies and as scope
// matches, seeded with every expression the shipped configurations and
// the tests hold: an expression either compiles or is refused with a
// one-line ErrExpression; what compiles evaluates on real events to a
// bool or an error, within the cost limit; and its trace stays within
// its bounds.
func FuzzCompile(f *testing.F) {
	for _, e := range fuzzseed.Expressions(f) {
		f.Add(e)
	}
	for _, e := range []string{
		`event.kind.endsWith(".deleted")`, `cidr("192.30.252.0/22").containsIP(request.ip)`,
		`"ci-" + object.pipeline == caller.name`, `"readers" in caller.groups`,
		`caller.kind == "agent" && caller.zone == "production" && "prod-agents" in caller.groups`,
		`now - duration("1h") < now`, `event.tag.semverNewer("1.0.0")`, `has(event.build) && event.build.outcome == "success"`,
		`lists.range(100000).size() > 0`, `"ab".replace("", "abababababab").replace("", "abababababab").size() > 0`,
		`[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, a+b+c > 0)))`,
		`event.repository.name.split("/").join("-").matches("^[a-z-]+$")`, `1`, `"x"`, `event`,
	} {
		f.Add(e)
	}
	vars := fuzzVars(f)
	f.Fuzz(func(t *testing.T, expr string) {
		for _, compile := range []func(string) (*policies.Program, error){policies.Compile, policies.CompileMatch} {
			prg, err := compile(expr)
			if err != nil {
				if !errors.Is(err, policies.ErrExpression) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("compile error %q is not one line wrapping ErrExpression", err)
				}
				continue
			}
			for _, v := range vars {
				checkEval(t, prg, v)
			}
		}
	})
}

// checkEval evaluates a compiled program on vars: the evaluation ends in
// time, and the trace of what it read keeps to its bounds.
func checkEval(t *testing.T, prg *policies.Program, vars map[string]any) {
	t.Helper()
	start := time.Now()
	_, _ = prg.Eval(vars) // a bool or an error: both are decisions
	reads, omitted := prg.Reads(vars)
	if took := time.Since(start); took > evalBound {
		t.Fatalf("evaluating %q took %s", prg.Source, took)
	}
	if len(reads) > policies.MaxReads || omitted < 0 {
		t.Fatalf("trace of %q lists %d reads (%d omitted), want at most %d", prg.Source, len(reads), omitted, policies.MaxReads)
	}
	for _, r := range reads {
		if n := max(utf8.RuneCountInString(r.Value), utf8.RuneCountInString(r.Error)); n > policies.MaxValue {
			t.Fatalf("trace of %q: read %s is %d characters, want at most %d", prg.Source, r.Path, n, policies.MaxValue)
		}
	}
}

// fuzzVars are the variables of a few decisions: a verified webhook of
// each fixture's provider, received by a source.
func fuzzVars(f *testing.F) []map[string]any {
	var out []map[string]any
	for _, ev := range fuzzseed.Events(f) {
		out = append(out, map[string]any{
			"caller": map[string]any{"kind": "source", "name": ev.Source, "groups": []any{"ci", "readers"}, "master": false,
				"source": ev.Source, "connector": ev.Connector, "zone": "production"},
			"request":   map[string]any{"ip": "192.30.252.10", "headers": map[string]any{"user-agent": "GitHub-Hookshot/1"}, "verified": true},
			"action":    "receive",
			"type":      policies.TypeEvent,
			"object":    map[string]any{"zone": "production", "pipeline": "build"},
			"event":     policies.JSONMap(ev),
			"sensitive": false,
			"now":       ev.ReceivedAt,
		})
	}
	return out
}
