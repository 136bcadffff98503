package gitea

import (
	"slices"
	"testing"
)

// TestDescribeEvents: the description lists exactly the event types the
// connector normalizes.
func TestDescribeEvents(t *testing.T) {
	var described []string
	for _, e := range (&Connector{}).Describe().Events {
		if _, ok := normalizers[e.Type]; !ok {
			t.Errorf("Describe lists %s, which the connector does not normalize", e.Type)
		}
		described = append(described, e.Type)
	}
	for typ := range normalizers {
		if !slices.Contains(described, typ) {
			t.Errorf("Describe does not list %s, which the connector normalizes", typ)
		}
	}
}
