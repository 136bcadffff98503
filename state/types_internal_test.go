package state

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// TestValidateTakesBuiltContent: content a caller built with Go types
// (which goes through a JSON round trip) and the same content as decoded
// from JSON (which does not) pass or fail the schema alike.
func TestValidateTakesBuiltContent(t *testing.T) {
	tests := []struct {
		name    string
		content map[string]any
		valid   bool
	}{
		{"decoded", map[string]any{"name": "gh", "connector": "github", "secrets": []any{"env:A"}}, true},
		{"built", map[string]any{"name": "gh", "connector": "github", "secrets": []string{"env:A"}}, true},
		{"decoded, a bad secret", map[string]any{"name": "gh", "connector": "github", "secrets": []any{"A"}}, false},
		{"built, a bad secret", map[string]any{"name": "gh", "connector": "github", "secrets": []string{"A"}}, false},
		{"decoded, a number for a string", map[string]any{"name": "gh", "connector": json.Number("1")}, false},
		{"built, an int for a string", map[string]any{"name": "gh", "connector": 1}, false},
		{"built, NaN", map[string]any{"name": "gh", "connector": "github", "description": math.NaN()}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate(TypeSource, tt.content)
			if (err == nil) != tt.valid || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Fatalf("validate = %v, want valid %v (or ErrInvalid)", err, tt.valid)
			}
		})
	}
}
