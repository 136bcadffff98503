package policies_test

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkDecideManyScopes decides a receive among 600 scopes: 300 for
// other sources, 200 for object types, 100 for other actions, and the one
// that applies. BenchmarkDecideOneScope decides the same request with only
// that scope: the ratio shows that a decision does not scan every scope.
func BenchmarkDecideManyScopes(b *testing.B) {
	objects := [][2]string{pol("verified", `request.verified`, false), pol("main", `event.branch == "main"`, false)}
	for i := range 300 {
		objects = append(objects, scp(fmt.Sprintf(`{"name":"src-%d","actions":["receive"],"types":["event"],"sources":["other-%d"],"match":"event.repository.name.glob(\"team-%d/*\")","policies":["verified"]}`, i, i, i)))
	}
	for i := range 200 {
		objects = append(objects, scp(fmt.Sprintf(`{"name":"obj-%d","actions":["read","write"],"types":["build"],"match":"object.application == \"app-%d\"","policies":["verified"]}`, i, i)))
	}
	for i := range 100 {
		objects = append(objects, scp(fmt.Sprintf(`{"name":"dlv-%d","actions":["deliver"],"types":["event"],"match":"event.repository.name == \"r-%d\"","policies":["main"]}`, i, i)))
	}
	objects = append(objects, scp(`{"name":"acme","actions":["receive"],"types":["event"],"sources":["acme-github"],"match":"event.repository.name.glob(\"Codertocat/*\")","policies":["verified"]}`))
	benchDecide(b, objects)
}

func BenchmarkDecideOneScope(b *testing.B) {
	benchDecide(b, [][2]string{
		pol("verified", `request.verified`, false),
		scp(`{"name":"acme","actions":["receive"],"types":["event"],"sources":["acme-github"],"match":"event.repository.name.glob(\"Codertocat/*\")","policies":["verified"]}`),
	})
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
