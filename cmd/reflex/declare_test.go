package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanApplyCLI(t *testing.T) {
	p := serve(t)
	env := []string{"REFLEX_URL=" + p.url, "REFLEX_APIKEY=" + e2eAdminKey, "E2E_SECRET=" + e2eSecret}
	dir := t.TempDir()
	file := filepath.Join(dir, "reflex.yaml")
	write := func(content string) {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := `sources:
  - name: acme-github
    connector: github
    secrets: ["env:E2E_SECRET"]
policies:
  - name: main-only
    expression: 'event.branch == "main"'
scopes:
  - name: production
    actions: [deliver]
    types: [event]
    policies: [main-only]
apikeys:
  - name: ci
`
	write(base)
	steps := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"lint", []string{"policy", "lint", file}, 0, []string{"4 objects, all valid"}},
		{"plan", []string{"plan", "-f", file}, 0, []string{"+ policy main-only", `expression: "event.branch == \"main\""`, "+ apikey ci", "Plan: 3 to create, 0 to update, 0 to delete."}},
		{"apply", []string{"apply", "-f", file}, 0, []string{"Applied: 3 to create", "New API key ci", "ci."}},
		{"plan again", []string{"plan", "-f", file}, 0, []string{"No changes: the live state matches the file."}},
		{"drift", []string{"state", "merge", "policy", "main-only", "-c", `{"expression":"true"}`}, 0, []string{"updated"}},
		{"plan shows drift", []string{"plan", "-f", file}, 0, []string{"~ policy main-only (revision 2)", `expression: "true" → "event.branch == \"main\""`}},
		{"policy test", []string{"policy", "test", "--event", "../../fixtures/github/push.branch.golden.json", "--action", "deliver"}, 0, []string{"ALLOW  deliver event", "scopes:  production", "policy:  main-only (allow) → true"}},
	}
	for _, s := range steps {
		out, errOut, code := reflexWithInput(t, env, "", s.args...)
		for _, w := range s.want {
			if code != s.wantCode || !strings.Contains(out, w) {
				t.Fatalf("%s: exit %d, out:\n%s\nerr: %s\nwant exit %d with %q", s.name, code, out, errOut, s.wantCode, w)
			}
		}
	}

	write(strings.Replace(base, `event.branch == "main"`, `event.branch ==`, 1) + "  - name: extra\n")
	for _, args := range [][]string{{"policy", "lint", file}, {"apply", "-f", file}} {
		_, errOut, code := reflexWithInput(t, env, "", args...)
		if code != 1 || !strings.Contains(errOut, "policy/main-only: field expression") || !strings.Contains(errOut, "<input>:1:") {
			t.Fatalf("%v with a bad expression: exit %d, %q", args, code, errOut)
		}
	}
	out, _, _ := reflexWithInput(t, env, "", "state", "get", "apikey", "extra")
	if out != "" {
		t.Fatalf("a file with an error changed the live state: %s", out)
	}
}
