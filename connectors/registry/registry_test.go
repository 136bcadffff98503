package registry_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registry"
	"github.com/reflexops/reflex/fixtures"
)

// minFixtures is the fewest recorded deliveries a connector may have.
const minFixtures = 5

// TestEveryConnectorIsComplete: a registered connector must have recorded
// deliveries with golden events, a doc.go naming the provider docs it
// implements, a fuzz test and a cost benchmark. Each connector lives in
// connectors/<name without '-'>.
func TestEveryConnectorIsComplete(t *testing.T) {
	fuzz := regexp.MustCompile(`(?m)^func FuzzParse\(f \*testing\.F\)`)
	fuzzVerify := regexp.MustCompile(`(?m)^func FuzzVerify\(f \*testing\.F\)`)
	bench := regexp.MustCompile(`connectortest\.BenchmarkCost\(`)
	for _, name := range registry.Names() {
		all, err := fixtures.Load(name)
		if err != nil {
			t.Errorf("connector %s: %v", name, err)
			continue
		}
		if len(all) < minFixtures {
			t.Errorf("connector %s has %d fixtures; record its main event types", name, len(all))
		}
		for _, f := range all {
			if f.Golden == nil {
				t.Errorf("fixture %s/%s has no golden file", name, f.Name)
			}
		}
		dir := filepath.Join("..", strings.ReplaceAll(name, "-", ""))
		doc, err := os.ReadFile(filepath.Join(dir, "doc.go"))
		if err != nil || !strings.Contains(string(doc), "https://") {
			t.Errorf("connector %s: %s/doc.go must link the provider docs it implements", name, dir)
		}
		tests, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		var hasFuzz, hasFuzzVerify, hasBench bool
		for _, file := range tests {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			hasFuzz = hasFuzz || fuzz.Match(src)
			hasFuzzVerify = hasFuzzVerify || fuzzVerify.Match(src)
			hasBench = hasBench || bench.Match(src)
		}
		if !hasFuzz {
			t.Errorf("connector %s: no fuzz test of Parse (func FuzzParse(f *testing.F)) in %s", name, dir)
		}
		if !hasFuzzVerify {
			t.Errorf("connector %s: no fuzz test of Verify (func FuzzVerify(f *testing.F), kit.FuzzVerify) in %s", name, dir)
		}
		if !hasBench {
			t.Errorf("connector %s: no benchmark calling connectortest.BenchmarkCost in %s", name, dir)
		}
		conn, _ := registry.Lookup(name)
		if _, ok := conn.(connectors.Simulator); !ok {
			t.Errorf("connector %s cannot imitate its provider (connectors.Simulator): reflex send and the load tool need it", name)
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
	if err == nil || !strings.Contains(err.Error(), "known: ") || !strings.Contains(err.Error(), "github") {
		t.Fatalf("Lookup(gitlub) = %v, want an error listing the known connectors", err)
	}
}

func TestConfigureRefusesSettingsOfNoConnector(t *testing.T) {
	_, err := registry.Configure("github", map[string]any{"tolerance": "5m"})
	if err == nil || !strings.Contains(err.Error(), "settings") {
		t.Fatalf("Configure(github, settings) = %v, want an error naming settings", err)
	}
}
