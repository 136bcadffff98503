package artifactory

import (
	"slices"
	"testing"
)

// TestDescribeEvents: the description lists every domain the connector
// normalizes, and only those.
func TestDescribeEvents(t *testing.T) {
	var described []string
	for _, e := range (&Connector{}).Describe().Events {
		described = append(described, e.Type)
	}
	for pair := range kinds {
		if !slices.Contains(described, pair[0]) {
			t.Errorf("Describe does not list %s", pair[0])
		}
	}
	for _, typ := range described {
		found := false
		for pair := range kinds {
			found = found || pair[0] == typ
		}
		if !found {
			t.Errorf("Describe lists %s, which the connector does not normalize", typ)
		}
	}
}
