package gitlab

import "testing"

// TestKnownTypes: the lookup table agrees with the rule it shortcuts.
func TestKnownTypes(t *testing.T) {
	t.Parallel()
	for header, want := range knownTypes {
		if got := slugOf(header); got != want {
			t.Errorf("slugOf(%q) = %q; the table says %q", header, got, want)
		}
	}
}
