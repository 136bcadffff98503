package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/yaml.v3"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/internal/fuzzseed"
)

// FuzzParse feeds arbitrary documents to Parse, seeded with every
// configuration the repository ships: it returns a configuration or a
// one-line error, never both and never a panic, and a configuration it
// accepts, written out as YAML, parses again to the same configuration.
func FuzzParse(f *testing.F) {
	for _, raw := range fuzzseed.Configs(f) {
		f.Add(raw)
	}
	for _, s := range []string{
		"", "sources: [", "sorces: []",
		"sources: [{name: a, connector: gitlab, secrets: [x], settings: {tolerance: 2m, require_signature: true}}]",
		"encryption: {primary: k2, keys: [{id: k1, secret: 'env:K1'}, {id: k2, secret: 'env:K1'}]}",
		"sources: [{name: a, connector: github, secrets: [x], max_body: 512KiB, rate_limit: {per_second: 0.5, burst: 2}}]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		cfg, err := config.Parse(raw)
		if err != nil {
			if cfg != nil {
				t.Fatalf("Parse returned a configuration with the error %v", err)
			}
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("Parse error %q is not one line", msg)
			}
			return
		}
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("the parsed configuration does not encode: %v", err)
		}
		again, err := config.Parse(out)
		if err != nil {
			t.Fatalf("the parsed configuration, written out, does not parse again: %v\n%s", err, out)
		}
		if diff := cmp.Diff(cfg, again, cmpopts.EquateEmpty(), cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("the configuration changed through a round trip (-first +again):\n%s", diff)
		}
	})
}
