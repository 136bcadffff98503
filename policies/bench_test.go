package policies_test

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkDecide decides one webhook's receive among 10, 100 and 1000
// scopes: the one that applies, and others spread over other sources (with
// their own match expressions), object types and actions, as an
// installation with many teams would have. The scopes=1 case is the
// baseline: a decision should cost about the same whatever the number of
// scopes, since scopes are indexed by action, type and source and only the
// candidates' expressions run.
func BenchmarkDecide(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("scopes=%d", n), func(b *testing.B) {
			benchDecide(b, manyScopes(n))
		})
	}
}

// manyScopes declares n scopes, one of which covers the benchmark's
// request, and the policies they apply.
func manyScopes(n int) [][2]string {
	objects := [][2]string{
		pol("verified", `request.verified`, false),
		pol("main", `event.branch == "main"`, false),
		scp(`{"name":"acme","actions":["receive"],"types":["event"],"sources":["acme-github"],"match":"event.repository.name.glob(\"Codertocat/*\")","policies":["verified"]}`),
	}
	for i := range n - 1 {
		var s string
		switch i % 4 {
		case 0, 1: // another team's source
			s = fmt.Sprintf(`{"name":"src-%d","actions":["receive"],"types":["event"],"sources":["other-%d"],"match":"event.repository.name.glob(\"team-%d/*\")","policies":["verified"]}`, i, i, i)
		case 2: // objects
			s = fmt.Sprintf(`{"name":"obj-%d","actions":["read","write"],"types":["build"],"match":"object.application == \"app-%d\"","policies":["verified"]}`, i, i)
		default: // deliveries
			s = fmt.Sprintf(`{"name":"dlv-%d","actions":["deliver"],"types":["event"],"match":"event.repository.name == \"r-%d\"","policies":["main"]}`, i, i)
		}
		objects = append(objects, scp(s))
	}
	return objects
}

func benchDecide(b *testing.B, objects [][2]string) {
	e, _ := engine(b, objects...)
	r := receive(golden(b, "push.branch"))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d := e.Decide(ctx, r); !d.Allowed || len(d.Scopes) != 1 {
			b.Fatalf("decision = %+v", d)
		}
	}
}
