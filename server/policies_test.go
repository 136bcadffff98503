package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/state"
)

// withDeclarations adds policies, scopes and groups (YAML, as in the
// configuration file) to the test instance's configuration.
func withDeclarations(t testing.TB, doc string) func(*server.Options) {
	return func(o *server.Options) {
		var extra config.Config
		if err := yaml.Unmarshal([]byte(doc), &extra); err != nil {
			t.Fatal(err)
		}
		o.Config.Policies, o.Config.Scopes, o.Config.Groups = extra.Policies, extra.Scopes, extra.Groups
	}
}

// newKey creates an API key through the API and returns it.
func newKey(t testing.TB, in *instance, name string) string {
	t.Helper()
	r, _ := master(t, in, "POST", "/api/v1/apikey", `{"name":"`+name+`"}`)
	var created struct{ Key string }
	decode(t, r, &created)
	if r.Code != 201 {
		t.Fatalf("create key %s: %d %s", name, r.Code, r.Body)
	}
	return created.Key
}

// TestReceivePolicy: a webhook a policy refuses gets 403 with the decision,
// is recorded as denied, and queues no job; an allowed one is accepted.
func TestReceivePolicy(t *testing.T) {
	in := start(t, newRedis(t), withDeclarations(t, `
policies:
  - {name: verified, expression: request.verified}
  - {name: no-branch-deletion, deny: true, expression: 'event.kind == "branch.deleted"'}
scopes:
  - {name: acme, actions: [receive], types: [event], sources: [acme-github], policies: [verified, no-branch-deletion]}
`), func(o *server.Options) { o.Worker = false })

	ok := deliver(t, in, fixture(t, "push.branch"))
	if ok.Code != http.StatusAccepted {
		t.Fatalf("allowed delivery answered %d %s", ok.Code, ok.Body)
	}
	del := fixture(t, "push.branch-deleted")
	r := deliver(t, in, del)
	if r.Code != http.StatusForbidden || r.Status != "failed" || !strings.Contains(r.Message, "denied by policy no-branch-deletion") {
		t.Fatalf("refused delivery answered %d %s", r.Code, r.Body)
	}
	if !strings.Contains(string(r.Body), `"scopes":["acme"]`) || strings.Contains(string(r.Body), testSecret) {
		t.Errorf("the refusal does not show the matched scope, or shows a secret: %s", r.Body)
	}
	if n := pendingTasks(t, in); n != 1 {
		t.Fatalf("%d jobs queued, want only the allowed delivery's", n)
	}
	var ev struct {
		event.Event
		Decisions []map[string]any `json:"decisions"`
	}
	apiGet(t, in, "/api/v1/events/"+r.ID, &ev)
	if ev.Status != event.StatusDenied || len(ev.Decisions) != 1 || ev.Decisions[0]["allowed"] != false {
		t.Fatalf("refused event = %+v, want status denied with its decision", ev)
	}
	var trail []map[string]any
	apiGet(t, in, "/api/v1/decisions/"+ok.ID, &trail)
	if len(trail) != 1 || trail[0]["allowed"] != true || trail[0]["reason"] != "allowed by policy verified" {
		t.Fatalf("decisions of the accepted event = %v", trail)
	}
	// A refusal is not a dedupe record: once policy allows it, the same
	// delivery is accepted.
	if _, _, err := state.New(in.Redis, state.Options{}).Merge(context.Background(), "policy", "no-branch-deletion", map[string]any{"expression": "false"}, 0, "t"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return deliver(t, in, del).Code == http.StatusAccepted })
}

// TestKeyLimitedToOnePipeline: a CI key whose policy covers the bct
// pipeline lists only bct's services and cannot write the others.
func TestKeyLimitedToOnePipeline(t *testing.T) {
	in := start(t, newRedis(t), withDeclarations(t, `
policies:
  - {name: ci-own-pipeline, expression: 'caller.name == "ci-" + object.pipeline'}
scopes:
  - {name: services, actions: [admin], types: [service], policies: [ci-own-pipeline]}
`))
	for _, doc := range []string{`{"name":"bct-test","pipeline":"bct"}`, `{"name":"bct-prod","pipeline":"bct"}`, `{"name":"web-prod","pipeline":"web"}`} {
		master(t, in, "POST", "/api/v1/service", doc)
	}
	key := newKey(t, in, "ci-bct")
	r, _ := call(t, in, key, "GET", "/api/v1/service/", "")
	var rows []map[string]any
	decode(t, r, &rows)
	if len(rows) != 2 || rows[0]["name"] != "bct-prod" || rows[1]["name"] != "bct-test" {
		t.Fatalf("the CI key lists %v, want only bct's services", rows)
	}
	steps := []struct {
		method, path, body string
		want               int
	}{
		{"PATCH", "/api/v1/service/bct-test", `{"zone":"lab"}`, 200},
		{"PATCH", "/api/v1/service/web-prod", `{"zone":"lab"}`, 403},
		{"GET", "/api/v1/service/web-prod", "", 403},
		{"POST", "/api/v1/service", `{"name":"web-test","pipeline":"web"}`, 403},
		{"POST", "/api/v1/service", `{"name":"bct-stage","pipeline":"bct"}`, 201},
		{"PATCH", "/api/v1/service/bct-test", `{"pipeline":"web"}`, 403},
		{"DELETE", "/api/v1/service/web-prod", "", 403},
		{"GET", "/api/v1/pipeline/", "", 200},
	}
	for _, s := range steps {
		if r, _ := call(t, in, key, s.method, s.path, s.body); r.Code != s.want {
			t.Errorf("%s %s answered %d %s, want %d", s.method, s.path, r.Code, r.Body, s.want)
		}
	}
	r, _ = master(t, in, "GET", "/api/v1/service/bct-test", "")
	var doc map[string]any
	decode(t, r, &doc)
	if doc["pipeline"] != "bct" {
		t.Fatalf("the CI key moved bct-test to another pipeline: %v", doc)
	}
}

// TestSensitiveNeedsItsPolicy: the sensitive part is shown only to a key a
// policy allows to read it.
func TestSensitiveNeedsItsPolicy(t *testing.T) {
	in := start(t, newRedis(t), withDeclarations(t, `
policies:
  - {name: readers, expression: '"readers" in caller.groups && !sensitive'}
  - {name: vault, expression: 'caller.name == "deployer"'}
scopes:
  - {name: state, actions: [read], types: [state], policies: [readers, vault]}
groups:
  - {name: readers, members: [auditor, deployer]}
`), func(o *server.Options) { o.Store.Keys = keyRing(t) })
	master(t, in, "POST", "/api/v1/state", `{"name":"db","host":"db1","sensitive":{"password":"hunter2"}}`)
	auditor, deployer := newKey(t, in, "auditor"), newKey(t, in, "deployer")
	var doc map[string]any
	r, _ := call(t, in, auditor, "GET", "/api/v1/state/db", "")
	decode(t, r, &doc)
	if r.Code != 200 || dig(doc, "sensitive")["masked"] != true || doc["host"] != "db1" {
		t.Fatalf("auditor sees %d %s, want the object with its sensitive part masked", r.Code, r.Body)
	}
	r, _ = call(t, in, deployer, "GET", "/api/v1/state/db", "")
	decode(t, r, &doc)
	if dig(doc, "sensitive")["password"] != "hunter2" {
		t.Fatalf("deployer sees %s, want the sensitive part", r.Body)
	}
	if r, _ := call(t, in, newKey(t, in, "stranger"), "GET", "/api/v1/state/db", ""); r.Code != 403 {
		t.Fatalf("a key no scope covers read the object: %d", r.Code)
	}
}

// TestPlanApply: plan, apply, plan again shows nothing; a change through
// the API shows as drift; a declaration with a bad expression changes
// nothing.
func TestPlanApply(t *testing.T) {
	in := start(t, newRedis(t), nil)
	decl := `
sources:
  - {name: acme-github, connector: github, secrets: ["env:REFLEX_TEST_OLD_SECRET", "env:REFLEX_TEST_SECRET"]}
policies:
  - {name: main-only, expression: 'event.branch == "main"'}
scopes:
  - {name: production, actions: [deliver], types: [event], match: 'event.repository.name.glob("acme/*")', policies: [main-only]}
groups:
  - {name: builders, members: [ci]}
apikeys:
  - {name: ci, description: CI}
`
	type change struct {
		Op, Type, Name string
		Fields         []struct{ Field string }
	}
	var p struct{ Changes []change }
	post := func(path, body string) reply {
		r, _ := master(t, in, "POST", path, body, "Content-Type", "application/yaml")
		return r
	}
	r := post("/api/v1/plan", decl)
	decode(t, r, &p)
	if r.Code != 200 || len(p.Changes) != 4 { // the source exists already: unchanged
		t.Fatalf("first plan: %d %s", r.Code, r.Body)
	}
	r = post("/api/v1/apply", decl)
	var applied struct {
		Applied []change
		Keys    map[string]string
	}
	decode(t, r, &applied)
	if r.Code != 200 || len(applied.Applied) != 4 || !strings.HasPrefix(applied.Keys["ci"], "ci.") {
		t.Fatalf("apply: %d %s", r.Code, r.Body)
	}
	if r := post("/api/v1/plan", decl); !strings.Contains(string(r.Body), `"changes":[]`) {
		t.Fatalf("plan after apply: %s, want no changes", r.Body)
	}

	master(t, in, "PATCH", "/api/v1/policy/main-only", `{"expression":"true"}`)
	r = post("/api/v1/plan", decl)
	decode(t, r, &p)
	if len(p.Changes) != 1 || p.Changes[0].Op != "update" || p.Changes[0].Name != "main-only" || p.Changes[0].Fields[0].Field != "expression" {
		t.Fatalf("drift: %s, want main-only's expression to be updated back", r.Body)
	}

	bad := strings.Replace(decl, `event.branch == "main"`, `event.branch ==`, 1) + "  - {name: new-policy, expression: 'true'}\n"
	r = post("/api/v1/apply", bad)
	if r.Code != 400 || !strings.Contains(r.Message, "policy/main-only: field expression") || !strings.Contains(r.Message, "<input>:1:") || !strings.Contains(r.Message, "nothing was changed") {
		t.Fatalf("bad declaration: %d %s", r.Code, r.Body)
	}
	if r, _ := master(t, in, "GET", "/api/v1/policy/new-policy", ""); r.Code != 404 {
		t.Fatalf("a declaration with an error changed something: %d", r.Code)
	}
	r, _ = master(t, in, "GET", "/api/v1/policy/main-only", "")
	if !strings.Contains(string(r.Body), `"expression":"true"`) {
		t.Fatalf("a declaration with an error changed main-only: %s", r.Body)
	}

	pruned := `
sources:
  - {name: acme-github, connector: github, secrets: ["env:REFLEX_TEST_OLD_SECRET", "env:REFLEX_TEST_SECRET"]}
`
	r = post("/api/v1/apply?prune=true", pruned)
	decode(t, r, &applied)
	if r.Code != 200 || len(applied.Applied) != 8 {
		t.Fatalf("prune: %d %s, want the declared policy, scope, group and key and the two built-in policies and scopes deleted", r.Code, r.Body)
	}
	if r, _ := master(t, in, "GET", "/api/v1/apikey/ci", ""); r.Code != 404 {
		t.Fatalf("pruned key still there: %d", r.Code)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for range 200 {
		if cond() {
			return
		}
		sleep()
	}
	t.Fatal("condition not met within 10s")
}

func sleep() { time.Sleep(50 * time.Millisecond) }

// TestLiteralSecretStaysLocal: a literal secret in the server's own
// configuration file verifies deliveries but never reaches Redis.
func TestLiteralSecretStaysLocal(t *testing.T) {
	const literal = "literal-secret-from-the-file"
	in := start(t, newRedis(t), func(o *server.Options) { o.Config.Sources[0].Secrets = []string{literal} })
	f := fixture(t, "push.branch")
	if r := post(t, in.URL+"/hooks/acme-github", signedHeaders(f, f.Body, literal), f.Body); r.Code != http.StatusAccepted {
		t.Fatalf("delivery signed with the literal secret: %d %s", r.Code, r.Body)
	}
	keys, err := in.Redis.Keys(context.Background(), "reflex:{state}:obj*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		vals, _ := in.Redis.HGetAll(context.Background(), k).Result()
		for _, v := range vals {
			if strings.Contains(v, literal) {
				t.Fatalf("%s holds the literal secret: %s", k, v)
			}
		}
	}
	r, _ := master(t, in, "GET", "/api/v1/source/acme-github", "")
	if !strings.Contains(string(r.Body), `"secrets":["config:0"]`) {
		t.Fatalf("source object = %s, want a config:0 reference", r.Body)
	}
}

// TestMasterNameReserved: a key allowed to write API keys still cannot
// make itself a master key, and removing a sensitive part needs the
// sensitive write.
func TestMasterNameReserved(t *testing.T) {
	in := start(t, newRedis(t), withDeclarations(t, `
policies:
  - {name: key-admin, expression: 'caller.name == "keys" && !sensitive'}
scopes:
  - {name: keys, actions: [admin], types: [apikey, state], mode: global, policies: [key-admin]}
`), func(o *server.Options) { o.Store.Keys = keyRing(t) })
	keys := newKey(t, in, "keys")
	for _, s := range []struct{ method, path, body string }{
		{"POST", "/api/v1/apikey", `{"name":"master"}`},
		{"POST", "/api/v1/apikey/master/secrets", ""},
	} {
		if r, _ := call(t, in, keys, s.method, s.path, s.body); r.Code != 403 && r.Code != 404 {
			t.Errorf("%s %s by a key admin: %d %s", s.method, s.path, r.Code, r.Body)
		}
	}
	if r, _ := call(t, in, keys, "POST", "/api/v1/apikey", `{"name":"ci"}`); r.Code != 201 {
		t.Fatalf("the key admin cannot create an ordinary key: %d %s", r.Code, r.Body)
	}
	master(t, in, "POST", "/api/v1/state", `{"name":"db","sensitive":{"password":"hunter2"}}`)
	if r, _ := call(t, in, keys, "PUT", "/api/v1/state/db", `{"host":"db2"}`); r.Code != 403 {
		t.Fatalf("a write dropping the sensitive part without the right: %d %s", r.Code, r.Body)
	}
	if r, _ := call(t, in, keys, "PATCH", "/api/v1/state/db", `{"host":"db2"}`); r.Code != 200 {
		t.Fatalf("a merge that keeps the sensitive part: %d %s", r.Code, r.Body)
	}
}
