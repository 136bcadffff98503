package acr_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/acr"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// testSecret is the whole value of the webhook's Authorization header.
var testSecret = []byte("Bearer acr-4c9e1b7a2d6f40e8b5a3c1d9e7f2a6b0")

// fixtureSettings returns the settings the fixtures need: the login
// server that names the registry of chart events.
func fixtureSettings() map[string]any {
	s, err := fixtures.SourceSettings(acr.Name)
	if err != nil {
		panic(err)
	}
	return s
}

// configured returns a constructor of the connector with settings.
func configured(settings map[string]any) func() connectors.Connector {
	return func() connectors.Connector {
		c := acr.New()
		if err := c.(connectors.Configurable).Configure(settings); err != nil {
			panic(err)
		}
		return c
	}
}

// kit is the connector under test with its fixtures and their settings.
var kit = connectortest.Kit{Name: acr.Name, New: configured(fixtureSettings()), Source: "acme-acr", Secret: testSecret}

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves: each fixture must
// normalize to the kind its name promises.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"push":         event.KindArtifactPublished,
		"push.digest":  event.KindArtifactPublished,
		"delete":       event.KindOther,
		"chart_push":   event.KindArtifactPublished,
		"chart_delete": event.KindOther,
		"ping":         "",
	})
}

// TestRefusals: what Verify (or Parse) must refuse, each with a message
// that tells the sender what is wrong and never echoes the secret.
func TestRefusals(t *testing.T) {
	setAuth := func(v string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Header.Set("Authorization", v) }
	}
	setBody := func(body string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Body = []byte(body) }
	}
	bearerToken := strings.TrimPrefix(string(testSecret), "Bearer ")
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "missing header", Fixture: "push", Change: func(r *connectors.Request) { r.Header.Del("Authorization") }, Want: connectors.ErrUnauthorized, Says: `the Authorization header is missing; give the webhook the custom header Authorization holding the source's secret (az acr webhook create --headers "Authorization=<secret>")`},
		{Name: "empty header", Fixture: "push", Change: setAuth(""), Want: connectors.ErrUnauthorized, Says: "Authorization header is missing"},
		{Name: "wrong value", Fixture: "push", Change: setAuth("Bearer acr-guess"), Want: connectors.ErrUnauthorized, Says: "the Authorization header does not match the source's secret"},
		{Name: "the token without its scheme", Fixture: "push", Change: setAuth(bearerToken), Want: connectors.ErrUnauthorized, Says: "its whole value is compared"},
		{Name: "another scheme", Fixture: "push", Change: setAuth("Basic " + bearerToken), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "trailing space", Fixture: "push", Change: setAuth(string(testSecret) + " "), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "secret in another header", Fixture: "push", Change: func(r *connectors.Request) {
			r.Header.Del("Authorization")
			r.Header.Set("X-Reflex-Token", string(testSecret))
		}, Want: connectors.ErrUnauthorized, Says: "Authorization header is missing"},
		{Name: "secret in the query string", Fixture: "push", Change: func(r *connectors.Request) {
			r.Header.Del("Authorization")
			r.Query = url.Values{"secret": {string(testSecret)}}
		}, Want: connectors.ErrUnauthorized, Says: "Authorization header is missing"},
		{Name: "secret in the URL path", Fixture: "push", Change: func(r *connectors.Request) {
			r.Header.Del("Authorization")
			r.PathToken = string(testSecret)
		}, Want: connectors.ErrUnauthorized, Says: "Authorization header is missing"},
		{Name: "empty secret", Fixture: "push", Secrets: [][]byte{{}}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "no secrets", Fixture: "push", Secrets: [][]byte{}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "rotated out", Fixture: "push", Secrets: [][]byte{[]byte("Bearer new")}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "not JSON", Fixture: "push", Change: setBody(`action=push`), Want: connectors.ErrMalformed, Says: "not an Azure Container Registry webhook event"},
		{Name: "no action", Fixture: "push", Change: setBody(`{"id":"e1","target":{}}`), Want: connectors.ErrMalformed, Says: "action is missing"},
		{Name: "action of another shape", Fixture: "push", Change: setBody(`{"id":"e1","action":"Push!"}`), Want: connectors.ErrMalformed, Says: "action may hold only"},
		{Name: "no id", Fixture: "push", Change: setBody(`{"action":"push","target":{"repository":"a","tag":"v1"},"request":{"host":"r.azurecr.io"}}`), Want: connectors.ErrMalformed, Says: "payload's id is missing"},
		{Name: "id with a slash", Fixture: "push", Change: setBody(`{"id":"../x","action":"push"}`), Want: connectors.ErrMalformed, Says: "payload's id may hold only"},
		{Name: "push without repository", Fixture: "push", Change: setBody(`{"id":"e1","action":"push","target":{"tag":"v1"},"request":{"host":"r.azurecr.io"}}`), Want: connectors.ErrMalformed, Says: "target.repository is missing"},
		{Name: "push without tag or digest", Fixture: "push", Change: setBody(`{"id":"e1","action":"push","target":{"repository":"api"},"request":{"host":"r.azurecr.io"}}`), Want: connectors.ErrMalformed, Says: "names neither a tag nor a digest"},
		{Name: "bad digest", Fixture: "push", Change: setBody(`{"id":"e1","action":"push","target":{"repository":"api","digest":"md5:x"},"request":{"host":"r.azurecr.io"}}`), Want: connectors.ErrMalformed, Says: "target.digest is not"},
		{Name: "bad chart version", Fixture: "chart_push", Change: setBody(`{"id":"e1","action":"chart_push","target":{"repository":"repo","name":"wordpress","version":"../5"}}`), Want: connectors.ErrMalformed, Says: "target.version is not a chart version"},
		{Name: "bad chart name", Fixture: "chart_push", Change: setBody(`{"id":"e1","action":"chart_push","target":{"repository":"repo","name":"Word Press","version":"5"}}`), Want: connectors.ErrMalformed, Says: "target.name is not a chart name"},
		{Name: "bad host", Fixture: "push", Change: setBody(`{"id":"e1","action":"push","target":{"repository":"api","tag":"v1"},"request":{"host":"r.azurecr.io/evil"}}`), Want: connectors.ErrMalformed, Says: "request.host is not a registry host name"},
		{Name: "wrong type", Fixture: "push", Change: setBody(`{"id":"e1","action":"push","target":{"repository":7}}`), Want: connectors.ErrMalformed, Says: "not an Azure Container Registry webhook event"},
		{Name: "custom Content-Type", Fixture: "push", Change: func(r *connectors.Request) { r.Header.Set("Content-Type", "text/plain") }, Want: connectors.ErrUnsupportedMediaType, Says: "remove the Content-Type custom header"},
	})
}

// TestRotation: while a secret is rotated, either verifies.
func TestRotation(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(acr.Name, "push")
	if err != nil {
		t.Fatal(err)
	}
	req := kit.Request(t, f)
	for _, secrets := range [][][]byte{{[]byte("Bearer old"), testSecret}, {testSecret, []byte("Bearer new")}, {{}, testSecret}} {
		if err := acr.New().Verify(context.Background(), req, secrets); err != nil {
			t.Errorf("Verify with secrets %q: %v", secrets, err)
		}
	}
}

// TestHeaderSetting: with settings.header, that header's whole value is
// the secret, and the Authorization header is neither needed nor enough.
func TestHeaderSetting(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(acr.Name, "push")
	if err != nil {
		t.Fatal(err)
	}
	const token = "acr-7e2f0c9b1d4a"
	tests := []struct {
		name    string
		header  map[string]string
		secrets []string
		wantErr string // empty: must verify
	}{
		{name: "valid", header: map[string]string{"X-Reflex-Token": token}, secrets: []string{token}},
		{name: "header name in any case", header: map[string]string{"x-reflex-token": token}, secrets: []string{token}},
		{name: "second secret during rotation", header: map[string]string{"X-Reflex-Token": token}, secrets: []string{"old", token}},
		{name: "wrong value", header: map[string]string{"X-Reflex-Token": "guess"}, secrets: []string{token}, wantErr: "the X-Reflex-Token header does not match"},
		{name: "missing", secrets: []string{token}, wantErr: "the X-Reflex-Token header is missing"},
		{name: "authorization instead", header: map[string]string{"Authorization": token}, secrets: []string{token}, wantErr: "X-Reflex-Token header is missing"},
		{name: "empty secret", header: map[string]string{"X-Reflex-Token": " "}, secrets: []string{""}, wantErr: "does not match"},
	}
	c := configured(map[string]any{"header": "x-reflex-token"})()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := f.Header.Clone()
			for k, v := range tt.header {
				h.Set(k, v)
			}
			var secrets [][]byte
			for _, s := range tt.secrets {
				secrets = append(secrets, []byte(s))
			}
			err := c.Verify(context.Background(), &connectors.Request{Header: h, Body: f.Body}, secrets)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Verify = %v, want ErrUnauthorized containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), token) {
				t.Fatalf("the error %q echoes the secret", err)
			}
		})
	}
	h := http.Header{}
	c.(connectors.Signer).Sign(h, f.Body, []byte(token))
	if h.Get("X-Reflex-Token") != token || h.Get("Authorization") != "" {
		t.Fatalf("Sign with settings.header set %v", h)
	}
}

// parse parses body as a delivery with the registry's header, with the
// fixtures' settings.
func parse(t *testing.T, body string) (*connectors.Result, error) {
	t.Helper()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return kit.New().Parse(&connectors.Request{Source: "s", Header: h, Body: []byte(body), ReceivedAt: connectortest.ReceivedAt})
}

// TestArtifacts: what each action says of the image or chart.
func TestArtifacts(t *testing.T) {
	t.Parallel()
	digest := "sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		name, body string
		kind       event.Kind
		action     string
		want       event.Artifact
		actor      string
	}{
		{name: "push with tag and digest", body: `{"id":"e1","action":"push","target":{"repository":"acme/api","tag":"v1","digest":"` + digest + `"},"request":{"host":"MyRegistry.azurecr.io"}}`,
			kind: event.KindArtifactPublished, want: event.Artifact{Type: "container", Repository: "myregistry.azurecr.io/acme/api", Tag: "v1", Digest: digest, Reference: "myregistry.azurecr.io/acme/api:v1"}},
		{name: "push by digest", body: `{"id":"e1","action":"push","target":{"repository":"api","digest":"` + digest + `"},"request":{"host":"r.azurecr.io"}}`,
			kind: event.KindArtifactPublished, want: event.Artifact{Type: "container", Repository: "r.azurecr.io/api", Digest: digest, Reference: "r.azurecr.io/api@" + digest}},
		{name: "push by tag alone", body: `{"id":"e1","action":"push","target":{"repository":"api","tag":"v1"},"request":{"host":"r.azurecr.io"}}`,
			kind: event.KindArtifactPublished, want: event.Artifact{Type: "container", Repository: "r.azurecr.io/api", Tag: "v1", DigestMissing: true, Reference: "r.azurecr.io/api:v1"}},
		{name: "push without request takes the login server", body: `{"id":"e1","action":"push","target":{"repository":"api","tag":"v1"}}`,
			kind: event.KindArtifactPublished, want: event.Artifact{Type: "container", Repository: "myregistry.azurecr.io/api", Tag: "v1", DigestMissing: true, Reference: "myregistry.azurecr.io/api:v1"}},
		{name: "push with an actor", body: `{"id":"e1","action":"push","target":{"repository":"api","tag":"v1"},"request":{"host":"r.azurecr.io"},"actor":{"name":"ci-token"}}`,
			kind: event.KindArtifactPublished, want: event.Artifact{Type: "container", Repository: "r.azurecr.io/api", Tag: "v1", DigestMissing: true, Reference: "r.azurecr.io/api:v1"}, actor: "ci-token"},
		{name: "delete of a manifest", body: `{"id":"e1","action":"delete","target":{"repository":"api","digest":"` + digest + `"},"request":{"host":"r.azurecr.io"}}`,
			kind: event.KindOther, action: "deleted", want: event.Artifact{Type: "container", Repository: "r.azurecr.io/api", Digest: digest, Reference: "r.azurecr.io/api@" + digest}},
		{name: "delete of a repository", body: `{"id":"e1","action":"delete","target":{"repository":"api"},"request":{"host":"r.azurecr.io"}}`,
			kind: event.KindOther, action: "deleted", want: event.Artifact{Type: "container", Repository: "r.azurecr.io/api", DigestMissing: true}},
		{name: "quarantine", body: `{"id":"e1","action":"quarantine","target":{"repository":"api","tag":"v1","digest":"` + digest + `"},"request":{"host":"r.azurecr.io"}}`,
			kind: event.KindOther, action: "quarantined", want: event.Artifact{Type: "container", Repository: "r.azurecr.io/api", Tag: "v1", Digest: digest, Reference: "r.azurecr.io/api:v1"}},
		{name: "chart push", body: `{"id":"e1","action":"chart_push","target":{"repository":"repo","name":"wordpress","version":"5.4.0+build.7","tag":"wordpress-5.4.0+build.7.tgz","digest":"` + digest + `"}}`,
			kind: event.KindArtifactPublished, want: event.Artifact{Type: "helm", Repository: "myregistry.azurecr.io/repo/wordpress", Version: "5.4.0+build.7", Digest: digest}},
		{name: "chart delete", body: `{"id":"e1","action":"chart_delete","target":{"repository":"repo","name":"wordpress","version":"5.4.0"}}`,
			kind: event.KindOther, action: "deleted", want: event.Artifact{Type: "helm", Repository: "myregistry.azurecr.io/repo/wordpress", Version: "5.4.0", DigestMissing: true}},
	}
	for _, tt := range tests {
		res, err := parse(t, tt.body)
		if err != nil {
			t.Errorf("%s: Parse: %v", tt.name, err)
			continue
		}
		ev := res.Event
		if ev.Kind != tt.kind || ev.Action != tt.action || *ev.Artifact != tt.want || ev.Actor != tt.actor || ev.ID != "e1" {
			t.Errorf("%s: kind %q action %q actor %q id %q artifact %+v; want %q %q %q e1 %+v", tt.name, ev.Kind, ev.Action, ev.Actor, ev.ID, *ev.Artifact, tt.kind, tt.action, tt.actor, tt.want)
		}
	}
}

// TestChartNeedsLoginServer: a chart event names no registry; without
// settings.login_server it is refused with what to set.
func TestChartNeedsLoginServer(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(acr.Name, "chart_push")
	if err != nil {
		t.Fatal(err)
	}
	_, err = acr.New().Parse(&connectors.Request{Header: f.Header, Body: f.Body})
	if !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "set the source's settings.login_server") {
		t.Fatalf("Parse = %v, want ErrMalformed naming settings.login_server", err)
	}
}

// TestUnknownAction: an action the connector does not know is kept,
// unnormalized, and a ping is answered whatever else it holds.
func TestUnknownAction(t *testing.T) {
	t.Parallel()
	res, err := parse(t, `{"id":"e1","action":"scan_completed","target":{"repository":7}}`)
	if err == nil {
		t.Fatalf("a target of another shape parsed: %+v", res)
	}
	res, err = parse(t, `{"id":"e1","action":"image_signed","target":{"repository":"api"}}`)
	if err != nil || res.Event.Kind != event.KindUnnormalized || res.Event.Type != "image_signed" {
		t.Fatalf("Parse = %+v, %v; want an unnormalized image_signed", res, err)
	}
	for _, body := range []string{`{"action":"ping"}`, `{"id":"c5950af0-c8d0-4924-9873-1ba7da5cbf83","action":"ping","target":{}}`} {
		res, err := parse(t, body)
		if err != nil || !res.Ping || res.Event != nil {
			t.Errorf("%s: Parse = %+v, %v; want a ping", body, res, err)
		}
	}
}

// TestSimulator: a simulated delivery carries its type and id in the
// body, signed in the webhook's header, and reads back as them.
func TestSimulator(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(acr.Name, "push")
	if err != nil {
		t.Fatal(err)
	}
	c := kit.New()
	sim := c.(connectors.Simulator)
	h, body := sim.Delivery(acr.ActionPush, "sim-1", f.Body)
	sim.Sign(h, body, testSecret)
	req := &connectors.Request{Source: "s", Header: h, Body: body}
	if err := c.Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Parse(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Event.ID != "sim-1" || res.Event.Type != acr.ActionPush || sim.EventType(h, body) != acr.ActionPush {
		t.Errorf("id %q, type %q", res.Event.ID, res.Event.Type)
	}
	if _, same := sim.Delivery("push", "x", []byte(`[1]`)); string(same) != `[1]` {
		t.Errorf("a payload that is no object changed: %s", same)
	}
}
