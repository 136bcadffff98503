package azuredevops

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/schemacheck"
)

func TestStripUserinfo(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://fabrikam@dev.azure.com/fabrikam/P/_git/R": "https://dev.azure.com/fabrikam/P/_git/R",
		"https://dev.azure.com/fabrikam/P/_git/R":          "https://dev.azure.com/fabrikam/P/_git/R",
		"https://dev.azure.com/fabrikam/P/_git/R@x":        "https://dev.azure.com/fabrikam/P/_git/R@x",
		"git@ssh.dev.azure.com:v3/fabrikam/P/R":            "git@ssh.dev.azure.com:v3/fabrikam/P/R",
		"":                                                 "",
	} {
		if got := stripUserinfo(in); got != want {
			t.Errorf("stripUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRepositoryFromURL(t *testing.T) {
	t.Parallel()
	tests := map[string]*event.Repository{
		"https://fabrikam@dev.azure.com/fabrikam/Fabrikam-Fiber/_git/Web":    {Name: "Fabrikam-Fiber/Web", URL: "https://dev.azure.com/fabrikam/Fabrikam-Fiber/_git/Web"},
		"https://dev.azure.com/fabrikam/_git/Fabrikam-Fiber":                 {Name: "Fabrikam-Fiber/Fabrikam-Fiber", URL: "https://dev.azure.com/fabrikam/_git/Fabrikam-Fiber"},
		"https://fabrikam.visualstudio.com/DefaultCollection/Fiber/_git/Web": {Name: "Fiber/Web", URL: "https://fabrikam.visualstudio.com/DefaultCollection/Fiber/_git/Web"},
		"https://tfs.fabrikam.local/tfs/Main/Fiber/_git/Web":                 {Name: "Fiber/Web", URL: "https://tfs.fabrikam.local/tfs/Main/Fiber/_git/Web"},
		"https://dev.azure.com/_git/Web":                                     nil,
		"https://github.com/fabrikam/web":                                    nil,
		"https://dev.azure.com/fabrikam/P/_git/":                             nil,
		"https://dev.azure.com/fabrikam/P/_git/R/extra":                      nil,
		"not a url": nil,
	}
	for in, want := range tests {
		if diff := cmp.Diff(want, repositoryFromURL(in)); diff != "" {
			t.Errorf("repositoryFromURL(%q) (-want +got):\n%s", in, diff)
		}
	}
}

func TestNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"1187": 1187, "20260102.3": 0, "": 0, "-3": 0, "1234567890": 0, "CI_42": 0} {
		if got := number(in); got != want {
			t.Errorf("number(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestSettingsSchema: the schema compiles, refuses unknown fields and
// header names a subscription cannot send, and accepts what Configure
// accepts.
func TestSettingsSchema(t *testing.T) {
	t.Parallel()
	sch, err := schemacheck.Compile("reflex:connectors/azure-devops/settings.json", settingsSchema)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		doc     map[string]any
		wantErr string
	}{
		{doc: map[string]any{}},
		{doc: map[string]any{"header": "X-Reflex-Token"}},
		{doc: map[string]any{"header": "X Token"}, wantErr: "settings.header"},
		{doc: map[string]any{"header": ""}, wantErr: "settings.header"},
		{doc: map[string]any{"header": strings.Repeat("x", 129)}, wantErr: "settings.header"},
		{doc: map[string]any{"token": "x"}, wantErr: "token"},
	}
	for _, tt := range tests {
		err := schemacheck.Validate(sch, "settings", tt.doc)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.doc, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%v: got %v, want an error naming %q", tt.doc, err, tt.wantErr)
		}
	}
}
