package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors/dockerhub"
	"github.com/reflexops/reflex/server"
)

// TestExamplePolicies runs the README's three policies, from
// examples/policies.yaml, against a live server.
func TestExamplePolicies(t *testing.T) {
	in := start(t, newRedis(t), examplePolicies(t))

	// 2. Registry webhooks from outside GitHub's addresses are refused;
	// the GitHub source, from the same address, is not.
	pkg := fixture(t, "package.published")
	r := post(t, in.URL+"/hooks/acme-registry", signedHeaders(pkg, pkg.Body, testSecret), pkg.Body)
	if r.Code != http.StatusForbidden || !strings.Contains(r.Message, "denied by policy registry-addresses") {
		t.Fatalf("registry webhook from 127.0.0.1: %d %s", r.Code, r.Body)
	}
	if r := deliver(t, in, fixture(t, "push.branch")); r.Code != http.StatusAccepted {
		t.Fatalf("github webhook: %d %s", r.Code, r.Body)
	}

	// A forged X-Forwarded-For changes nothing without trusted proxies.
	h := signedHeaders(pkg, pkg.Body, testSecret)
	h.Set("X-Forwarded-For", "192.30.252.10")
	if r := post(t, in.URL+"/hooks/acme-registry", h, pkg.Body); r.Code != http.StatusForbidden {
		t.Fatalf("forged X-Forwarded-For: %d %s", r.Code, r.Body)
	}

	// 3. ci-bct writes bct's builds, not web's.
	r, _ = master(t, in, "POST", "/api/v1/apikey/ci-bct/secrets", "")
	var k struct{ Key string }
	decode(t, r, &k)
	for _, s := range []struct {
		doc  string
		want int
	}{
		{`{"name":"bct-42","application":"bct","version":"42","pipeline":"bct"}`, 201},
		{`{"name":"web-7","application":"web","version":"7","pipeline":"web"}`, 403},
		{`{"name":"loose-1","application":"x","version":"1"}`, 403},
	} {
		if r, _ := call(t, in, k.Key, "POST", "/api/v1/build", s.doc); r.Code != s.want {
			t.Errorf("ci-bct creating %s: %d %s, want %d", s.doc, r.Code, r.Body, s.want)
		}
	}

	// 1. Deliveries to production: main of acme/* only.
	master(t, in, "POST", "/api/v1/pipeline", `{"name":"widget"}`)
	master(t, in, "POST", "/api/v1/service", `{"name":"widget-prod","pipeline":"widget","zone":"production"}`)
	for _, c := range []struct {
		repo, branch string
		want         bool
	}{
		{"acme/widget", "main", true},
		{"acme/widget", "feature-x", false},
		{"evil/widget", "main", false},
	} {
		body, _ := json.Marshal(map[string]any{
			"action": "deliver", "type": "service", "name": "widget-prod",
			"event": map[string]any{"id": "e1", "source": "acme-github", "kind": "code.pushed", "branch": c.branch, "repository": map[string]any{"name": c.repo}},
		})
		r, _ := master(t, in, "POST", "/api/v1/decisions/test", string(body))
		var d struct{ Allowed bool }
		decode(t, r, &d)
		if r.Code != 200 || d.Allowed != c.want {
			t.Errorf("deliver %s@%s to production: %s, want allowed %v", c.repo, c.branch, r.Body, c.want)
		}
	}
}

// examplePolicies loads examples/policies.yaml as the instance's
// configuration.
func examplePolicies(t *testing.T) func(*server.Options) {
	raw, err := os.ReadFile("../examples/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ACME_GITHUB_SECRET", testSecret)
	t.Setenv("ACME_REGISTRY_SECRET", testSecret)
	return func(o *server.Options) { o.Config = cfg }
}

// TestTrustedProxies: behind a trusted proxy, request.ip is the address
// the proxy reports.
func TestTrustedProxies(t *testing.T) {
	in := start(t, newRedis(t), examplePolicies(t), func(o *server.Options) { o.TrustedProxies = []string{"127.0.0.1"} })
	pkg := fixture(t, "package.published")
	h := signedHeaders(pkg, pkg.Body, testSecret)
	h.Set("X-Forwarded-For", "192.30.252.10")
	if r := post(t, in.URL+"/hooks/acme-registry", h, pkg.Body); r.Code != http.StatusAccepted {
		t.Fatalf("registry webhook through a trusted proxy from GitHub's range: %d %s", r.Code, r.Body)
	}
	h.Set("X-Forwarded-For", "203.0.113.7")
	h.Set("X-GitHub-Delivery", "other-delivery")
	if r := post(t, in.URL+"/hooks/acme-registry", h, pkg.Body); r.Code != http.StatusForbidden {
		t.Fatalf("registry webhook through a trusted proxy from elsewhere: %d %s", r.Code, r.Body)
	}
}

// TestUnsignedRegistriesExample runs examples/unsigned-registries.yaml:
// a Docker Hub webhook with the right URL token is still refused from an
// address outside the list, accepted from one inside it (through a
// trusted proxy), and refused with a wrong token from anywhere.
func TestUnsignedRegistriesExample(t *testing.T) {
	raw, err := os.ReadFile("../examples/unsigned-registries.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ACME_DOCKERHUB_TOKEN", "hub-"+testSecret)
	t.Setenv("ACME_QUAY_TOKEN", "quay-"+testSecret)
	t.Setenv("DOCKERHUB_READ_TOKEN", "read-only")
	in := start(t, newRedis(t), func(o *server.Options) {
		o.Config = cfg
		o.TrustedProxies = []string{"127.0.0.1"}
	})
	f := connectorFixture(t, dockerhub.Name, "push.user-repo")
	hook := in.URL + "/hooks/acme-dockerhub/hub-" + testSecret
	tests := []struct {
		name, url, from string
		want            int
	}{
		{"right token, unknown address", hook, "192.0.2.10", http.StatusForbidden},
		{"right token, listed address", hook, "203.0.113.7", http.StatusAccepted},
		{"wrong token, listed address", in.URL + "/hooks/acme-dockerhub/hub-guess", "203.0.113.7", http.StatusUnauthorized},
		{"no token, listed address", in.URL + "/hooks/acme-dockerhub", "203.0.113.7", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		h := f.Header.Clone()
		h.Set("X-Forwarded-For", tt.from)
		if r := post(t, tt.url, h, f.Body); r.Code != tt.want {
			t.Errorf("%s: answered %d %s, want %d", tt.name, r.Code, r.Body, tt.want)
		}
	}
}
