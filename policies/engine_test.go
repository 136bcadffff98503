package policies_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// golden returns the normalized event a GitHub fixture must produce.
func golden(t testing.TB, name string) *event.Event {
	t.Helper()
	f, err := fixtures.Get("github", name)
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	if err := json.Unmarshal(f.Golden, &ev); err != nil {
		t.Fatal(err)
	}
	return &ev
}

// engine stores objects (type, JSON document) and returns an engine that
// loaded them.
func engine(t testing.TB, objects ...[2]string) (*policies.Engine, *state.Store) {
	t.Helper()
	store := state.New(redistest.New(t).Client, state.Options{Check: policies.Check})
	ctx := context.Background()
	for _, o := range objects {
		var doc map[string]any
		if err := json.Unmarshal([]byte(o[1]), &doc); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Create(ctx, state.NewObject(o[0], doc), "test"); err != nil {
			t.Fatalf("create %s %s: %v", o[0], o[1], err)
		}
	}
	e := policies.NewEngine(store, slog.New(slog.DiscardHandler))
	if err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	return e, store
}

func pol(name, expr string, deny bool) [2]string {
	doc, _ := json.Marshal(map[string]any{"name": name, "expression": expr, "deny": deny})
	return [2]string{"policy", string(doc)}
}

func scp(doc string) [2]string { return [2]string{"scope", doc} }

var source = &auth.Caller{Kind: policies.KindSource, Name: "acme-github", Source: "acme-github", Connector: "github"}

func receive(ev *event.Event) policies.Request {
	return policies.Request{Caller: source, Action: policies.ActionReceive, Type: policies.TypeEvent, Event: ev, Verified: true, IP: "192.30.252.10"}
}

// TestReceiveDecisions evaluates scopes and policies against the golden
// normalized events of the GitHub fixtures.
func TestReceiveDecisions(t *testing.T) {
	base := [][2]string{
		pol("verified", `request.verified`, false),
		pol("main-only", `event.branch == "main"`, false),
		pol("no-deletions", `event.kind.endsWith(".deleted")`, true),
		pol("github-hooks", `cidr("192.30.252.0/22").containsIP(request.ip)`, false),
		pol("needs-build", `event.build.outcome == "success"`, false),
		scp(`{"name":"acme","actions":["receive"],"types":["event"],"sources":["acme-github"],"match":"event.repository.name.glob(\"Codertocat/*\")","policies":["verified","no-deletions"]}`),
		scp(`{"name":"prod","actions":["deliver"],"types":["event"],"match":"event.kind == \"code.pushed\"","policies":["main-only"]}`),
		scp(`{"name":"builds","actions":["deliver"],"types":["event"],"match":"event.type == \"workflow_run\"","policies":["needs-build"]}`),
		scp(`{"name":"octo","actions":["receive"],"types":["event"],"match":"event.repository.name == \"octo-org/octo-repo\"","policies":["github-hooks"]}`),
	}
	e, _ := engine(t, base...)
	tests := []struct {
		name       string
		fixture    string
		req        func(policies.Request) policies.Request
		allowed    bool
		reason     string
		wantScopes string
	}{
		{"allow: verified push", "push.branch", nil, true, "allowed by policy verified", "acme"},
		{"deny overrides allow", "push.branch-deleted", nil, false, "denied by policy no-deletions", "acme"},
		{"unverified refused", "push.tag", func(r policies.Request) policies.Request { r.Verified = false; return r }, false, "no policy of the matching scopes allows it", "acme"},
		{"other source: no scope", "push.branch", func(r policies.Request) policies.Request {
			ev := *r.Event
			ev.Source = "other"
			r.Event = &ev
			return r
		}, false, "no scope covers receive of event", ""},
		{"deliver main", "push.branch", func(r policies.Request) policies.Request { r.Action = policies.ActionDeliver; return r }, true, "allowed by policy main-only", "prod"},
		{"deliver from a tag: no scope", "push.tag", func(r policies.Request) policies.Request { r.Action = policies.ActionDeliver; return r }, false, "no scope covers deliver", ""},
		{"evaluation error denies", "push.branch", func(r policies.Request) policies.Request {
			ev := *r.Event
			ev.Type = "workflow_run" // matched by "builds", but a push has no build
			r.Event, r.Action = &ev, policies.ActionDeliver
			return r
		}, false, "policy needs-build failed to evaluate", "builds,prod"},
		{"ip range allows", "workflow_run.completed", nil, true, "allowed by policy github-hooks", "octo"},
		{"ip range refuses", "workflow_run.completed", func(r policies.Request) policies.Request { r.IP = "203.0.113.9"; return r }, false, "no policy of the matching scopes allows it", "octo"},
		{"master key does not make a webhook master", "push.branch-deleted", func(r policies.Request) policies.Request {
			c := *source
			c.Master = true
			r.Caller = &c
			return r
		}, false, "denied by policy no-deletions", "acme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := golden(t, tt.fixture)
			r := receive(ev)
			if tt.req != nil {
				r = tt.req(r)
			}
			d := e.Decide(context.Background(), r)
			if d.Allowed != tt.allowed || !strings.Contains(d.Reason, tt.reason) || strings.Join(d.Scopes, ",") != tt.wantScopes {
				t.Fatalf("decision = %+v, want allowed %v because %q with scopes %q", d, tt.allowed, tt.reason, tt.wantScopes)
			}
			if d.Target != ev.ID || d.Action != r.Action {
				t.Errorf("trail names %s %s, want %s %s", d.Action, d.Target, r.Action, ev.ID)
			}
		})
	}
}

func TestDenyPoliciesRunFirst(t *testing.T) {
	e, _ := engine(t,
		pol("allow-all", `true`, false),
		pol("deny-tags", `event.kind == "tag.created"`, true),
		scp(`{"name":"s","actions":["receive"],"types":["event"],"policies":["allow-all","deny-tags"]}`),
	)
	d := e.Decide(context.Background(), receive(golden(t, "push.tag")))
	if d.Allowed || len(d.Policies) != 1 || d.Policies[0].Name != "deny-tags" || !d.Policies[0].Deny || !d.Policies[0].Result {
		t.Fatalf("decision = %+v, want the deny policy evaluated first and refusing", d)
	}
}

// TestObjectDecisions: a CI key limited to one pipeline's builds.
func TestObjectDecisions(t *testing.T) {
	e, store := engine(t,
		pol("own-pipeline", `"ci-" + object.pipeline == caller.name`, false),
		pol("readers", `"readers" in caller.groups`, false),
		scp(`{"name":"builds","actions":["write","read"],"types":["build"],"policies":["own-pipeline"]}`),
		scp(`{"name":"everything","actions":["read"],"types":["*"],"mode":"global","policies":["readers"]}`),
		[2]string{"group", `{"name":"readers","members":["auditor"]}`},
		[2]string{"build", `{"name":"bct-1","application":"bct","version":"1","pipeline":"bct"}`},
		[2]string{"build", `{"name":"web-1","application":"web","version":"1","pipeline":"web"}`},
	)
	ctx := context.Background()
	get := func(name string) *state.Object {
		o, err := store.Object(ctx, "build", name, 0)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	tests := []struct {
		caller string
		action policies.Action
		target string
		want   bool
	}{
		{"ci-bct", policies.ActionWrite, "bct-1", true},
		{"ci-bct", policies.ActionWrite, "web-1", false},
		{"ci-bct", policies.ActionRead, "web-1", false},
		{"auditor", policies.ActionRead, "web-1", true},
		{"auditor", policies.ActionWrite, "web-1", false},
	}
	for _, tt := range tests {
		o := get(tt.target)
		d := e.Decide(ctx, policies.Request{Caller: &auth.Caller{Name: tt.caller}, Action: tt.action, Type: "build", Name: o.Name, Object: o})
		if d.Allowed != tt.want {
			t.Errorf("%s %s %s = %+v, want allowed %v", tt.caller, tt.action, tt.target, d, tt.want)
		}
	}
	if d := e.Decide(ctx, policies.Request{Caller: &auth.Caller{Name: auth.MasterKey, Master: true}, Action: policies.ActionWrite, Type: "build", Name: "x"}); !d.Allowed {
		t.Errorf("the master key was refused: %+v", d)
	}
}

func TestBadExpressionsRefused(t *testing.T) {
	store := state.New(redistest.New(t).Client, state.Options{Check: policies.Check})
	tests := []struct {
		typ, doc, want string
	}{
		{"policy", `{"name":"p","expression":"event.branch =="}`, "ERROR: <input>:1:"},
		{"policy", `{"name":"p","expression":"event.branch + \"x\""}`, "yields string, not bool"},
		{"policy", `{"name":"p","expression":"1 + 1"}`, "yields int, not bool"},
		{"policy", `{"name":"p","expression":"nosuch == 1"}`, "undeclared reference to 'nosuch'"},
		{"scope", `{"name":"s","actions":["read"],"policies":["p"],"match":"caller.name == \"x\""}`, "undeclared reference to 'caller'"},
		{"scope", `{"name":"s","actions":["read"],"policies":["p"],"mode":"global","match":"true"}`, "a global scope covers whole types"},
		{"scope", `{"name":"s","actions":["read"],"policies":["p"],"types":["builds"]}`, `"builds" is not a target type`},
		{"scope", `{"name":"s","actions":["fly"],"policies":["p"]}`, "field actions.0"},
	}
	for _, tt := range tests {
		var doc map[string]any
		if err := json.Unmarshal([]byte(tt.doc), &doc); err != nil {
			t.Fatal(err)
		}
		_, err := store.Create(context.Background(), state.NewObject(tt.typ, doc), "t")
		if !errors.Is(err, state.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrInvalid containing %q", tt.doc, err, tt.want)
		}
	}
}

func TestCostLimit(t *testing.T) {
	prg, err := policies.Compile(`[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, a+b+c+d+e > 0)))))`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prg.Eval(map[string]any{}); err == nil || !strings.Contains(err.Error(), "cost") {
		t.Fatalf("an expensive expression evaluated: %v", err)
	}
}

func TestReloadFollowsChanges(t *testing.T) {
	e, store := engine(t, pol("yes", `true`, false), scp(`{"name":"s","actions":["receive"],"types":["event"],"policies":["yes"]}`))
	ctx := context.Background()
	ev := golden(t, "push.branch")
	if !e.Decide(ctx, receive(ev)).Allowed {
		t.Fatal("not allowed before the change")
	}
	if _, _, err := store.Merge(ctx, "policy", "yes", map[string]any{"expression": "false"}, 0, "t"); err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if e.Decide(ctx, receive(ev)).Allowed {
		t.Fatal("still allowed after the policy changed")
	}
}

func TestSemverHelpers(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		{`isSemver("v1.2.3") && isSemver("1.2.3-rc.1") && !isSemver("latest")`, true},
		{`"1.10.0".semverNewer("1.9.9")`, true},
		{`"1.2.3".semverNewer("1.2.3")`, false},
		{`"1.2.3".semverNewer("")`, true},
		{`semverCompare("v2.0.0", "1.99.0") == 1`, true},
		{`semverChange("1.2.3", "1.3.0") == "minor" && semverChange("1.2.3", "2.0.0") == "major" && semverChange("1.2.3", "1.2.4") == "patch"`, true},
	}
	for _, tt := range tests {
		prg, err := policies.Compile(tt.expr)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		got, err := prg.Eval(map[string]any{})
		if err != nil || got != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.expr, got, err, tt.want)
		}
	}
	prg, _ := policies.Compile(`"latest".semverNewer("1.0.0")`)
	if _, err := prg.Eval(map[string]any{}); err == nil {
		t.Error("comparing a non-version did not fail (and so would not deny)")
	}
}

// TestAgentCallers: policies see an agent as the caller, with the zone
// its key is bound to, so which agents may act on production is a policy.
func TestAgentCallers(t *testing.T) {
	e, _ := engine(t,
		pol("production-agents", `caller.kind == "agent" && caller.zone == "production" && "prod-agents" in caller.groups`, false),
		scp(`{"name":"deployments","actions":["write"],"types":["deployment"],"mode":"global","policies":["production-agents"]}`),
		[2]string{"group", `{"name":"prod-agents","members":["edge-1","edge-2"]}`},
	)
	tests := []struct {
		name   string
		caller *auth.Caller
		want   bool
	}{
		{"a production agent in the group", &auth.Caller{Kind: auth.KindAgent, Name: "edge-1", Zone: "production"}, true},
		{"a staging agent in the group", &auth.Caller{Kind: auth.KindAgent, Name: "edge-2", Zone: "staging"}, false},
		{"a production agent outside the group", &auth.Caller{Kind: auth.KindAgent, Name: "edge-3", Zone: "production"}, false},
		{"a user key of the same name", &auth.Caller{Name: "edge-1"}, false},
	}
	for _, tt := range tests {
		d := e.Decide(context.Background(), policies.Request{Caller: tt.caller, Action: policies.ActionWrite, Type: "deployment", Name: "d-1"})
		if d.Allowed != tt.want {
			t.Errorf("%s: allowed = %v, want %v (%s)", tt.name, d.Allowed, tt.want, d.Reason)
		}
	}
}
