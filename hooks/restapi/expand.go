package restapi

import (
	"context"
	"fmt"
	"slices"

	"github.com/reflexops/reflex/hooks"
)

// ExpandNames resolves names into the names they select: a plain name as
// it is, once check accepts it; a glob (hooks.IsGlob) into what glob
// returns, reported through hooks.Report when it matches none. Errors
// start with provider and, for a glob, with plural (e.g. "repositories")
// and the glob.
func ExpandNames(ctx context.Context, provider, plural string, names []string, check func(name string) error, glob func(ctx context.Context, pattern string) ([]string, error)) ([]string, error) {
	var out []string
	for _, name := range names {
		if !hooks.IsGlob(name) {
			if err := check(name); err != nil {
				return nil, fmt.Errorf("%s: %w", provider, err)
			}
			out = append(out, name)
			continue
		}
		matched, err := glob(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %q: %w", provider, plural, name, err)
		}
		if len(matched) == 0 {
			hooks.Report(ctx, "%s: %s %q: none matches", provider, plural, name)
		}
		out = append(out, matched...)
	}
	return out, nil
}

// Targets returns provider's targets of kind named names, sorted by
// name, each once; empty but not nil when there are none.
func Targets(provider, kind string, names []string) []hooks.Target {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	out := make([]hooks.Target, 0, len(names))
	for _, n := range names {
		out = append(out, hooks.Target{Provider: provider, Kind: kind, Name: n})
	}
	return out
}
