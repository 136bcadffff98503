package eventbridge_test

import (
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/awsevents"
	"github.com/reflexops/reflex/connectors/eventbridge"
)

// TestDescribeEvents: the description lists exactly the detail-types
// awsevents normalizes.
func TestDescribeEvents(t *testing.T) {
	t.Parallel()
	n := 0
	for _, e := range eventbridge.New().(connectors.Describer).Describe().Events {
		if !awsevents.Normalizes(e.Type) {
			t.Errorf("Describe lists %s, which the connector does not normalize", e.Type)
		}
		n++
	}
	if n != 3 {
		t.Errorf("Describe lists %d event types, want the 3 awsevents normalizes", n)
	}
}
