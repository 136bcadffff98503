package eventbridge_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/eventbridge"
	"github.com/reflexops/reflex/connectors/schemes"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// testSecret is the connection's API key.
var testSecret = []byte("eb-Api-Key_7c2f9a41d8e3")

// kit is the connector under test with its fixtures.
var kit = connectortest.Kit{Name: eventbridge.Name, New: eventbridge.New, Source: "acme-eventbridge", Secret: testSecret}

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"codebuild.failed":       event.KindBuildFinished,
		"codebuild.in-progress":  event.KindBuildStarted,
		"codebuild.phase-change": event.KindUnnormalized,
		"codebuild.stopped":      event.KindBuildFinished,
		"codebuild.succeeded":    event.KindBuildFinished,
		"codebuild.timed-out":    event.KindBuildFinished,
		"ecr.delete":             event.KindOther,
		"ecr.push":               event.KindArtifactPublished,
		"ecr.scan":               event.KindOther,
	})
}

// basic returns an Authorization header value for user:password.
func basic(credentials string) string { return schemes.BasicAuthorization([]byte(credentials)) }

// TestRefusals: what Verify (or Parse) must refuse with the default
// settings (the API key in X-Api-Key), each with a message that tells the
// sender what is wrong and never echoes the secret.
func TestRefusals(t *testing.T) {
	setKey := func(v string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Header.Set("X-Api-Key", v) }
	}
	setBody := func(body string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Body = []byte(body) }
	}
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "wrong key", Fixture: "ecr.push", Change: setKey("eb-Api-Key_7c2f9a41d8e4"), Want: connectors.ErrUnauthorized, Says: "X-Api-Key header does not match"},
		{Name: "key with a prefix", Fixture: "ecr.push", Change: setKey("Bearer " + string(testSecret)), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "missing header", Fixture: "ecr.push", Change: func(r *connectors.Request) { r.Header.Del("X-Api-Key") }, Want: connectors.ErrUnauthorized, Says: "X-Api-Key header is missing"},
		{Name: "key in another header", Fixture: "ecr.push", Change: func(r *connectors.Request) {
			r.Header.Del("X-Api-Key")
			r.Header.Set("Authorization", basic("user:"+string(testSecret)))
		}, Want: connectors.ErrUnauthorized, Says: "X-Api-Key header is missing"},
		{Name: "empty secret", Fixture: "ecr.push", Secrets: [][]byte{{}}, Change: setKey(" "), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "no secrets", Fixture: "ecr.push", Secrets: [][]byte{}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "rotated out", Fixture: "ecr.push", Secrets: [][]byte{[]byte("new-key")}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "not JSON", Fixture: "ecr.push", Change: setBody(`id=1`), Want: connectors.ErrMalformed, Says: "not an EventBridge event"},
		{Name: "no id", Fixture: "ecr.push", Change: setBody(`{"detail-type":"ECR Image Action","detail":{}}`), Want: connectors.ErrMalformed, Says: "no id or no detail-type"},
		{Name: "no detail-type", Fixture: "ecr.push", Change: setBody(`{"id":"e1","detail":{}}`), Want: connectors.ErrMalformed, Says: "no id or no detail-type"},
		{Name: "transformed input", Fixture: "ecr.push", Change: setBody(`"Build acme-api has reached SUCCEEDED"`), Want: connectors.ErrMalformed, Says: "not an EventBridge event"},
		{Name: "id with a slash", Fixture: "ecr.push", Change: setBody(`{"id":"../x","detail-type":"Scheduled Event"}`), Want: connectors.ErrMalformed, Says: "event's id may hold only"},
		{Name: "detail-type with a newline", Fixture: "ecr.push", Change: setBody(`{"id":"e1","detail-type":"Evil\nType"}`), Want: connectors.ErrMalformed, Says: "detail-type may hold only"},
		{Name: "known type of another shape", Fixture: "ecr.push", Change: setBody(`{"id":"e1","detail-type":"ECR Image Action","detail":{"image-tag":7}}`), Want: connectors.ErrMalformed, Says: "the ECR Image Action event does not have the documented shape"},
		{Name: "form", Fixture: "ecr.push", Change: func(r *connectors.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, Want: connectors.ErrUnsupportedMediaType, Says: "EventBridge sends application/json"},
	})
}

// configured returns a connector with settings.
func configured(t *testing.T, settings map[string]any) connectors.Connector {
	t.Helper()
	c := eventbridge.New()
	if err := c.(connectors.Configurable).Configure(settings); err != nil {
		t.Fatalf("Configure(%v): %v", settings, err)
	}
	return c
}

// TestBasic: with settings.auth basic, the Basic credentials are
// settings.username and a secret, both of which must match; the API key
// header is neither needed nor enough.
func TestBasic(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(eventbridge.Name, "codebuild.succeeded")
	if err != nil {
		t.Fatal(err)
	}
	const password = "It's a Secret to Everybody"
	c := configured(t, map[string]any{"auth": "basic", "username": "reflex"})
	tests := []struct {
		name    string
		header  map[string]string
		secrets []string
		wantErr string // empty: must verify
	}{
		{name: "valid", header: map[string]string{"Authorization": basic("reflex:" + password)}, secrets: []string{password}},
		{name: "second secret during rotation", header: map[string]string{"Authorization": basic("reflex:" + password)}, secrets: []string{"old", password}},
		{name: "password with a colon", header: map[string]string{"Authorization": basic("reflex:a:b")}, secrets: []string{"a:b"}},
		{name: "wrong password", header: map[string]string{"Authorization": basic("reflex:guess")}, secrets: []string{password}, wantErr: "do not match settings.username and the source's secret"},
		{name: "right password, wrong user", header: map[string]string{"Authorization": basic("admin:" + password)}, secrets: []string{password}, wantErr: "do not match"},
		{name: "right password, user of another case", header: map[string]string{"Authorization": basic("Reflex:" + password)}, secrets: []string{password}, wantErr: "do not match"},
		{name: "password alone", header: map[string]string{"Authorization": basic(":" + password)}, secrets: []string{password}, wantErr: "do not match"},
		{name: "user and password as the secret", header: map[string]string{"Authorization": basic("reflex:" + password)}, secrets: []string{"reflex:" + password}, wantErr: "do not match"},
		{name: "missing", header: nil, secrets: []string{password}, wantErr: "Authorization header is missing"},
		{name: "bearer", header: map[string]string{"Authorization": "Bearer " + password}, secrets: []string{password}, wantErr: "does not hold Basic credentials"},
		{name: "api key instead", header: map[string]string{"X-Api-Key": password}, secrets: []string{password}, wantErr: "Authorization header is missing"},
		{name: "empty secret", header: map[string]string{"Authorization": basic("reflex:")}, secrets: []string{""}, wantErr: "do not match"},
	}
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
			err := c.Verify(context.Background(), &connectors.Request{Header: h, Body: f.Body, ReceivedAt: connectortest.ReceivedAt}, secrets)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Verify = %v, want ErrUnauthorized containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error echoes the password: %v", err)
			}
		})
	}
}

// TestAPIKeyHeader: settings.api_key_header names the header, in any case.
func TestAPIKeyHeader(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(eventbridge.Name, "ecr.push")
	if err != nil {
		t.Fatal(err)
	}
	c := configured(t, map[string]any{"api_key_header": "x-reflex-key"})
	for _, tt := range []struct {
		header string
		ok     bool
	}{{"X-Reflex-Key", true}, {"x-reflex-key", true}, {"X-Api-Key", false}} {
		h := f.Header.Clone()
		h.Set(tt.header, string(testSecret))
		err := c.Verify(context.Background(), &connectors.Request{Header: h, Body: f.Body}, [][]byte{testSecret})
		if (err == nil) != tt.ok {
			t.Errorf("key in %s: Verify = %v, want ok %v", tt.header, err, tt.ok)
		}
	}
	// Sign puts the key where Verify looks.
	h := http.Header{}
	c.(connectors.Signer).Sign(h, f.Body, testSecret)
	if h.Get("X-Reflex-Key") != string(testSecret) {
		t.Errorf("Sign set %v", h)
	}
}

// TestSettings: what Configure accepts and refuses, each refusal naming
// its field.
func TestSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		settings map[string]any
		wantErr  string
	}{
		{name: "none", settings: nil},
		{name: "api key", settings: map[string]any{"auth": "api_key"}},
		{name: "api key header", settings: map[string]any{"auth": "api_key", "api_key_header": "X-Hook-Key"}},
		{name: "basic", settings: map[string]any{"auth": "basic", "username": "reflex"}},
		{name: "basic without user", settings: map[string]any{"auth": "basic"}, wantErr: "settings.username: Basic authentication needs"},
		{name: "basic with header", settings: map[string]any{"auth": "basic", "username": "u", "api_key_header": "X-Key"}, wantErr: "settings.api_key_header: Basic authentication has no API key header"},
		{name: "user without basic", settings: map[string]any{"username": "u"}, wantErr: "settings.username: only Basic authentication"},
		{name: "user with a colon", settings: map[string]any{"auth": "basic", "username": "a:b"}, wantErr: "settings.username: a Basic user name"},
		{name: "oauth", settings: map[string]any{"auth": "oauth"}, wantErr: "settings.auth"},
		{name: "authorization header", settings: map[string]any{"api_key_header": "Authorization"}, wantErr: "settings.api_key_header: Authorization has a meaning of its own"},
		{name: "policy header", settings: map[string]any{"api_key_header": "User-Agent"}, wantErr: "settings.api_key_header: User-Agent is shown to policies"},
		{name: "not a header", settings: map[string]any{"api_key_header": "X Key"}, wantErr: "settings.api_key_header"},
		{name: "unknown", settings: map[string]any{"header": "X-Key"}, wantErr: "settings.header: is not a setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := eventbridge.New().(connectors.Configurable).Configure(tt.settings)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Configure: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Configure = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestSimulator: Delivery writes the detail-type and id into the event so
// that Parse reads them back; EventType reads the detail-type.
func TestSimulator(t *testing.T) {
	t.Parallel()
	for _, settings := range []map[string]any{nil, {"auth": "basic", "username": "reflex"}} {
		c := configured(t, settings)
		sim := c.(connectors.Simulator)
		for _, f := range kit.Fixtures(t) {
			typ := sim.EventType(f.Header, f.Body)
			if typ == "" {
				t.Fatalf("%s: no event type", f.Name)
			}
			h, body := sim.Delivery(typ, "load-17", f.Body)
			if h.Get("User-Agent") != "Amazon/EventBridge/ApiDestinations" || h.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("%s: Delivery headers %v", f.Name, h)
			}
			sim.Sign(h, body, testSecret)
			req := &connectors.Request{Source: "s", Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt}
			if err := c.Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
				t.Fatalf("%s: Verify of a simulated delivery: %v", f.Name, err)
			}
			res, err := c.Parse(req)
			if err != nil {
				t.Fatalf("%s: Parse of a simulated delivery: %v", f.Name, err)
			}
			if res.Event.ID != "load-17" || res.Event.Type != typ {
				t.Errorf("%s: simulated delivery parsed as %q of %q", f.Name, res.Event.ID, res.Event.Type)
			}
		}
		if _, body := sim.Delivery("Scheduled Event", "x", []byte(`[1]`)); string(body) != `[1]` {
			t.Errorf("Delivery of an array = %s", body)
		}
	}
}

// TestUnknownDetailType: any event of a detail-type awsevents does not
// normalize is accepted, whatever its detail holds.
func TestUnknownDetailType(t *testing.T) {
	t.Parallel()
	for _, detail := range []string{`{}`, `{"result":{"x":1},"image-tag":[1]}`, `7`, `null`} {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		res, err := eventbridge.New().Parse(&connectors.Request{Header: h, Body: []byte(`{"version":"0","id":"e-1","detail-type":"Scheduled Event","source":"aws.events","detail":` + detail + `}`)})
		if err != nil {
			t.Fatalf("detail %s: Parse: %v", detail, err)
		}
		if res.Event.Kind != event.KindUnnormalized || res.Event.Type != "Scheduled Event" || res.Event.ID != "e-1" || !res.Checked {
			t.Errorf("detail %s: %+v", detail, res.Event)
		}
	}
}
