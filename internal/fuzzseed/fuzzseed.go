// Package fuzzseed finds what the repository ships (example and test
// configurations, the expressions they hold, the fixtures' golden events)
// to seed fuzz targets with, so every fuzzer starts from real inputs, and
// signs jobs with fixed keys, so fuzzing stays deterministic.
package fuzzseed

import (
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/wire"
)

// Root returns the module's root folder.
func Root() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..")
}

// Files returns the contents of the files that match the patterns
// (filepath.Glob patterns relative to the module's root), in path order.
// It fails the test when none matches.
func Files(tb testing.TB, patterns ...string) [][]byte {
	tb.Helper()
	var paths []string
	for _, p := range patterns {
		m, err := filepath.Glob(filepath.Join(Root(), p))
		if err != nil {
			tb.Fatalf("pattern %s: %v", p, err)
		}
		paths = append(paths, m...)
	}
	slices.Sort(paths)
	if len(paths) == 0 {
		tb.Fatalf("no file matches %v", patterns)
	}
	out := make([][]byte, 0, len(paths))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// Configs returns the configuration files the repository ships: the
// examples and the tests' own.
func Configs(tb testing.TB) [][]byte {
	tb.Helper()
	return Files(tb, "examples/*.yaml", "examples/*/*.yaml", "testdata/*.yaml")
}

// Expressions returns every CEL expression of the shipped configurations:
// policies' expressions, scopes' matches, and triggers' on, release and
// parameters. It fails the test when there are none.
func Expressions(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, raw := range Configs(tb) {
		var doc struct {
			Policies []struct {
				Expression string `yaml:"expression"`
			} `yaml:"policies"`
			Scopes []struct {
				Match string `yaml:"match"`
			} `yaml:"scopes"`
			Triggers []struct {
				On      string            `yaml:"on"`
				Release string            `yaml:"release"`
				Params  map[string]string `yaml:"params"`
			} `yaml:"triggers"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			tb.Fatal(err)
		}
		for _, p := range doc.Policies {
			out = append(out, p.Expression)
		}
		for _, s := range doc.Scopes {
			out = append(out, s.Match)
		}
		for _, t := range doc.Triggers {
			out = append(out, t.On, t.Release)
			for _, name := range slices.Sorted(maps.Keys(t.Params)) {
				out = append(out, t.Params[name])
			}
		}
	}
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" })
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		tb.Fatal("the shipped configurations hold no expression")
	}
	return out
}

// Events returns the first golden event of each provider's fixtures, in
// provider order: a small, varied set of normalized events to evaluate
// expressions on.
func Events(tb testing.TB) []*event.Event {
	tb.Helper()
	var out []*event.Event
	for _, provider := range fixtures.Providers() {
		fxs, err := fixtures.Load(provider)
		if err != nil {
			tb.Fatal(err)
		}
		for _, fx := range fxs {
			evs, err := fx.Events()
			if err != nil {
				tb.Fatal(err)
			}
			if len(evs) > 0 {
				out = append(out, &evs[0])
				break
			}
		}
	}
	if len(out) == 0 {
		tb.Fatal("the fixtures hold no golden event")
	}
	return out
}

// Signer returns a job signer under the key id with a key derived from
// text, so that what a fuzz target signs is the same on every run, and a
// verifier that trusts it.
func Signer(tb testing.TB, id, text string) (*wire.Signer, wire.Verifier) {
	tb.Helper()
	seed := sha256.Sum256([]byte(text))
	s, err := wire.NewSigner(id, base64.StdEncoding.EncodeToString(seed[:]))
	if err != nil {
		tb.Fatal(err)
	}
	v := wire.Verifier{}
	if err := v.ParsePublicKey(id + "=" + s.PublicKey()); err != nil {
		tb.Fatal(err)
	}
	return s, v
}
