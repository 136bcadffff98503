package harbor

import (
	"slices"
	"testing"
)

// TestDescribeEvents: the description lists exactly the types the
// connector normalizes, in both formats.
func TestDescribeEvents(t *testing.T) {
	var described []string
	for _, e := range (&Connector{}).Describe().Events {
		_, known := meanings[e.Type]
		_, ce := cloudEventTypes[e.Type]
		if !known && !ce {
			t.Errorf("Describe lists %s, which the connector does not normalize", e.Type)
		}
		described = append(described, e.Type)
	}
	for typ := range meanings {
		if !slices.Contains(described, typ) {
			t.Errorf("Describe does not list %s", typ)
		}
	}
	for typ, def := range cloudEventTypes {
		if !slices.Contains(described, typ) {
			t.Errorf("Describe does not list %s", typ)
		}
		if _, ok := meanings[def]; !ok {
			t.Errorf("%s maps to %s, which has no meaning", typ, def)
		}
	}
}
