package connectors_test

import (
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
)

type testSettings struct {
	Tolerance connectors.Duration `json:"tolerance"`
	Header    string              `json:"header"`
	Keys      []string            `json:"public_keys"`
	Paths     struct {
		Commit string `json:"commit"`
	} `json:"normalize"`
}

func TestDecodeSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		says     string
	}{
		{"all valid", map[string]any{"tolerance": "90s", "header": "X-Sig", "public_keys": []any{"a"}, "normalize": map[string]any{"commit": "after"}}, ""},
		{"none", nil, ""},
		{"unknown field", map[string]any{"tolerence": "5m"}, "settings.tolerence: is not a setting of this connector"},
		{"duration its decoder refuses", map[string]any{"tolerance": "soon"}, `settings.tolerance: cannot read the duration "soon"`},
		{"negative duration", map[string]any{"tolerance": "-5m"}, "settings.tolerance: "},
		{"wrong type", map[string]any{"header": 5}, "settings.header: got number, want string"},
		{"unknown nested field", map[string]any{"normalize": map[string]any{"sha": "after"}}, "settings.normalize.sha: is not a setting"},
		{"wrong nested type", map[string]any{"normalize": map[string]any{"commit": true}}, "settings.normalize.commit: got bool, want string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testSettings
			err := connectors.DecodeSettings(tt.settings, &s)
			if tt.says == "" {
				if err != nil {
					t.Fatalf("DecodeSettings = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.says) && !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("DecodeSettings = %v, want an error saying %q", err, tt.says)
			}
		})
	}
	var s testSettings
	if err := connectors.DecodeSettings(map[string]any{"tolerance": "90s"}, &s); err != nil || time.Duration(s.Tolerance) != 90*time.Second {
		t.Fatalf("tolerance = %v, %v; want 90s", time.Duration(s.Tolerance), err)
	}
}
