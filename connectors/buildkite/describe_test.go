package buildkite

import (
	"slices"
	"testing"

	"github.com/reflexops/reflex/event"
)

// TestDescribeEvents: the description lists exactly the event types the
// connector normalizes.
func TestDescribeEvents(t *testing.T) {
	var described []string
	for _, e := range (&Connector{}).Describe().Events {
		_, isBuild := buildKinds[e.Type]
		_, isJob := jobKinds[e.Type]
		if !isBuild && !isJob {
			t.Errorf("Describe lists %s, which the connector does not normalize", e.Type)
		}
		described = append(described, e.Type)
	}
	for _, kinds := range []map[string]event.Kind{buildKinds, jobKinds} {
		for typ := range kinds {
			if !slices.Contains(described, typ) {
				t.Errorf("Describe does not list %s, which the connector normalizes", typ)
			}
		}
	}
}
