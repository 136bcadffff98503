package policies

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"github.com/google/go-cmp/cmp"
)

// traceVars are the variables of the Reads tests: an event and a service,
// as triggers see them.
func traceVars() map[string]any {
	return map[string]any{
		"event": map[string]any{
			"kind": "code.pushed", "branch": "main", "labels": []any{"ci", "web"},
			"repository": map[string]any{"name": "acme/widget"}, "odd key": "x", "size": float64(3),
		},
		"service": map[string]any{"name": "web-prod", "release": "1.2.0"},
	}
}

func traceEnv(t *testing.T) *cel.Env {
	t.Helper()
	e, err := NewEnv(cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)), cel.Variable("service", cel.MapType(cel.StringType, cel.DynType)))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestReads(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want []Read
	}{
		{"both sides of a true and", `event.branch == "main" && service.release == "1.2.0"`,
			[]Read{{Path: "event.branch", Value: `"main"`}, {Path: "service.release", Value: `"1.2.0"`}}},
		{"the side a false and skips is read too", `event.kind == "x" && event.repository.name.startsWith("acme/")`,
			[]Read{{Path: "event.kind", Value: `"code.pushed"`}, {Path: "event.repository.name", Value: `"acme/widget"`}}},
		{"a missing key is an error", `event.tag == "v1"`,
			[]Read{{Path: "event.tag", Error: "no such key: tag"}}},
		{"presence test and constant index", `has(event.tag) || event["branch"] == "main"`,
			[]Read{{Path: "event.branch", Value: `"main"`}, {Path: "has(event.tag)", Value: "false"}}},
		{"list index and macro range, not the loop variable", `event.labels.exists(l, l == "web") && event.labels[0] == "ci"`,
			[]Read{{Path: "event.labels", Value: `["ci","web"]`}, {Path: "event.labels[0]", Value: `"ci"`}}},
		{"an odd key is quoted", `event["odd key"] == "x" && event.size > 2.0`,
			[]Read{{Path: `event.size`, Value: "3"}, {Path: `event["odd key"]`, Value: `"x"`}}},
		{"a path read twice is listed once", `event.branch == "main" || event.branch == "dev"`,
			[]Read{{Path: "event.branch", Value: `"main"`}}},
		{"a variable read whole", `"branch" in event && service.name != ""`,
			[]Read{{Path: "event", Value: `{"branch":"main","kind":"code.pushed","labels":["ci","web"],"odd key":"x","repository":{"name":"acme/widget"},"size":3}`},
				{Path: "service.name", Value: `"web-prod"`}}},
		{"no reads", `1 == 1`, []Read{}},
	}
	e := traceEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompileIn(e, tt.expr, true)
			if err != nil {
				t.Fatal(err)
			}
			got, omitted := p.Reads(traceVars())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Reads(%s) (-want +got):\n%s", tt.expr, diff)
			}
			if omitted != 0 {
				t.Errorf("omitted %d, want 0", omitted)
			}
		})
	}
}

// TestReadsAreBounded: a long value is cut to MaxValue characters, and
// reads beyond MaxReads are counted, not listed.
func TestReadsAreBounded(t *testing.T) {
	e := traceEnv(t)
	vars := traceVars()
	long := strings.Repeat("é", 500)
	vars["event"].(map[string]any)["message"] = long
	p, err := CompileIn(e, `event.message.size() > 0`, true)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := p.Reads(vars)
	if len(got) != 1 {
		t.Fatalf("reads %v, want one", got)
	}
	if n := utf8.RuneCountInString(got[0].Value); n != MaxValue || !strings.HasSuffix(got[0].Value, "…") || !strings.HasPrefix(got[0].Value, `"éé`) {
		t.Errorf("value of %d characters %q, want %d ending with …", n, got[0].Value, MaxValue)
	}

	var terms []string
	for i := range MaxReads + 5 {
		key := fmt.Sprintf("f%02d", i)
		vars["event"].(map[string]any)[key] = i
		terms = append(terms, "event."+key+" >= 0")
	}
	p, err = CompileIn(e, strings.Join(terms, " && "), true)
	if err != nil {
		t.Fatal(err)
	}
	got, omitted := p.Reads(vars)
	if len(got) != MaxReads || omitted != 5 {
		t.Fatalf("%d reads, %d omitted; want %d and 5", len(got), omitted, MaxReads)
	}
	if got[0].Path != "event.f00" || got[MaxReads-1].Path != fmt.Sprintf("event.f%02d", MaxReads-1) {
		t.Errorf("reads run from %s to %s, want sorted by path from event.f00", got[0].Path, got[MaxReads-1].Path)
	}
}
