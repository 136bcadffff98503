package pubsub_test

import (
	"slices"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// TestDescribe: the description names only kinds that exist, and lists
// the type and kind of every fixture's event.
func TestDescribe(t *testing.T) {
	desc := kit.New().(connectors.Describer).Describe()
	kinds := map[string][]string{}
	for _, e := range desc.Events {
		for _, k := range e.Kinds {
			if !event.KnownKind(event.Kind(k)) {
				t.Errorf("%s: %q is not a kind", e.Type, k)
			}
		}
		kinds[e.Type] = e.Kinds
	}
	c := kit.New()
	for _, f := range kit.Fixtures(t) {
		res, err := c.Parse(kit.Request(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if !slices.Contains(kinds[res.Event.Type], string(res.Event.Kind)) {
			t.Errorf("%s: Describe does not list %s → %s", f.Name, res.Event.Type, res.Event.Kind)
		}
	}
}
