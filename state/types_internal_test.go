package state

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
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

// TestJSONEqualAgreesWithEncoding: whenever jsonEqual can tell, it tells
// what comparing the two values' JSON encodings tells.
func TestJSONEqualAgreesWithEncoding(t *testing.T) {
	decoded := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	doc := `{"name":"repo","n":3,"ok":true,"none":null,"branches":{"main":{"at":"2026-01-01T00:00:00Z","run":[1,2.5,"x"]}}}`
	tests := []struct {
		name string
		a, b any
	}{
		{"same document", decoded(doc), decoded(doc)},
		{"an int for a float", map[string]any{"n": float64(3)}, map[string]any{"n": 3}},
		{"an int64 for another float", map[string]any{"n": float64(3)}, map[string]any{"n": int64(4)}},
		{"a json.Number", map[string]any{"n": float64(2.5)}, map[string]any{"n": json.Number("2.5")}},
		{"a field more", decoded(`{"a":1}`), decoded(`{"a":1,"b":2}`)},
		{"another field", decoded(`{"a":1}`), decoded(`{"b":1}`)},
		{"nested change", decoded(doc), decoded(strings.Replace(doc, `"x"`, `"y"`, 1))},
		{"list order", decoded(`[1,2]`), decoded(`[2,1]`)},
		{"string for number", decoded(`{"a":"1"}`), decoded(`{"a":1}`)},
		{"null for false", decoded(`{"a":null}`), decoded(`{"a":false}`)},
		{"built list", decoded(`{"a":["x"]}`), map[string]any{"a": []string{"x"}}},
		{"built map", decoded(`{"a":{"b":"c"}}`), map[string]any{"a": map[string]string{"b": "c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ja, _ := json.Marshal(tt.a)
			jb, _ := json.Marshal(tt.b)
			want := string(ja) == string(jb)
			if got, known := jsonEqual(tt.a, tt.b); known && got != want {
				t.Fatalf("jsonEqual = %v, but the encodings %s and %s say %v", got, ja, jb, want)
			}
		})
	}
	if _, known := jsonEqual(decoded(doc), decoded(doc)); !known {
		t.Error("jsonEqual cannot tell two decoded documents apart")
	}
}
