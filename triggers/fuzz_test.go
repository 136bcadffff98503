package triggers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/reflexops/reflex/internal/fuzzseed"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/triggers"
)

// FuzzCompile compiles trigger objects with arbitrary on, release and
// parameter expressions, seeded with the shipped configurations'
// expressions: a trigger either compiles or is refused with a one-line
// error wrapping state.ErrInvalid that names the field; and one that
// compiles explains itself on real events consistently: it fires exactly
// when its on expression is true and what the delivery carries was
// computed, it never fires without its service, and its trace keeps to
// its bounds.
func FuzzCompile(f *testing.F) {
	exprs := fuzzseed.Expressions(f)
	for i, e := range exprs {
		f.Add(e, exprs[(i+1)%len(exprs)], exprs[(i+2)%len(exprs)])
	}
	f.Add(`event.branch == "main"`, `event.commit.substring(0, 7)`, `event.commit`)
	f.Add(`event.tag.startsWith("v")`, ``, `event.nope`)
	f.Add(`true`, `[1, 2]`, `{"a": event.kind}`)
	events := fuzzseed.Events(f)
	svc := state.NewObject(state.TypeService, map[string]any{"name": "web", "zone": "production", "release": "1.2.0"})
	f.Fuzz(func(t *testing.T, on, release, param string) {
		o := state.NewObject(state.TypeTrigger, map[string]any{
			"name": "fuzz", "service": "web", "action": "deploy", "on": on, "release": release,
			"params": map[string]any{"VALUE": param},
		})
		trg, err := triggers.Compile(o)
		if err != nil {
			msg := err.Error()
			if !errors.Is(err, state.ErrInvalid) || !strings.Contains(msg, "field ") || strings.Contains(msg, "\n") {
				t.Fatalf("Compile error %q is not one line wrapping state.ErrInvalid and naming the field", msg)
			}
			return
		}
		for _, ev := range events {
			if x := trg.Explain(ev, nil); x.Fires || x.Result != triggers.ResultNotEvaluated {
				t.Fatalf("without its service: fires %v, result %q; want no evaluation", x.Fires, x.Result)
			}
			x := trg.Explain(ev, svc)
			checkExplanation(t, x, release != "")
		}
	})
}

// checkExplanation checks that an explanation of a trigger whose
// service exists agrees with itself.
func checkExplanation(t *testing.T, x triggers.Explanation, hasRelease bool) {
	t.Helper()
	switch {
	case x.Result != triggers.ResultTrue && x.Result != triggers.ResultFalse && x.Result != triggers.ResultError:
		t.Fatalf("result %q, want true, false or error", x.Result)
	case x.Fires != (x.Result == triggers.ResultTrue && x.Error == ""):
		t.Fatalf("fires %v with result %q and error %q", x.Fires, x.Result, x.Error)
	case x.Result == triggers.ResultError && x.Error == "":
		t.Fatal("result error without an error")
	case x.Result == triggers.ResultFalse && x.Error != "":
		t.Fatalf("result false with the error %q", x.Error)
	case x.Fires && len(x.Params) != 1:
		t.Fatalf("fires with params %v, want VALUE computed", x.Params)
	case x.Fires && !hasRelease && x.Release != "":
		t.Fatalf("fires with release %q, but the trigger declares none", x.Release)
	case len(x.Reads) > policies.MaxReads || x.ReadsOmitted < 0:
		t.Fatalf("%d reads (%d omitted), want at most %d", len(x.Reads), x.ReadsOmitted, policies.MaxReads)
	}
}
