package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/reflexops/reflex/server"
	"github.com/reflexops/reflex/state"
)

// TestEveryObjectRouteIsRouted: each method of each object route reaches
// its handler for every type (a missing object answers 404, never 405),
// and an API key is deleted with one request, after which it stops
// working.
func TestEveryObjectRouteIsRouted(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) { o.Worker = false })
	for _, typ := range state.Types() {
		for _, method := range []string{"GET", "PUT", "PATCH", "DELETE"} {
			body := ""
			if method == "PUT" || method == "PATCH" {
				body = `{"name":"nothing-here"}`
			}
			if r, _ := master(t, in, method, "/api/v1/"+typ+"/nothing-here", body); r.Code != http.StatusNotFound {
				t.Errorf("%s /api/v1/%s/nothing-here answered %d %s, want 404", method, typ, r.Code, r.Body)
			}
		}
	}
	key := newKey(t, in, "ci")
	if r, _ := call(t, in, key, "GET", "/api/v1/events", ""); r.Code != http.StatusForbidden {
		t.Fatalf("the new key answered %d, want 403 (authenticated, no policy)", r.Code)
	}
	if r, _ := master(t, in, "DELETE", "/api/v1/apikey/ci", ""); r.Code != http.StatusOK {
		t.Fatalf("DELETE /api/v1/apikey/ci answered %d %s", r.Code, r.Body)
	}
	if r, _ := call(t, in, key, "GET", "/api/v1/events", ""); r.Code != http.StatusUnauthorized {
		t.Fatalf("a deleted key answered %d, want 401", r.Code)
	}
	if r, _ := master(t, in, "POST", "/api/v1/service/x/secrets", ""); r.Code != http.StatusNotFound {
		t.Errorf("secrets of a service answered %d, want 404", r.Code)
	}
}

// watchPolicies let key "watcher" read pipelines by name, and services
// through the group "ops".
const watchPolicies = `
policies:
  - {name: watcher-pipelines, expression: 'caller.name == "watcher"'}
  - {name: ops-services, expression: '"ops" in caller.groups'}
scopes:
  - {name: pipelines, actions: [read], types: [pipeline], mode: global, policies: [watcher-pipelines]}
  - {name: services, actions: [read], types: [service], mode: global, policies: [ops-services]}
`

// watchRights adds the group "ops" with "watcher" as its member.
const watchRights = watchPolicies + `
groups:
  - {name: ops, members: [watcher]}
`

// TestRevokedKeyEndsItsWatchAtOnce: deleting a key ends its open watch
// streams with event: revoked within moments, not at the next heartbeat.
func TestRevokedKeyEndsItsWatchAtOnce(t *testing.T) {
	in := start(t, newRedis(t), withDeclarations(t, watchRights), func(o *server.Options) { o.Worker = false })
	key := newKey(t, in, "watcher")
	events, stop := watchStream(t, in, key, "", "")
	defer stop()
	if r, _ := master(t, in, "DELETE", "/api/v1/apikey/watcher", ""); r.Code != http.StatusOK {
		t.Fatalf("delete the key: %d %s", r.Code, r.Body)
	}
	deadline := time.After(5 * time.Second) // the heartbeat comes every 15 s
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended without event: revoked")
			}
			if ev.Event == "revoked" {
				return
			}
		case <-deadline:
			t.Fatal("the stream of a deleted key still runs after 5s")
		}
	}
}

// TestWatchFollowsCurrentRights: once the key loses a right (its group
// membership removed, or a group taken off the key itself), the open
// stream stops sending what that right covered, while what it may still
// read keeps coming.
func TestWatchFollowsCurrentRights(t *testing.T) {
	tests := []struct {
		name   string
		decl   string
		key    string // the key's document
		revoke string // path of the merge patch that takes the right away
		patch  string
	}{
		{"group membership removed", watchRights, `{"name":"watcher"}`, "/api/v1/group/ops", `{"members":[]}`},
		{"group taken off the key", watchPolicies, `{"name":"watcher","groups":["ops"]}`, "/api/v1/apikey/watcher", `{"groups":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := start(t, newRedis(t), withDeclarations(t, tt.decl), func(o *server.Options) { o.Worker = false })
			r, _ := master(t, in, "POST", "/api/v1/apikey", tt.key)
			var created struct{ Key string }
			decode(t, r, &created)
			events, stop := watchStream(t, in, created.Key, "?types=pipeline,service", "")
			defer stop()
			mustCreate(t, in, "service", `{"name":"before","pipeline":"p"}`)
			if ev := next(t, events); ev.Data["name"] != "before" {
				t.Fatalf("first change seen = %v, want service before", ev.Data)
			}
			if r, _ := master(t, in, "PATCH", tt.revoke, tt.patch, "Content-Type", "application/merge-patch+json"); r.Code != http.StatusOK {
				t.Fatalf("take the right away: %d %s", r.Code, r.Body)
			}
			mustCreate(t, in, "service", `{"name":"after","pipeline":"p"}`)
			mustCreate(t, in, "pipeline", `{"name":"marker"}`)
			for {
				ev := next(t, events)
				if ev.Data["name"] == "after" {
					t.Fatal("the stream sent a service after the key lost the right to read services")
				}
				if ev.Data["name"] == "marker" {
					return
				}
			}
		})
	}
}

func mustCreate(t *testing.T, in *instance, typ, body string) {
	t.Helper()
	if r, _ := master(t, in, "POST", "/api/v1/"+typ, body); r.Code != http.StatusCreated {
		t.Fatalf("create %s %s: %d %s", typ, body, r.Code, r.Body)
	}
}
