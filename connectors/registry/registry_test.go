package registry_test

import (
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors/registry"
	"github.com/reflexops/reflex/fixtures"
)

// TestEveryConnectorHasFixtures: a connector without recorded deliveries and
// golden events would be untested.
func TestEveryConnectorHasFixtures(t *testing.T) {
	for _, name := range registry.Names() {
		all, err := fixtures.Load(name)
		if err != nil {
			t.Errorf("connector %s: %v", name, err)
			continue
		}
		if len(all) < 5 {
			t.Errorf("connector %s has %d fixtures; record its main event types", name, len(all))
		}
		for _, f := range all {
			if f.Golden == nil {
				t.Errorf("fixture %s/%s has no golden file", name, f.Name)
			}
		}
	}
	for _, p := range fixtures.Providers() {
		if _, err := registry.Lookup(p); err != nil {
			t.Errorf("fixtures/%s has no connector: %v", p, err)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	_, err := registry.Lookup("gitlub")
	if err == nil || !strings.Contains(err.Error(), "known: github") {
		t.Fatalf("Lookup(gitlub) = %v, want an error listing the known connectors", err)
	}
}
