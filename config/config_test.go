package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reflexops/reflex/config"
)

func TestLoadMinimal(t *testing.T) {
	t.Setenv("ACME_GITHUB_SECRET", "s3cret")
	path := writeFile(t, `
sources:
  - name: acme-github
    connector: github
    secrets: ["env:ACME_GITHUB_SECRET"]
`)
	_, sources, err := config.Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(sources) != 1 || sources[0].Name != "acme-github" || sources[0].Connector.Name() != "github" {
		t.Fatalf("sources = %+v", sources)
	}
	if got := string(sources[0].Secrets[0]); got != "s3cret" {
		t.Fatalf("secret = %q, want the environment variable's value", got)
	}
}

func TestLoadErrors(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(emptyFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SET_SECRET", "x")
	t.Setenv("EMPTY_SECRET", "")
	tests := []struct {
		name    string
		yaml    string
		wantErr string // empty: must load
	}{
		{name: "literal and file secrets", yaml: "sources: [{name: a, connector: github, secrets: [lit, 'file:" + secretFile + "']}]"},
		{name: "no sources", yaml: "sources: []"},
		{name: "empty file", yaml: ""},
		{name: "unknown top-level field", yaml: "sorces: []", wantErr: "field sorces not found"},
		{name: "unknown source field", yaml: "sources: [{name: a, connector: github, secrets: [x], secret: y}]", wantErr: "field secret not found"},
		{name: "missing secrets", yaml: "sources: [{name: a, connector: github}]", wantErr: `source "a": at least one secret is required`},
		{name: "empty literal secret", yaml: "sources: [{name: a, connector: github, secrets: ['']}]", wantErr: "secret is empty"},
		{name: "unset env secret", yaml: "sources: [{name: a, connector: github, secrets: ['env:NOPE_NOT_SET']}]", wantErr: "NOPE_NOT_SET is empty or not set"},
		{name: "empty env secret", yaml: "sources: [{name: a, connector: github, secrets: ['env:SET_SECRET', 'env:EMPTY_SECRET']}]", wantErr: "secrets[1]: environment variable EMPTY_SECRET"},
		{name: "empty secret file", yaml: "sources: [{name: a, connector: github, secrets: ['file:" + emptyFile + "']}]", wantErr: "is empty"},
		{name: "missing secret file", yaml: "sources: [{name: a, connector: github, secrets: ['file:/nonexistent/x']}]", wantErr: "read secret file"},
		{name: "confirm password of a connector that confirms nothing", yaml: "sources: [{name: a, connector: github, secrets: [x], confirm_password: y}]", wantErr: `source "a": confirm_password: the github connector confirms nothing with its provider`},
		{name: "unknown connector", yaml: "sources: [{name: a, connector: gitlub, secrets: [x]}]", wantErr: `unknown connector "gitlub" (known: acr, artifactory, azure-devops, `},
		{name: "missing connector", yaml: "sources: [{name: a, secrets: [x]}]", wantErr: "connector is required"},
		{name: "missing name", yaml: "sources: [{connector: github, secrets: [x]}]", wantErr: "sources[0]: name is required"},
		{name: "bad name", yaml: "sources: [{name: 'A/B', connector: github, secrets: [x]}]", wantErr: "name must be"},
		{name: "gitlab settings", yaml: "sources: [{name: a, connector: gitlab, secrets: [x], settings: {tolerance: 2m, require_signature: true}}]"},
		{name: "misspelt setting", yaml: "sources: [{name: a, connector: gitlab, secrets: [x], settings: {tolerence: 2m}}]", wantErr: `source "a": field settings.tolerence: is not a field`},
		{name: "setting of the wrong type", yaml: "sources: [{name: a, connector: gitlab, secrets: [x], settings: {require_signature: yes-please}}]", wantErr: `source "a": field settings.require_signature`},
		{name: "settings of a connector without any", yaml: "sources: [{name: a, connector: github, secrets: [x], settings: {tolerance: 2m}}]", wantErr: "the github connector takes no settings"},
		{name: "duplicate name", yaml: "sources: [{name: a, connector: github, secrets: [x]}, {name: a, connector: github, secrets: [y]}]", wantErr: "declared twice"},
		{name: "not yaml", yaml: "sources: [", wantErr: "did not find expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := config.Load(writeFile(t, tt.yaml))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Load error = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

func TestResolveSecretNeverEchoes(t *testing.T) {
	_, err := config.ResolveSecret("env:REFLEX_TEST_UNSET_VAR")
	if err == nil {
		t.Fatal("want an error for an unset variable")
	}
	v, err := config.ResolveSecret("plain-value")
	if err != nil || string(v) != "plain-value" {
		t.Fatalf("literal = %q, %v", v, err)
	}
}

// TestExampleConfigs loads every example configuration the repository
// ships, so none of them can rot.
func TestExampleConfigs(t *testing.T) {
	matches, _ := filepath.Glob("../examples/*/*.yaml")
	more, _ := filepath.Glob("../examples/*.yaml")
	matches = append(matches, more...)
	if len(matches) == 0 {
		t.Fatal("no example configurations found under examples/")
	}
	for _, path := range matches {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := config.Parse(raw); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "reflex.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKeyRing(t *testing.T) {
	t.Setenv("K1", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=") // 32 bytes
	tests := []struct {
		name, yaml, want string
	}{
		{"one key", "encryption: {keys: [{id: k1, secret: 'env:K1'}]}", ""},
		{"two keys with primary", "encryption: {primary: k2, keys: [{id: k1, secret: 'env:K1'}, {id: k2, secret: 'env:K1'}]}", ""},
		{"two keys without primary", "encryption: {keys: [{id: k1, secret: 'env:K1'}, {id: k2, secret: 'env:K1'}]}", "primary is required"},
		{"unknown primary", "encryption: {primary: k9, keys: [{id: k1, secret: 'env:K1'}]}", `primary "k9" is not among the keys`},
		{"short key", "encryption: {keys: [{id: k1, secret: 'c2hvcnQ='}]}", "want 32 bytes in base64"},
		{"no keys", "encryption: {keys: []}", "at least one key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tt.yaml))
			if err == nil {
				kr, krErr := cfg.KeyRing()
				err = krErr
				if err == nil && kr == nil {
					t.Fatal("no key ring built")
				}
			}
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
