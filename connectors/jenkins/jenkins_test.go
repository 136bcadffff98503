package jenkins_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/jenkins"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// testSecret is the source's token.
var testSecret = []byte("jk-5e8a1c3f9d2b4760a1c7")

// fixtureSettings are the settings the fixtures are sent with: the token
// in a header, since the kit (and the server's test) post to
// /hooks/<source> with no token in the path.
func fixtureSettings() map[string]any {
	s, err := fixtures.SourceSettings(jenkins.Name)
	if err != nil || s == nil {
		panic(fmt.Sprintf("the fixtures' source settings: %v", err))
	}
	return s
}

// configured returns a constructor of the connector with settings,
// panicking on an error: the kit's constructor takes no testing.T.
func configured(settings map[string]any) func() connectors.Connector {
	return func() connectors.Connector {
		c := jenkins.New()
		if err := c.(connectors.Configurable).Configure(settings); err != nil {
			panic(err)
		}
		return c
	}
}

// kit is the connector under test with its fixtures.
var kit = connectortest.Kit{Name: jenkins.Name, New: configured(fixtureSettings()), Source: "acme-jenkins", Secret: testSecret}

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves: each phase's kind, and
// COMPLETED not a second build.finished.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"QUEUED":              event.KindBuildQueued,
		"STARTED":             event.KindBuildStarted,
		"COMPLETED.success":   event.KindOther,
		"FINALIZED.success":   event.KindBuildFinished,
		"FINALIZED.failure":   event.KindBuildFinished,
		"FINALIZED.unstable":  event.KindBuildFinished,
		"FINALIZED.aborted":   event.KindBuildFinished,
		"FINALIZED.not-built": event.KindBuildFinished,
	})
}

// TestRefusals: what Verify (or Parse) must refuse in header mode, each
// with a message that says what is wrong and never echoes the secret.
func TestRefusals(t *testing.T) {
	setBody := func(body string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Body = []byte(body) }
	}
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "missing header", Fixture: "FINALIZED.success", Change: func(r *connectors.Request) { r.Header.Del("X-Jenkins-Token") }, Want: connectors.ErrUnauthorized, Says: "X-Jenkins-Token header is missing"},
		{Name: "wrong token", Fixture: "FINALIZED.success", Change: func(r *connectors.Request) { r.Header.Set("X-Jenkins-Token", "guess") }, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "token in the URL instead", Fixture: "FINALIZED.success", Change: func(r *connectors.Request) {
			r.Header.Del("X-Jenkins-Token")
			r.PathToken = string(testSecret)
		}, Want: connectors.ErrUnauthorized, Says: "header is missing"},
		{Name: "empty secret", Fixture: "FINALIZED.success", Secrets: [][]byte{{}}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "no secrets", Fixture: "FINALIZED.success", Secrets: [][]byte{}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "XML", Fixture: "FINALIZED.success", Change: func(r *connectors.Request) { r.Header.Set("Content-Type", "application/xml;charset=UTF-8") }, Want: connectors.ErrUnsupportedMediaType, Says: "set the endpoint's format to JSON"},
		{Name: "form", Fixture: "FINALIZED.success", Change: func(r *connectors.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, Want: connectors.ErrUnsupportedMediaType, Says: "sends application/json"},
		{Name: "not JSON", Fixture: "FINALIZED.success", Change: setBody(`<JobState/>`), Want: connectors.ErrMalformed, Says: "not a Notification plugin document"},
		{Name: "no build", Fixture: "FINALIZED.success", Change: setBody(`{"name":"api","url":"job/api/"}`), Want: connectors.ErrMalformed, Says: "no build"},
		{Name: "no phase", Fixture: "FINALIZED.success", Change: setBody(`{"name":"api","build":{"number":1}}`), Want: connectors.ErrMalformed, Says: "phase is missing"},
		{Name: "phase in lower case", Fixture: "FINALIZED.success", Change: setBody(`{"name":"api","build":{"number":1,"phase":"finalized"}}`), Want: connectors.ErrMalformed, Says: "upper-case"},
		{Name: "no number", Fixture: "FINALIZED.success", Change: setBody(`{"name":"api","build":{"phase":"STARTED"}}`), Want: connectors.ErrMalformed, Says: "number is missing"},
		{Name: "no job", Fixture: "FINALIZED.success", Change: setBody(`{"build":{"number":3,"phase":"STARTED"}}`), Want: connectors.ErrMalformed, Says: "job's name is missing"},
		{Name: "job name with '#'", Fixture: "FINALIZED.success", Change: setBody(`{"name":"a#1","build":{"number":3,"phase":"STARTED"}}`), Want: connectors.ErrMalformed, Says: "but '#'"},
		{Name: "status not a word", Fixture: "FINALIZED.success", Change: setBody(`{"name":"api","build":{"number":3,"phase":"FINALIZED","status":"ok!"}}`), Want: connectors.ErrMalformed, Says: "status may hold only"},
		{Name: "timestamp not a number", Fixture: "FINALIZED.success", Change: setBody(`{"name":"api","build":{"number":3,"phase":"STARTED","timestamp":true}}`), Want: connectors.ErrMalformed, Says: "timestamp"},
	})
}

// urlRequest returns a fixture posted to /hooks/<source>/<token>, as the
// plugin sends it: no credential header.
func urlRequest(t *testing.T, name, token string) *connectors.Request {
	t.Helper()
	f, err := fixtures.Get(jenkins.Name, name)
	if err != nil {
		t.Fatal(err)
	}
	return &connectors.Request{Source: "acme-jenkins", Method: http.MethodPost, PathToken: token, Header: f.Header.Clone(), Body: f.Body, ReceivedAt: connectortest.ReceivedAt}
}

// TestURLToken: by default the token is the URL's, compared with every
// secret, and no refusal holds it.
func TestURLToken(t *testing.T) {
	t.Parallel()
	c := jenkins.New()
	if !c.(connectors.PathTokenTaker).TakesPathToken() {
		t.Fatal("TakesPathToken = false by default, want true")
	}
	tests := []struct {
		name    string
		token   string
		secrets [][]byte
		says    string // empty: must verify
	}{
		{"right token", string(testSecret), [][]byte{testSecret}, ""},
		{"second secret while rotating", string(testSecret), [][]byte{[]byte("jk-old-token-000"), testSecret}, ""},
		{"wrong token", "jk-5e8a1c3f9d2b4760a1c8", [][]byte{testSecret}, "token in the webhook URL does not match"},
		{"prefix of the token", string(testSecret[:10]), [][]byte{testSecret}, "does not match"},
		{"no token", "", [][]byte{testSecret}, "/hooks/acme-jenkins/<token>"},
		{"empty secret", "x", [][]byte{{}}, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := urlRequest(t, "FINALIZED.success", tt.token)
			req.Header.Set("X-Jenkins-Token", string(testSecret)) // not read in url mode
			err := c.Verify(context.Background(), req, tt.secrets)
			if tt.says == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Verify = %v, want ErrUnauthorized saying %q", err, tt.says)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) || strings.Contains(err.Error(), string(testSecret)) {
				t.Fatalf("the error holds the token: %v", err)
			}
		})
	}
}

// TestBasicMode: with token_in basic, the endpoint URL's user:password
// arrive as Basic credentials, compared whole.
func TestBasicMode(t *testing.T) {
	t.Parallel()
	c := configured(map[string]any{"token_in": "basic"})()
	if c.(connectors.PathTokenTaker).TakesPathToken() {
		t.Fatal("TakesPathToken = true in basic mode")
	}
	secret := []byte("reflex:jk-5e8a1c3f")
	tests := []struct {
		name, auth, says string
	}{
		{"right credentials", "Basic cmVmbGV4OmprLTVlOGExYzNm", ""},
		{"wrong password", "Basic cmVmbGV4Omd1ZXNz", "do not match"},
		{"bearer", "Bearer " + string(secret), "does not hold Basic credentials"},
		{"missing", "", "Authorization header is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := urlRequest(t, "STARTED", "")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			err := c.Verify(context.Background(), req, [][]byte{secret})
			if (err == nil) != (tt.says == "") || err != nil && !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Verify = %v, want %q", err, tt.says)
			}
		})
	}
	// Sign produces what the plugin sends for https://reflex:…@host/…
	h := http.Header{}
	c.(connectors.Signer).Sign(h, nil, secret)
	if got := h.Get("Authorization"); got != tests[0].auth {
		t.Fatalf("Sign = %q, want %q", got, tests[0].auth)
	}
}

// TestSettings: what Configure refuses, naming the field, and what each
// mode takes.
func TestSettings(t *testing.T) {
	t.Parallel()
	refused := []struct {
		settings map[string]any
		says     string
	}{
		{map[string]any{"token_in": "query"}, "settings.token_in"},
		{map[string]any{"token_in": "header"}, "settings.token_header: is required"},
		{map[string]any{"token_header": "X-Jenkins-Token"}, "settings.token_header: is read only with token_in"},
		{map[string]any{"token_in": "header", "token_header": "Authorization"}, "settings.token_header"},
		{map[string]any{"token_in": "header", "token_header": "X-Request-Id"}, "settings.token_header"},
		{map[string]any{"confirm": map[string]any{"url": "http://jenkins.example.com"}}, "settings.confirm.url: Jenkins is asked with credentials, so only over https"},
		{map[string]any{"confirm": map[string]any{"url": "https://bot:tok@jenkins.example.com"}}, "settings.confirm.url: holds user information"},
		{map[string]any{"confirm": map[string]any{"url": "https://jenkins.example.com/?x=1"}}, "settings.confirm.url: has a query"},
		{map[string]any{"confirm": map[string]any{"url": "jenkins.example.com"}}, "settings.confirm.url"},
		{map[string]any{"confirm": map[string]any{"url": "https://jenkins.example.com", "user": "bot"}}, "settings.confirm.user: is not a setting"},
	}
	for _, tt := range refused {
		err := jenkins.New().(connectors.Configurable).Configure(tt.settings)
		if err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("Configure(%v) = %v, want an error saying %q", tt.settings, err, tt.says)
		}
	}
	for _, s := range []map[string]any{
		nil,
		{"token_in": "url", "confirm": map[string]any{"url": "https://jenkins.example.com/ci/", "username": "reflex-bot"}},
		{"token_in": "header", "token_header": "X-Jenkins-Token"},
	} {
		if err := jenkins.New().(connectors.Configurable).Configure(s); err != nil {
			t.Errorf("Configure(%v) = %v", s, err)
		}
	}
}
