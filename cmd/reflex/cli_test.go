package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// closedURL is a server nobody listens on: a command that checks its input
// first fails there only if it sent a request.
func closedURL(t *testing.T) string {
	t.Helper()
	return "http://" + freeAddr(t)
}

// wantOneLineError fails the test unless a command failed with status 1,
// printed nothing on stdout and one reflex: line containing want on stderr.
func wantOneLineError(t *testing.T, what, stdout, stderr string, code int, want string) {
	t.Helper()
	if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "reflex: ") || !strings.Contains(stderr, want) {
		t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1, no output and one reflex: line with %q", what, code, stdout, stderr, want)
	}
}

// tableLines splits a table's output into lines of fields.
func tableLines(out string) [][]string {
	var lines [][]string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		lines = append(lines, strings.Fields(l))
	}
	return lines
}

// examplePolicyServer is `reflex serve` with examples/secured-delivery's
// configuration, the example's pipeline, its service hello-prod (zone
// production) and a service hello-lab without a zone.
func examplePolicyServer(t *testing.T) *process {
	t.Helper()
	seed, _, err := wire.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	redisURL := ""
	if os.Getenv("REDIS_URL") != "" {
		redisURL = redistest.New(t).URL
	}
	p := serveWith(t, redisURL, "../../examples/secured-delivery/reflex.yaml",
		[]string{"ACME_GITHUB_SECRET=" + e2eSecret, "ACME_HARBOR_SECRET=" + e2eSecret, "REFLEX_SIGNING_KEY_K1=" + seed})
	for _, args := range [][]string{
		{"create", "pipeline", "-c", `{"name":"hello","services":["hello-prod","hello-lab"]}`},
		{"create", "service", "-c", `{"name":"hello-prod","pipeline":"hello","zone":"production"}`},
		{"create", "service", "-c", `{"name":"hello-lab","pipeline":"hello"}`},
	} {
		if _, errOut, code := stateCLI(t, p, "", args...); code != 0 {
			t.Fatalf("state %v: %s", args, errOut)
		}
	}
	return p
}

// recordedDecision returns the deliver decision recorded for an event.
func recordedDecision(t *testing.T, p *process, id string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.url+"/api/v1/decisions/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+e2eAdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var trail []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&trail); err != nil {
		t.Fatalf("decode the trail of %s: %v", id, err)
	}
	var found []map[string]any
	for _, d := range trail {
		if d["action"] == "deliver" {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("trail of %s = %v, want one deliver decision", id, trail)
	}
	return found[0]
}

// TestPolicyTestCLI: policy test sends the event and the object together,
// so its answer is the decision a real delivery of the event gets; DENY
// exits 1; bad input is refused before any request.
func TestPolicyTestCLI(t *testing.T) {
	p := examplePolicyServer(t)
	env := []string{"REFLEX_URL=" + p.url, "REFLEX_APIKEY=" + e2eAdminKey}
	if _, errOut, code := reflexCmd(t, nil, "send", "--url", p.url, "--source", "acme-github", "--secret", e2eSecret,
		"--delivery", "pt-image", "../../fixtures/github/registry_package.published.json"); code != 0 {
		t.Fatalf("send: %s", errOut)
	}
	waitEvent(t, p, "pt-image")
	real := recordedDecision(t, p, "pt-image")
	if real["allowed"] != true || real["service"] != "hello-prod" {
		t.Fatalf("the real decision = %v, want hello-prod's delivery allowed", real)
	}

	image := "../../fixtures/github/registry_package.published.golden.json"
	build := "../../fixtures/github/workflow_run.completed.golden.json"
	deliver := func(event, service string, extra ...string) []string {
		return append([]string{"policy", "test", "--event", event, "--action", "deliver", "--type", "service", "--name", service}, extra...)
	}
	steps := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		// The README's example: the build of master is refused by the
		// production scope's policy (before, the object was dropped and no
		// scope matched).
		{"readme example", deliver(build, "hello-prod"), 1, []string{"DENY  deliver event 0b5f75b8-", "reason:  no policy of the matching scopes allows it", "scopes:  production", "policy:  main-only (allow) → false"}},
		{"allowed", deliver(image, "hello-prod"), 0, []string{"ALLOW  deliver event 058d8209-dc44-4933-8e22-32ca31dac0c6", "scopes:  production", "policy:  main-only (allow) → true"}},
		{"stored event", deliver("pt-image", "hello-prod"), 0, []string{"ALLOW  deliver event pt-image", "scopes:  production"}},
		{"no zone", deliver(image, "hello-lab"), 1, []string{"DENY  deliver event", "scopes:  (none matched)"}},
		{"yaml", deliver(image, "hello-prod", "-o", "yaml"), 0, []string{"allowed: true\n", "scopes:\n  - production\n"}},
		{"table", deliver(image, "hello-lab", "-o", "table"), 1, []string{"DECISION  ACTION   TYPE   TARGET", "DENY      deliver  event  058d8209-"}},
		{"object target", []string{"policy", "test", "--type", "service", "--name", "hello-prod", "--caller", "ci", "--action", "read"}, 1, []string{"DENY  read service hello-prod"}},
	}
	for _, s := range steps {
		out, errOut, code := reflexCmd(t, env, s.args...)
		for _, w := range s.want {
			if code != s.wantCode || !strings.Contains(out, w) {
				t.Fatalf("%s: exit %d, out:\n%s\nerr: %q\nwant exit %d with %q", s.name, code, out, errOut, s.wantCode, w)
			}
		}
		if wantErr := map[int]string{0: "", 1: "reflex: denied\n"}[s.wantCode]; errOut != wantErr {
			t.Errorf("%s: stderr %q, want %q", s.name, errOut, wantErr)
		}
	}

	// The CLI's answer is the decision the delivery got.
	for _, args := range [][]string{deliver(image, "hello-prod", "--json"), deliver(image, "hello-prod", "-o", "json")} {
		out, errOut, code := reflexCmd(t, env, args...)
		var got map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
			t.Fatalf("%v: exit %d, %q %q", args, code, out, errOut)
		}
		for _, k := range []string{"allowed", "reason", "action", "type", "scopes", "policies"} {
			if g, w := compactJSON(got[k]), compactJSON(real[k]); g != w {
				t.Errorf("%v: %s = %s, the real decision's is %s", args, k, g, w)
			}
		}
	}
	out, errOut, code := reflexCmd(t, env, deliver(image, "hello-lab", "--json")...)
	var denied map[string]any
	if code != 1 || errOut != "reflex: denied\n" || json.Unmarshal([]byte(out), &denied) != nil || denied["allowed"] != false {
		t.Errorf("--json on a DENY: exit %d, out %q, err %q; want exit 1, the decision as JSON and reflex: denied", code, out, errOut)
	}

	bad := closedURL(t)
	for _, b := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown action", []string{"--event", image, "--action", "deploy"}, `--action "deploy": want receive, deliver, read, write or take`},
		{"admin is no action", []string{"--type", "service", "--name", "x", "--action", "admin"}, `--action "admin"`},
		{"unknown output", []string{"--event", image, "-o", "xml"}, `--output "xml": want text, json, yaml or table`},
		{"json and table", []string{"--event", image, "--json", "-o", "table"}, "--json is -o json"},
		{"type without name", []string{"--event", image, "--type", "service"}, "--type and --name go together"},
		{"no target", []string{"--action", "read"}, "name the target"},
	} {
		out, errOut, code := reflexCmd(t, []string{"REFLEX_APIKEY=" + e2eAdminKey}, append([]string{"policy", "test", "--url", bad}, b.args...)...)
		wantOneLineError(t, b.name, out, errOut, code, b.want)
	}
}

// TestPlanCLIOutputs: plan prints values unescaped, in every format, and
// --detailed-exitcode tells no changes (0) from changes (2).
func TestPlanCLIOutputs(t *testing.T) {
	p := serve(t)
	env := []string{"REFLEX_URL=" + p.url, "REFLEX_APIKEY=" + e2eAdminKey, "E2E_SECRET=" + e2eSecret}
	file := filepath.Join(t.TempDir(), "reflex.yaml")
	decl := `sources:
  - name: acme-github
    connector: github
    secrets: ["env:E2E_SECRET"]
policies:
  - name: main-only
    expression: 'event.branch == "main" && request.verified'
scopes:
  - name: production
    actions: [deliver]
    types: [event]
    match: 'has(object.zone) && object.zone == "production"'
    policies: [main-only]
`
	writeFile(t, file, decl)
	steps := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"text", []string{"plan", "-f", file}, 0, []string{`expression: "event.branch == \"main\" && request.verified"`, "Plan: 2 to create"}},
		{"json", []string{"plan", "-f", file, "-o", "json"}, 0, []string{`"to": "event.branch == \"main\" && request.verified"`, `"op": "create"`}},
		{"yaml", []string{"plan", "-f", file, "-o", "yaml"}, 0, []string{"changes:\n  - op: create\n", "event.branch == \"main\" && request.verified"}},
		{"table", []string{"plan", "-f", file, "-o", "table"}, 0, []string{"OP ", " TYPE ", " FIELDS\n", "create"}},
		{"detailed, changes", []string{"plan", "-f", file, "--detailed-exitcode"}, 2, []string{"Plan: 2 to create"}},
		{"detailed json, changes", []string{"plan", "-f", file, "--detailed-exitcode", "-o", "json"}, 2, []string{`"changes": [`}},
		{"apply as yaml", []string{"apply", "-f", file, "-o", "yaml"}, 0, []string{"status: applied\n", "applied:\n  - op: create\n"}},
		{"detailed, no changes", []string{"plan", "-f", file, "--detailed-exitcode"}, 0, []string{"No changes"}},
		{"detailed json, no changes", []string{"plan", "-f", file, "--detailed-exitcode", "-o", "json"}, 0, []string{`"changes": []`}},
	}
	for _, s := range steps {
		out, errOut, code := reflexCmd(t, env, s.args...)
		for _, w := range s.want {
			if code != s.wantCode || !strings.Contains(out, w) {
				t.Fatalf("%s: exit %d, out:\n%s\nerr: %q\nwant exit %d with %q", s.name, code, out, errOut, s.wantCode, w)
			}
		}
		if strings.Contains(out, `\u00`) {
			t.Errorf("%s: HTML-escaped output:\n%s", s.name, out)
		}
		if lines := tableLines(out); s.name == "table" && (!slices.Equal(lines[0], []string{"OP", "TYPE", "NAME", "REVISION", "FIELDS"}) ||
			!slices.ContainsFunc(lines, func(l []string) bool { return slices.Equal(l, []string{"create", "policy", "main-only", "expression"}) })) {
			t.Errorf("plan -o table:\n%s", out)
		}
		if s.args[0] == "plan" && strings.Contains(s.name, "json") {
			var plan map[string]any
			if err := json.Unmarshal([]byte(out), &plan); err != nil {
				t.Errorf("%s: not JSON: %v", s.name, err)
			}
		}
	}

	// A new API key: apply's table has a KEY column, the key in it.
	writeFile(t, file, decl+"apikeys:\n  - name: ci\n")
	out, errOut, code := reflexCmd(t, env, "apply", "-f", file, "-o", "table")
	lines := tableLines(out)
	if code != 0 || len(lines) < 2 || !slices.Equal(lines[0], []string{"OP", "TYPE", "NAME", "REVISION", "FIELDS", "KEY"}) ||
		lines[1][0] != "create" || lines[1][1] != "apikey" || !strings.HasPrefix(lines[1][len(lines[1])-1], "ci.") {
		t.Fatalf("apply -o table with a new key: exit %d\n%s%s", code, out, errOut)
	}
	// Live objects the file does not declare are no change without
	// --prune; with it, they are.
	writeFile(t, file, strings.SplitN(decl, "scopes:", 2)[0]+"apikeys:\n  - name: ci\n")
	out, _, code = reflexCmd(t, env, "plan", "-f", file, "-o", "table", "--detailed-exitcode")
	if code != 0 || !slices.ContainsFunc(tableLines(out), func(l []string) bool { return slices.Equal(l, []string{"unmanaged", "scope", "production"}) }) {
		t.Errorf("plan with an unmanaged scope: exit %d\n%s", code, out)
	}
	out, _, code = reflexCmd(t, env, "plan", "-f", file, "--prune", "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "- scope production") {
		t.Errorf("plan --prune with an unmanaged scope: exit %d\n%s", code, out)
	}

	bad := closedURL(t)
	for _, b := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown output", []string{"plan", "-f", file, "-o", "xml"}, `--output "xml": want text, json, yaml or table`},
		{"apply unknown output", []string{"apply", "-f", file, "-o", "wide"}, `--output "wide": want text, json, yaml or table`},
		{"no file, detailed", []string{"plan", "--detailed-exitcode"}, "-f FILE is required"},
	} {
		out, errOut, code := reflexCmd(t, []string{"REFLEX_APIKEY=" + e2eAdminKey, "E2E_SECRET=" + e2eSecret}, append(b.args, "--url", bad)...)
		wantOneLineError(t, b.name, out, errOut, code, b.want)
	}
}

// TestStateOutputs: every state command prints json, yaml and a real table,
// values unescaped.
func TestStateOutputs(t *testing.T) {
	p := serve(t)
	steps := []struct {
		name string
		args []string
		want []string
	}{
		{"create, table", []string{"create", "pipeline", "-c", `{"name":"bct","title":"a && b <c>"}`}, []string{"STATUS   NAME  REVISION  ID\ncreated  bct   1 "}},
		{"create, json", []string{"create", "pipeline", "-o", "json", "-c", `{"name":"web"}`}, []string{`"status": "created"`, `"revision": 1`}},
		{"create, yaml", []string{"create", "pipeline", "-o", "yaml", "-c", `{"name":"api"}`}, []string{"status: created\n", "name: api\n"}},
		{"get, json", []string{"get", "pipeline", "bct"}, []string{`"title": "a && b <c>"`}},
		{"get, yaml", []string{"get", "pipeline", "bct", "-o", "yaml"}, []string{"title: a && b <c>\n", "revision: 1\n"}},
		{"get, table", []string{"get", "pipeline", "bct", "-o", "table"}, []string{"NAME  REVISION  ", "\nbct   1  "}},
		{"list, yaml", []string{"list", "pipeline", "-o", "yaml"}, []string{"name: api\n", "name: bct\n", "\n- "}},
		{"list, json", []string{"list", "pipeline", "-o", "json", "--match", "b*"}, []string{"[\n  {\n", `"name": "bct"`}},
		{"merge, table", []string{"merge", "pipeline", "bct", "-c", `{"title":"t"}`}, []string{"STATUS   NAME  REVISION\nupdated  bct   2\n"}},
		{"update, yaml", []string{"update", "pipeline", "bct", "-o", "yaml", "-c", `{"title":"u"}`}, []string{"status: updated\n", "revision: 3\n"}},
		{"history, yaml", []string{"history", "pipeline", "bct", "-o", "yaml"}, []string{"revision: 1\n", "revision: 3\n"}},
		{"delete, table", []string{"delete", "pipeline", "web"}, []string{"STATUS   NAME  REVISION\ndeleted  web"}},
		{"delete, json", []string{"delete", "pipeline", "api", "-o", "json"}, []string{`"status": "deleted"`}},
	}
	for _, s := range steps {
		out, errOut, code := stateCLI(t, p, "", s.args...)
		for _, w := range s.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Fatalf("%s: exit %d, out:\n%s\nerr: %q\nwant %q", s.name, code, out, errOut, w)
			}
		}
		if strings.Contains(out, `\u00`) {
			t.Errorf("%s: HTML-escaped output:\n%s", s.name, out)
		}
	}

	bad := closedURL(t)
	for _, b := range []struct {
		name string
		args []string
		want string
	}{
		{"get", []string{"get", "pipeline", "bct", "-o", "xml"}, `--output "xml": want json, yaml or table`},
		{"create", []string{"create", "pipeline", "-o", "text", "-c", `{"name":"x"}`}, `--output "text": want json, yaml or table`},
		{"list", []string{"list", "pipeline", "-o", "wide"}, `--output "wide"`},
		{"watch", []string{"watch", "-o", "table"}, `--output "table": watch prints a line per change, or json or yaml`},
	} {
		out, errOut, code := reflexCmd(t, []string{"REFLEX_APIKEY=" + e2eAdminKey}, append([]string{"state", "--url", bad}, b.args...)...)
		wantOneLineError(t, b.name, out, errOut, code, b.want)
	}
}

// TestDeliveryOutputs: delivery list, get, cancel and retry in every
// format, on a real delivery waiting for its agent.
func TestDeliveryOutputs(t *testing.T) {
	s := startSecuredDelivery(t, `"true"`)
	s.send(t, "out-1")
	id := wire.ID("push-web", "acme-github", "out-1")
	s.record(t, id, 15*time.Second, "queued")
	env := []string{"REFLEX_URL=" + s.serve.url, "REFLEX_APIKEY=" + e2eAdminKey}
	steps := []struct {
		name string
		args []string
		want []string
	}{
		{"list, table", []string{"list"}, []string{"NAME", "QUEUED_AT", "\n" + id + " "}},
		{"list, yaml", []string{"list", "-o", "yaml"}, []string{"- name: " + id + "\n", "status: queued\n"}},
		{"get, yaml", []string{"get", id, "-o", "yaml"}, []string{"name: " + id + "\n", "status: queued\n"}},
		{"get, table", []string{"get", id, "-o", "table"}, []string{"NAME ", "\n" + id + " "}},
		{"cancel, table", []string{"cancel", id}, []string{"STATUS     NAME", "\ncancelled  " + id + "\n"}},
		{"retry, json", []string{"retry", id, "-o", "json"}, []string{`"status": "queued"`, `"name": "` + id + `"`}},
	}
	for _, st := range steps {
		out, errOut, code := reflexCmd(t, env, append([]string{"delivery"}, st.args...)...)
		for _, w := range st.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Fatalf("%s: exit %d, out:\n%s\nerr: %q\nwant %q", st.name, code, out, errOut, w)
			}
		}
	}
	out, errOut, code := reflexCmd(t, []string{"REFLEX_APIKEY=" + e2eAdminKey}, "delivery", "list", "--url", closedURL(t), "-o", "csv")
	wantOneLineError(t, "delivery list -o csv", out, errOut, code, `--output "csv": want json, yaml or table`)
}

// TestCLIUnescapesWhatTheServerEscapes: whatever the server sends escaped
// (\u0026 for &, also inside a plan's raw values), the CLI prints as it is.
func TestCLIUnescapesWhatTheServerEscapes(t *testing.T) {
	// As the server sent them before it stopped escaping: & < > as \u00XX.
	planBody := `{"changes":[{"op":"update","type":"policy","name":"p","revision":2,"fields":[{"field":"expression","from":"a \u0026\u0026 b","to":"x \u003c y"}]}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/plan":
			io.WriteString(w, planBody)
		default:
			io.WriteString(w, `{"name":"p","expression":"a \u0026\u0026 b \u003e c","literal":"\\u0026"}`)
		}
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "reflex.yaml")
	writeFile(t, file, "policies:\n  - {name: p, expression: 'true'}\n")
	env := []string{"REFLEX_URL=" + srv.URL, "REFLEX_APIKEY=k"}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"plan", "-f", file}, []string{`expression: "a && b" → "x < y"`}},
		{[]string{"plan", "-f", file, "-o", "json"}, []string{`"from": "a && b"`, `"to": "x < y"`}},
		{[]string{"plan", "-f", file, "-o", "yaml"}, []string{"from: a && b\n", "to: x < y\n"}},
		{[]string{"state", "get", "policy", "p"}, []string{`"expression": "a && b > c"`, `"literal": "\\u0026"`}},
		{[]string{"state", "get", "policy", "p", "-o", "table"}, []string{"a && b > c"}},
	} {
		out, errOut, code := reflexCmd(t, env, c.args...)
		for _, w := range c.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("%v: exit %d, out:\n%s\nerr %q\nwant %q", c.args, code, out, errOut, w)
			}
		}
	}
}

// TestListFollowsNextLinks: a list shows one page and says how to see the
// next; with --all it follows Link rel="next" to the last page, and never
// to another server.
func TestListFollowsNextLinks(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("match") == "evil" {
			w.Header().Set("Link", `<http://evil.example/api/v1/service/>; rel="next"`)
			io.WriteString(w, `[{"name":"d"}]`)
			return
		}
		switch r.URL.Query().Get("cursor") {
		case "":
			w.Header().Set("Link", `</api/v1/service/?cursor=2&match=x%2Cy>; rel="next"`)
			io.WriteString(w, `[{"name":"a"}]`)
		case "2":
			self := "http://" + r.Host
			w.Header().Add("Link", `<`+self+`/api/v1/service/?cursor=1>; rel="prev", <`+self+`/api/v1/service/?cursor=3>; rel="next"`)
			io.WriteString(w, `[{"name":"b"}]`)
		case "3":
			io.WriteString(w, `[{"name":"c"}]`)
		}
	}))
	defer srv.Close()
	out, errOut, code := reflexCmd(t, []string{"REFLEX_APIKEY=k"}, "state", "list", "service", "--url", srv.URL, "-o", "json")
	var rows []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || !strings.Contains(errOut, "more follow: add --cursor 2 (or --all)") {
		t.Fatalf("list without --all: exit %d, %s %s; want the first page and how to see the next", code, out, errOut)
	}
	out, errOut, code = reflexCmd(t, []string{"REFLEX_APIKEY=k"}, "state", "list", "service", "--url", srv.URL, "-o", "json", "--all")
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 3 || rows[2]["name"] != "c" {
		t.Fatalf("list --all over three pages: exit %d, %s %s", code, out, errOut)
	}
	out, errOut, code = reflexCmd(t, []string{"REFLEX_APIKEY=k"}, "state", "list", "service", "--url", srv.URL, "--match", "evil", "--all")
	wantOneLineError(t, "a next page on another server", out, errOut, code, `the next page's link "http://evil.example/api/v1/service/" leaves`)
	c := &apiClient{url: srv.URL + "/"}
	for _, tt := range []struct {
		link, want, err string
	}{
		{"", "", ""},
		{`</api/v1/deployment/?cursor=x>; rel="next"`, "/api/v1/deployment/?cursor=x", ""},
		{`<` + srv.URL + `/api/v1/deployment/?cursor=y>; rel=next`, "/api/v1/deployment/?cursor=y", ""},
		{`</a>; rel="prev", </b>; rel="next"`, "/b", ""},
		{`</a>; rel="prev"`, "", ""},
		{`<http://evil.example/api/v1/deployment/>; rel="next"`, "", "leaves"},
	} {
		h := http.Header{}
		if tt.link != "" {
			h.Set("Link", tt.link)
		}
		got, err := c.nextPage(h)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("nextPage(%q) = %q, %v; want %q, error with %q", tt.link, got, err, tt.want, tt.err)
		}
	}
}

// TestVersion: --version and version name the module version and the
// revision the binary was built from; -X main.version overrides the
// version, not the revision.
func TestVersion(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	rev := strings.TrimSpace(string(head))[:12]
	dir := t.TempDir()
	build := func(name string, extra ...string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		// -buildvcs=true: stamp the revision even where GOFLAGS turns it off.
		cmd := exec.Command("go", append(append([]string{"build", "-buildvcs=true"}, extra...), "-o", path, ".")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		return path
	}
	run := func(bin string, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", filepath.Base(bin), args, err)
		}
		return string(out)
	}
	stamped := build("reflex")
	flag, cmd := run(stamped, "--version"), run(stamped, "version")
	if flag != cmd || !strings.HasPrefix(cmd, "reflex version ") || strings.HasPrefix(cmd, "reflex version dev") || !strings.Contains(cmd, "revision "+rev) {
		t.Errorf("--version %q, version %q: want the same line with the module version and revision %s", flag, cmd, rev)
	}
	overridden := run(build("reflex-x", "-ldflags", "-X main.version=v9.9.9-test"), "version")
	if !strings.HasPrefix(overridden, "reflex version v9.9.9-test (revision "+rev) {
		t.Errorf("with -X main.version: %q", overridden)
	}
}

func TestDescribeBuild(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "98ba10d86c379f080fabc9298e078b171b8e9ba0"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}
	for _, tt := range []struct {
		name, override, module string
		settings               []debug.BuildSetting
		want                   string
	}{
		{"module and vcs", "dev", "v0.0.0-20260102030405-98ba10d86c37+dirty", vcs, "v0.0.0-20260102030405-98ba10d86c37+dirty (revision 98ba10d86c37, 2026-01-02T03:04:05Z, modified; go1.26 linux/amd64)"},
		{"override", "1.2.3", "v0.0.0-x", vcs[:1], "1.2.3 (revision 98ba10d86c37; go1.26 linux/amd64)"},
		{"nothing known", "dev", "(devel)", nil, "dev (go1.26 linux/amd64)"},
		{"clean tree", "", "v1.0.0", []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}, "v1.0.0 (revision abc; go1.26 linux/amd64)"},
	} {
		info := &debug.BuildInfo{Main: debug.Module{Version: tt.module}, Settings: tt.settings}
		if got := describeBuild(tt.override, info, "go1.26", "linux/amd64"); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestShortFlagsOneMeaning: across the whole command tree, a short flag
// stands for one long flag.
func TestShortFlagsOneMeaning(t *testing.T) {
	root := newRootCmd(io.Discard, io.Discard)
	root.InitDefaultVersionFlag()
	uses := map[string]map[string][]string{} // shorthand → long name → commands
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		record := func(f *pflag.Flag) {
			if f.Shorthand == "" {
				return
			}
			if uses[f.Shorthand] == nil {
				uses[f.Shorthand] = map[string][]string{}
			}
			uses[f.Shorthand][f.Name] = append(uses[f.Shorthand][f.Name], c.CommandPath())
		}
		c.LocalFlags().VisitAll(record)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	// -f is the file a command reads everywhere: --file, or --config where
	// that file is the server's configuration (serve, worker). No other
	// short flag has two long names.
	sameMeaning := map[string][]string{"f": {"config", "file"}}
	for short, longs := range uses {
		names := sortedKeys(longs)
		if len(names) > 1 && !slices.Equal(names, sameMeaning[short]) {
			t.Errorf("-%s means %d flags: %v", short, len(names), longs)
		}
	}
	for short, long := range map[string]string{"o": "output", "c": "content", "h": "help", "v": "version"} {
		if _, ok := uses[short][long]; !ok {
			t.Errorf("-%s is not --%s anywhere: %v", short, long, uses[short])
		}
	}
}

// TestStateHelpListsTypes: state --help names every object type.
func TestStateHelpListsTypes(t *testing.T) {
	out, _, code := reflexCmd(t, nil, "state", "--help")
	types := state.Types()
	if code != 0 || len(types) != 14 {
		t.Fatalf("state --help: exit %d, %d types known", code, len(types))
	}
	words := map[string]bool{}
	for _, w := range strings.Fields(out) {
		words[strings.TrimRight(w, ",.")] = true
	}
	for _, typ := range types {
		if !words[typ] {
			t.Errorf("state --help does not list %s:\n%s", typ, out)
		}
	}
}

func TestUnescapeHTML(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"a":"x \u0026\u0026 y"}`, `{"a":"x && y"}`},
		{`{"a":"\u003cb\u003E"}`, `{"a":"<b>"}`},
		{`{"a":"\\u0026"}`, `{"a":"\\u0026"}`},
		{`{"a":"\"\u0026\""}`, `{"a":"\"&\""}`},
		{`{"a":"\u00e9"}`, `{"a":"\u00e9"}`},
		{`{"\u0026":1}`, `{"&":1}`},
		{`no escapes`, `no escapes`},
	} {
		got := string(unescapeHTML([]byte(tt.in)))
		if got != tt.want {
			t.Errorf("unescapeHTML(%s) = %s, want %s", tt.in, got, tt.want)
		}
		if json.Valid([]byte(tt.in)) && !json.Valid([]byte(got)) {
			t.Errorf("unescapeHTML(%s) = %s is not JSON", tt.in, got)
		}
	}
}

func TestPrintYAML(t *testing.T) {
	var b strings.Builder
	v := map[string]any{"expr": "a && b", "n": "1", "list": []any{}, "raw": json.RawMessage(`"x \u0026 y"`), "multi": "l1\nl2"}
	if err := printYAML(&b, v); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := yaml.Unmarshal([]byte(b.String()), &back); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, b.String())
	}
	if back["expr"] != "a && b" || back["n"] != "1" || back["raw"] != "x & y" || back["multi"] != "l1\nl2" || strings.Contains(b.String(), "{") {
		t.Errorf("YAML:\n%s\nread back as %v", b.String(), back)
	}
}
