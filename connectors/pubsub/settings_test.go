package pubsub_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/pubsub"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/schemacheck"
)

// TestSettingsSchema: the schema requires an audience and a service
// account, and refuses what Configure would.
func TestSettingsSchema(t *testing.T) {
	sch, err := schemacheck.Compile("reflex:connectors/pubsub/settings.json", pubsub.New().(connectors.Configurable).SettingsSchema())
	if err != nil {
		t.Fatal(err)
	}
	base := `"audience": "https://reflex.example.com/hooks/gcp", "service_accounts": ["push@p.iam.gserviceaccount.com"]`
	tests := []struct {
		name, doc, says string
	}{
		{"the fixtures' settings", "", ""},
		{"the least", `{` + base + `}`, ""},
		{"every field", `{` + base + `, "keys_url": "https://keys.example.com/certs", "issuers": ["https://accounts.google.com"], "subscriptions": ["projects/example.com:acme/subscriptions/builds"]}`, ""},
		{"nothing", `{}`, "settings.audience: is required"},
		{"no service account", `{"audience": "x"}`, "settings.service_accounts: is required"},
		{"service accounts empty", `{"audience": "x", "service_accounts": []}`, "settings.service_accounts"},
		{"service account not an email", `{"audience": "x", "service_accounts": ["push"]}`, "settings.service_accounts.0"},
		{"audience empty", `{"audience": "", "service_accounts": ["a@b"]}`, "settings.audience"},
		{"unknown field", `{` + base + `, "tolerance": "5m"}`, "settings.tolerance: is not a field"},
		{"subscription by short name", `{` + base + `, "subscriptions": ["builds"]}`, "settings.subscriptions.0"},
		{"issuers empty", `{` + base + `, "issuers": []}`, "settings.issuers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc any
			if tt.doc == "" {
				s, err := fixtures.SourceSettings(pubsub.Name)
				if err != nil {
					t.Fatal(err)
				}
				doc = s
			} else if err := json.Unmarshal([]byte(tt.doc), &doc); err != nil {
				t.Fatal(err)
			}
			err := schemacheck.Validate(sch, "settings", doc)
			switch {
			case tt.says == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)):
				t.Fatalf("got %v, want an error saying %q", err, tt.says)
			}
		})
	}
}

// TestConfigure: what Configure refuses beyond the schema, naming the
// field, and what HasKeys says of the result.
func TestConfigure(t *testing.T) {
	sa := []any{"push@p.iam.gserviceaccount.com"}
	tests := []struct {
		name     string
		settings map[string]any
		says     string
		keys     bool
	}{
		{"none", nil, "", false},
		{"audience and service account", map[string]any{"audience": "https://r.example.com/hooks/gcp", "service_accounts": sa}, "", true},
		{"audience only", map[string]any{"audience": "https://r.example.com/hooks/gcp"}, "", false},
		{"blank audience", map[string]any{"audience": " ", "service_accounts": sa}, "settings.audience: is empty", false},
		{"service accounts empty", map[string]any{"audience": "a", "service_accounts": []any{}}, "settings.service_accounts: is empty", false},
		{"service account with a name", map[string]any{"audience": "a", "service_accounts": []any{"Push <push@p.iam.gserviceaccount.com>"}}, "settings.service_accounts[0]: ", false},
		{"service account not a string", map[string]any{"audience": "a", "service_accounts": []any{1}}, "settings.service_accounts", false},
		{"keys over http", map[string]any{"audience": "a", "service_accounts": sa, "keys_url": "http://keys.example.com/certs"}, "settings.keys_url: ", false},
		{"keys without a host", map[string]any{"audience": "a", "service_accounts": sa, "keys_url": "https:///certs"}, "settings.keys_url: ", false},
		{"keys on loopback over http", map[string]any{"audience": "a", "service_accounts": sa, "keys_url": "http://127.0.0.1:8080/certs"}, "", true},
		{"issuers empty", map[string]any{"audience": "a", "service_accounts": sa, "issuers": []any{}}, "settings.issuers: ", false},
		{"issuer empty", map[string]any{"audience": "a", "service_accounts": sa, "issuers": []any{""}}, "settings.issuers[0]: is empty", false},
		{"subscription by short name", map[string]any{"audience": "a", "service_accounts": sa, "subscriptions": []any{"builds"}}, "settings.subscriptions[0]: ", false},
		{"subscriptions empty", map[string]any{"audience": "a", "service_accounts": sa, "subscriptions": []any{}}, "settings.subscriptions: is empty", false},
		{"unknown field", map[string]any{"audience": "a", "service_accounts": sa, "secret": "x"}, "settings.secret: is not a setting", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := pubsub.New()
			err := c.(connectors.Configurable).Configure(tt.settings)
			switch {
			case tt.says == "" && err != nil:
				t.Fatalf("Configure: %v", err)
			case tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)):
				t.Fatalf("Configure = %v, want an error saying %q", err, tt.says)
			case err == nil && c.(connectors.KeyHolder).HasKeys() != tt.keys:
				t.Fatalf("HasKeys = %v, want %v", !tt.keys, tt.keys)
			}
		})
	}
}

// TestIssuersSetting: settings.issuers replaces Google's issuers.
func TestIssuersSetting(t *testing.T) {
	key := rsaKey(t, testKey)
	c := configure(t, goodKeys, func(s map[string]any) { s["issuers"] = []any{"https://oidc.internal.example.com"} })
	f, err := fixtures.Get(pubsub.Name, "gcr.insert")
	if err != nil {
		t.Fatal(err)
	}
	req := kit.Request(t, f)
	for iss, ok := range map[string]bool{"https://oidc.internal.example.com": true, "https://accounts.google.com": false} {
		bearer(token(t, key, func(c map[string]any) { c["iss"] = iss }))(req)
		if err := c.Verify(t.Context(), req, nil); (err == nil) != ok {
			t.Errorf("issuer %s: Verify = %v, want accepted %v", iss, err, ok)
		}
	}
}
