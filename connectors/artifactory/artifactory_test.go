package artifactory_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/artifactory"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// testSecret is the webhook handler's secret.
var testSecret = []byte("jf-9d2c7e1a4b6f3085c1e2")

// kit is the connector under test with its fixtures: signed deliveries,
// the default.
var kit = connectortest.Kit{Name: artifactory.Name, New: artifactory.New, Source: "acme-artifactory", Secret: testSecret}

// configured returns a constructor of the connector with settings,
// panicking on an error: the kit's constructor takes no testing.T.
func configured(settings map[string]any) func() connectors.Connector {
	return func() connectors.Connector {
		c := artifactory.New()
		if err := c.(connectors.Configurable).Configure(settings); err != nil {
			panic(err)
		}
		return c
	}
}

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"docker.pushed":     event.KindArtifactPublished,
		"docker.deleted":    event.KindOther,
		"docker.promoted":   event.KindOther,
		"artifact.deployed": event.KindOther,
		"artifact.deleted":  event.KindOther,
		"build.uploaded":    event.KindUnnormalized,
	})
}

// TestSignatureVector: the signed header is the hex HMAC-SHA256 of the raw
// body (computed with Python's hmac module; JFrog publishes no vector).
func TestSignatureVector(t *testing.T) {
	t.Parallel()
	body := []byte(`{"domain":"docker","event_type":"pushed"}`)
	secret := []byte("It's a Secret to Everybody")
	const want = "dee7127b98c1abc720098461f558e2614d4a027f95b2a38893249c63f13d170d"
	h := http.Header{}
	artifactory.New().(connectors.Signer).Sign(h, body, secret)
	if got := h.Get(artifactory.HeaderAuth); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	for _, sig := range []string{want, strings.ToUpper(want)} {
		h.Set(artifactory.HeaderAuth, sig)
		if err := artifactory.New().Verify(context.Background(), &connectors.Request{Header: h, Body: body}, [][]byte{[]byte("old"), secret}); err != nil {
			t.Errorf("Verify(%s…): %v", sig[:8], err)
		}
	}
}

// TestRefusals: what Verify (or Parse) must refuse, each with a message
// that says what is wrong and never echoes the secret.
func TestRefusals(t *testing.T) {
	setAuth := func(v string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Header.Set(artifactory.HeaderAuth, v) }
	}
	setBody := func(body string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Body = []byte(body) }
	}
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "missing signature", Fixture: "docker.pushed", Change: func(r *connectors.Request) { r.Header.Del(artifactory.HeaderAuth) }, Want: connectors.ErrUnauthorized, Says: "Use secret for payload signing"},
		{Name: "wrong secret", Fixture: "docker.pushed", Secrets: [][]byte{[]byte("jf-other")}, Want: connectors.ErrUnauthorized, Says: "does not match the source's secret"},
		{Name: "tampered body", Fixture: "docker.pushed", Change: func(r *connectors.Request) {
			r.Body = []byte(strings.Replace(string(r.Body), `"tag":"1.4.2"`, `"tag":"1.4.3"`, 1))
		}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "truncated signature", Fixture: "docker.pushed", Change: func(r *connectors.Request) {
			r.Header.Set(artifactory.HeaderAuth, r.Header.Get(artifactory.HeaderAuth)[:40])
		}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "the secret itself", Fixture: "docker.pushed", Change: setAuth(string(testSecret)), Want: connectors.ErrUnauthorized, Says: "carries the secret itself"},
		{Name: "prefixed signature", Fixture: "docker.pushed", Change: func(r *connectors.Request) {
			r.Header.Set(artifactory.HeaderAuth, "sha256="+r.Header.Get(artifactory.HeaderAuth))
		}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "empty secret", Fixture: "docker.pushed", Secrets: [][]byte{{}}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "no secrets", Fixture: "docker.pushed", Secrets: [][]byte{}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "XML", Fixture: "docker.pushed", Change: func(r *connectors.Request) { r.Header.Set("Content-Type", "text/xml") }, Want: connectors.ErrUnsupportedMediaType, Says: "send application/json"},
	})
	// Parse's refusals: the body is changed after signing, so they are
	// verified with a kit that signs the changed body.
	parseKit := kit
	parseKit.New = func() connectors.Connector { return parseOnly{artifactory.New()} }
	parseKit.Refusals(t, []connectortest.Refusal{
		{Name: "not JSON", Fixture: "docker.pushed", Change: setBody(`domain=docker`), Want: connectors.ErrMalformed, Says: "not an Artifactory webhook event"},
		{Name: "no domain", Fixture: "docker.pushed", Change: setBody(`{"event_type":"pushed","data":{}}`), Want: connectors.ErrMalformed, Says: "domain is missing"},
		{Name: "no event type", Fixture: "docker.pushed", Change: setBody(`{"domain":"docker","data":{}}`), Want: connectors.ErrMalformed, Says: "event_type is missing"},
		{Name: "domain in capitals", Fixture: "docker.pushed", Change: setBody(`{"domain":"Docker","event_type":"pushed"}`), Want: connectors.ErrMalformed, Says: "lower-case"},
		{Name: "push without repo_key", Fixture: "docker.pushed", Change: setBody(`{"domain":"docker","event_type":"pushed","data":{"image_name":"acme/api","tag":"1"}}`), Want: connectors.ErrMalformed, Says: "data.repo_key is missing"},
		{Name: "push without image_name", Fixture: "docker.pushed", Change: setBody(`{"domain":"docker","event_type":"pushed","data":{"repo_key":"docker-local","tag":"1"}}`), Want: connectors.ErrMalformed, Says: "data.image_name is missing"},
		{Name: "image name climbing out", Fixture: "docker.pushed", Change: setBody(`{"domain":"docker","event_type":"pushed","data":{"repo_key":"docker-local","image_name":"../etc","tag":"1"}}`), Want: connectors.ErrMalformed, Says: `".."`},
		{Name: "bad tag", Fixture: "docker.pushed", Change: setBody(`{"domain":"docker","event_type":"pushed","data":{"repo_key":"docker-local","image_name":"acme/api","tag":"a b"}}`), Want: connectors.ErrMalformed, Says: "not an image tag"},
		{Name: "deployed without path", Fixture: "artifact.deployed", Change: setBody(`{"domain":"artifact","event_type":"deployed","data":{"repo_key":"libs"}}`), Want: connectors.ErrMalformed, Says: "data.path is missing"},
	})
}

// parseOnly is a connector whose Verify accepts anything, for Parse's
// refusals.
type parseOnly struct{ connectors.Connector }

func (parseOnly) Verify(context.Context, *connectors.Request, [][]byte) error { return nil }

func (p parseOnly) Sign(h http.Header, body, secret []byte) {
	p.Connector.(connectors.Signer).Sign(h, body, secret)
}

// TestTokenMode: with auth token, the header holds the secret itself, and
// a signature is not enough.
func TestTokenMode(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(artifactory.Name, "docker.pushed")
	if err != nil {
		t.Fatal(err)
	}
	signed := http.Header{}
	artifactory.New().(connectors.Signer).Sign(signed, f.Body, testSecret)
	tests := []struct {
		name     string
		settings map[string]any
		header   map[string]string
		wantErr  string // empty: must verify
	}{
		{"default header", map[string]any{"auth": "token"}, map[string]string{"X-JFrog-Event-Auth": string(testSecret)}, ""},
		{"custom header", map[string]any{"auth": "token", "token_header": "x-reflex-token"}, map[string]string{"X-Reflex-Token": string(testSecret)}, ""},
		{"custom header missing", map[string]any{"auth": "token", "token_header": "X-Reflex-Token"}, map[string]string{"X-JFrog-Event-Auth": string(testSecret)}, "X-Reflex-Token header is missing"},
		{"wrong token", map[string]any{"auth": "token"}, map[string]string{"X-JFrog-Event-Auth": "guess"}, "does not match"},
		{"a signature for a token", map[string]any{"auth": "token"}, map[string]string{"X-JFrog-Event-Auth": signed.Get(artifactory.HeaderAuth)}, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := f.Header.Clone()
			for k, v := range tt.header {
				h.Set(k, v)
			}
			err := configured(tt.settings)().Verify(context.Background(), &connectors.Request{Header: h, Body: f.Body}, [][]byte{testSecret})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Verify = %v, want ErrUnauthorized saying %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), string(testSecret)) {
				t.Fatalf("the error echoes the secret: %v", err)
			}
		})
	}
}

// TestSettings: what Configure refuses, naming the field.
func TestSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		settings map[string]any
		says     string
	}{
		{map[string]any{"auth": "hmac"}, "settings.auth"},
		{map[string]any{"token_header": "X-Token"}, "settings.token_header: is read only with auth"},
		{map[string]any{"auth": "token", "token_header": "Authorization"}, "settings.token_header"},
		{map[string]any{"auth": "token", "token_header": "User-Agent"}, "settings.token_header"},
		{map[string]any{"registry_host": "https://docker.acme.example"}, "settings.registry_host"},
		{map[string]any{"registry": "docker.acme.example"}, "settings.registry: is not a setting"},
	}
	for _, tt := range tests {
		err := artifactory.New().(connectors.Configurable).Configure(tt.settings)
		if err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("Configure(%v) = %v, want an error saying %q", tt.settings, err, tt.says)
		}
	}
}

// parse parses body with a connector configured with settings.
func parse(t *testing.T, settings map[string]any, body string) *event.Event {
	t.Helper()
	res, err := configured(settings)().Parse(&connectors.Request{Header: http.Header{}, Body: []byte(body)})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res.Event
}

// TestArtifacts: how the image and the file are named.
func TestArtifacts(t *testing.T) {
	t.Parallel()
	const sha = "5d7a3e91c2b8f4a6e0d9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c"
	docker := func(origin, tag, sum string) string {
		return `{"domain":"docker","event_type":"pushed","data":{"repo_key":"docker-local","image_name":"acme/api","tag":"` + tag + `","sha256":"` + sum + `"},"jpd_origin":"` + origin + `"}`
	}
	file := func(path string) string {
		return `{"domain":"artifact","event_type":"deployed","data":{"repo_key":"libs","path":"` + path + `","sha256":"` + sha + `"},"jpd_origin":"https://acme.jfrog.io"}`
	}
	tests := []struct {
		name     string
		settings map[string]any
		body     string
		want     event.Artifact
	}{
		{"host of jpd_origin", nil, docker("https://Acme.jfrog.io/", "1.0", sha),
			event.Artifact{Type: "container", Repository: "acme.jfrog.io/docker-local/acme/api", Tag: "1.0", Digest: "sha256:" + sha, Reference: "acme.jfrog.io/docker-local/acme/api:1.0"}},
		{"registry_host wins", map[string]any{"registry_host": "Docker.Acme.example:5000"}, docker("https://acme.jfrog.io", "1.0", sha),
			event.Artifact{Type: "container", Repository: "docker.acme.example:5000/docker-local/acme/api", Tag: "1.0", Digest: "sha256:" + sha, Reference: "docker.acme.example:5000/docker-local/acme/api:1.0"}},
		{"no origin", nil, docker("", "1.0", sha),
			event.Artifact{Type: "container", Repository: "artifactory/docker-local/acme/api", Tag: "1.0", Digest: "sha256:" + sha, Reference: "artifactory/docker-local/acme/api:1.0"}},
		{"origin not a URL", nil, docker("acme", "1.0", sha),
			event.Artifact{Type: "container", Repository: "artifactory/docker-local/acme/api", Tag: "1.0", Digest: "sha256:" + sha, Reference: "artifactory/docker-local/acme/api:1.0"}},
		{"no usable checksum", nil, docker("https://acme.jfrog.io", "1.0", "sample_checksum"),
			event.Artifact{Type: "container", Repository: "acme.jfrog.io/docker-local/acme/api", Tag: "1.0", DigestMissing: true, Reference: "acme.jfrog.io/docker-local/acme/api:1.0"}},
		{"no tag", nil, docker("https://acme.jfrog.io", "", sha),
			event.Artifact{Type: "container", Repository: "acme.jfrog.io/docker-local/acme/api", Digest: "sha256:" + sha, Reference: "acme.jfrog.io/docker-local/acme/api@sha256:" + sha}},
		{"maven jar", nil, file("com/acme/app/1.0/app-1.0.jar"),
			event.Artifact{Type: "maven", Repository: "acme.jfrog.io/libs", Digest: "sha256:" + sha, Reference: "acme.jfrog.io/libs/com/acme/app/1.0/app-1.0.jar"}},
		{"npm tarball", nil, file("@acme/ui/-/ui-2.0.0.tgz"),
			event.Artifact{Type: "npm", Repository: "acme.jfrog.io/libs", Digest: "sha256:" + sha, Reference: "acme.jfrog.io/libs/@acme/ui/-/ui-2.0.0.tgz"}},
		{"wheel", nil, file("ledger/ledger-1.0-py3-none-any.whl"),
			event.Artifact{Type: "pypi", Repository: "acme.jfrog.io/libs", Digest: "sha256:" + sha, Reference: "acme.jfrog.io/libs/ledger/ledger-1.0-py3-none-any.whl"}},
		{"docker manifest", nil, file("acme/api/1.0/manifest.json"),
			event.Artifact{Type: "container", Repository: "acme.jfrog.io/libs", Digest: "sha256:" + sha, Reference: "acme.jfrog.io/libs/acme/api/1.0/manifest.json"}},
		{"plain tarball", nil, file("dist/site.tgz"),
			event.Artifact{Type: "generic", Repository: "acme.jfrog.io/libs", Digest: "sha256:" + sha, Reference: "acme.jfrog.io/libs/dist/site.tgz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := parse(t, tt.settings, tt.body)
			if diff := cmp.Diff(&tt.want, ev.Artifact); diff != "" {
				t.Errorf("artifact (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnnormalizedDockerEvent: a docker event type the connector does
// not know is unnormalized, without an artifact.
func TestUnnormalizedDockerEvent(t *testing.T) {
	t.Parallel()
	ev := parse(t, nil, `{"domain":"docker","event_type":"pulled","data":{},"source":"jfrog/bob"}`)
	if ev.Kind != event.KindUnnormalized || ev.Type != "docker" || ev.Action != "pulled" || ev.Artifact != nil || ev.Actor != "bob" {
		t.Fatalf("got %+v, want an unnormalized docker pulled by bob", ev)
	}
}

// TestSimulator: Delivery writes the domain and event type, EventType
// reads them back, and the id is the body's hash.
func TestSimulator(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(artifactory.Name, "docker.pushed")
	if err != nil {
		t.Fatal(err)
	}
	sim := artifactory.New().(connectors.Simulator)
	if got := sim.EventType(f.Header, f.Body); got != "docker.pushed" {
		t.Fatalf("EventType = %q, want docker.pushed", got)
	}
	h, body := sim.Delivery("docker.deleted", "ignored", f.Body)
	sim.Sign(h, body, testSecret)
	req := &connectors.Request{Header: h, Body: body}
	if err := artifactory.New().Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
		t.Fatal(err)
	}
	res, err := artifactory.New().Parse(req)
	if err != nil {
		t.Fatal(err)
	}
	if ev := res.Event; ev.Action != "deleted" || ev.Kind != event.KindOther || ev.ID != connectors.ContentHash(body) {
		t.Fatalf("got %s %s id %s", ev.Action, ev.Kind, ev.ID)
	}
}
