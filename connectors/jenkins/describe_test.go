package jenkins

import (
	"slices"
	"testing"
)

// TestDescribeEvents: the description lists exactly the phases the
// connector normalizes.
func TestDescribeEvents(t *testing.T) {
	var described []string
	for _, e := range (&Connector{}).Describe().Events {
		described = append(described, e.Type)
	}
	want := []string{phaseQueued, phaseStarted, phaseCompleted, phaseFinalized}
	if !slices.Equal(described, want) {
		t.Fatalf("Describe lists %v, want %v", described, want)
	}
}
