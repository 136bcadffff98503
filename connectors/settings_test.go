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

func TestCheckCredentialHeader(t *testing.T) {
	for name, says := range map[string]string{
		"X-Reflex-Token": "", "x-api-key": "",
		"":               "is not a header name",
		"X Token":        "is not a header name",
		"x-request-id":   "shown to policies",
		"User-Agent":     "shown to policies",
		"Authorization":  "meaning of its own",
		"content-type":   "shown to policies",
		"Content-Length": "meaning of its own",
		"Host":           "meaning of its own",
	} {
		err := connectors.CheckCredentialHeader("header", name)
		if says == "" && err != nil || says != "" && (err == nil || !strings.Contains(err.Error(), says) || !strings.HasPrefix(err.Error(), "settings.header: ")) {
			t.Errorf("CheckCredentialHeader(%q) = %v, want %q", name, err, says)
		}
	}
}
