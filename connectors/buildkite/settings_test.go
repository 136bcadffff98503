package buildkite_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/buildkite"
	"github.com/reflexops/reflex/internal/schemacheck"
)

// TestSettingsSchema: the schema compiles, refuses unknown fields and
// describes each setting.
func TestSettingsSchema(t *testing.T) {
	t.Parallel()
	schema := buildkite.New().(connectors.Configurable).SettingsSchema()
	if _, err := schemacheck.Compile("reflex:connectors/buildkite/settings.json", schema); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		AdditionalProperties *bool                     `json:"additionalProperties"`
		Properties           map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal([]byte(schema), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.AdditionalProperties == nil || *doc.AdditionalProperties {
		t.Error("the schema does not refuse unknown fields")
	}
	for _, name := range []string{"tolerance", "require_signature"} {
		if d, _ := doc.Properties[name]["description"].(string); d == "" {
			t.Errorf("setting %s has no description", name)
		}
	}
	if doc.Properties["require_signature"]["default"] != false || doc.Properties["tolerance"]["default"] != "5m" {
		t.Errorf("defaults: require_signature %v, tolerance %v; want false, 5m", doc.Properties["require_signature"]["default"], doc.Properties["tolerance"]["default"])
	}
}

// TestConfigure: the errors name the field.
func TestConfigure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		settings map[string]any
		wantErr  string // empty: accepted
	}{
		{"nil", nil, ""},
		{"empty", map[string]any{}, ""},
		{"both", map[string]any{"tolerance": "2m30s", "require_signature": true}, ""},
		{"shortest tolerance", map[string]any{"tolerance": "1s"}, ""},
		{"longest tolerance", map[string]any{"tolerance": "1h"}, ""},
		{"zero tolerance", map[string]any{"tolerance": "0s"}, "settings.tolerance: 0s is outside 1s to 1h0m0s"},
		{"negative tolerance", map[string]any{"tolerance": "-1m"}, "settings.tolerance"},
		{"tolerance over an hour", map[string]any{"tolerance": "2h"}, "a longer tolerance would let a captured delivery be replayed"},
		{"tolerance not a duration", map[string]any{"tolerance": "soon"}, "settings.tolerance"},
		{"tolerance a number", map[string]any{"tolerance": 300}, "settings.tolerance"},
		{"require_signature not a boolean", map[string]any{"require_signature": "yes"}, "settings.require_signature"},
		{"unknown", map[string]any{"secret_header": "X-Token"}, "settings.secret_header: is not a setting"},
	}
	for _, tt := range tests {
		err := buildkite.New().(connectors.Configurable).Configure(tt.settings)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: Configure = %v, want nil", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: Configure = %v, want an error containing %q", tt.name, err, tt.wantErr)
		}
	}
}
