package acr_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/acr"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/schemacheck"
)

func TestConfigure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		settings map[string]any
		wantErr  string // empty: must be accepted
	}{
		{name: "nil", settings: nil},
		{name: "header", settings: map[string]any{"header": "X-Reflex-Token"}},
		{name: "authorization named", settings: map[string]any{"header": "authorization"}},
		{name: "login server", settings: map[string]any{"login_server": "MyRegistry.azurecr.io"}},
		{name: "confirm", settings: map[string]any{"confirm": map[string]any{"registry": "https://myregistry.azurecr.io", "username": "00000000-0000-0000-0000-000000000000"}}},
		{name: "unknown setting", settings: map[string]any{"secret": "x"}, wantErr: "settings.secret: is not a setting"},
		{name: "header not a string", settings: map[string]any{"header": 7}, wantErr: "settings.header"},
		{name: "header with a space", settings: map[string]any{"header": "X Token"}, wantErr: "settings.header"},
		{name: "header too long", settings: map[string]any{"header": strings.Repeat("x", 129)}, wantErr: "settings.header: is longer than 128"},
		{name: "user agent", settings: map[string]any{"header": "User-Agent"}, wantErr: "settings.header: User-Agent is shown to policies"},
		{name: "content type", settings: map[string]any{"header": "Content-Type"}, wantErr: "settings.header: Content-Type"},
		{name: "cookie", settings: map[string]any{"header": "cookie"}, wantErr: "settings.header: Cookie has a meaning of its own"},
		{name: "login server with a scheme", settings: map[string]any{"login_server": "https://myregistry.azurecr.io"}, wantErr: "settings.login_server"},
		{name: "confirm without registry", settings: map[string]any{"confirm": map[string]any{}}, wantErr: "settings.confirm.registry: is required"},
		{name: "confirm over http", settings: map[string]any{"confirm": map[string]any{"registry": "http://myregistry.azurecr.io"}}, wantErr: "settings.confirm.registry: is not an https URL"},
		{name: "confirm with a path", settings: map[string]any{"confirm": map[string]any{"registry": "https://myregistry.azurecr.io/v2/"}}, wantErr: "base URL alone"},
		{name: "confirm with a user", settings: map[string]any{"confirm": map[string]any{"registry": "https://u:pw@myregistry.azurecr.io"}}, wantErr: "base URL alone"},
		{name: "unknown confirm setting", settings: map[string]any{"confirm": map[string]any{"registry": "https://r.azurecr.io", "password": "x"}}, wantErr: "settings.confirm.password: is not a setting"},
		{name: "username with a control character", settings: map[string]any{"confirm": map[string]any{"registry": "https://r.azurecr.io", "username": "a\x00"}}, wantErr: "settings.confirm.username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := acr.New().(connectors.Configurable).Configure(tt.settings)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Configure: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Configure = %v, want an error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "pw") {
				t.Fatalf("the error echoes a password: %v", err)
			}
		})
	}
}

// TestSettingsSchema: the schema compiles, takes the fixtures' settings,
// and refuses what Configure refuses.
func TestSettingsSchema(t *testing.T) {
	t.Parallel()
	sch, err := schemacheck.Compile("reflex:connectors/acr/settings.json", acr.New().(connectors.Configurable).SettingsSchema())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		doc     map[string]any
		wantErr string
	}{
		{doc: map[string]any{}},
		{doc: fixtureSettings()},
		{doc: map[string]any{"header": "X-Reflex-Token", "login_server": "myregistry.azurecr.io:443", "confirm": map[string]any{"registry": "https://myregistry.azurecr.io", "username": "token-name"}}},
		{doc: map[string]any{"header": "X Token"}, wantErr: "settings.header"},
		{doc: map[string]any{"login_server": "https://myregistry.azurecr.io"}, wantErr: "settings.login_server"},
		{doc: map[string]any{"confirm": map[string]any{}}, wantErr: "registry"},
		{doc: map[string]any{"confirm": map[string]any{"registry": "http://myregistry.azurecr.io"}}, wantErr: "settings.confirm.registry"},
		{doc: map[string]any{"token": "x"}, wantErr: "token"},
	}
	for _, tt := range tests {
		err := schemacheck.Validate(sch, "settings", tt.doc)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.doc, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%v: got %v, want an error naming %q", tt.doc, err, tt.wantErr)
		}
	}
}

// registryStub stands in for the registry: it records the requests it
// gets, asks for Basic credentials, and holds acme/api:v1 with one
// digest.
type registryStub struct {
	mu       sync.Mutex
	requests []string
	users    []string
}

const storedDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

func (s *registryStub) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req.URL.Host+req.URL.Path)
	resp := &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{}, Body: http.NoBody, Request: req}
	user, _, ok := req.BasicAuth()
	switch {
	case !ok:
		resp.StatusCode = http.StatusUnauthorized
		resp.Header.Set("WWW-Authenticate", `Basic realm="Azure Container Registry"`)
	case req.URL.Path == "/v2/acme/api/manifests/v1":
		s.users = append(s.users, user)
		resp.StatusCode = http.StatusOK
		resp.Header.Set("Docker-Content-Digest", storedDigest)
	}
	return resp, nil
}

// TestConfirm: the settings reach the registry client, and what cannot be
// asked is not.
func TestConfirm(t *testing.T) {
	t.Parallel()
	image := func(repo, tag, digest string) *event.Event {
		return &event.Event{Kind: event.KindArtifactPublished, Artifact: &event.Artifact{Type: "container", Repository: repo, Tag: tag, Digest: digest}}
	}
	confirm := map[string]any{"confirm": map[string]any{"registry": "https://myregistry.azurecr.io", "username": "token-name"}}
	tests := []struct {
		name      string
		settings  map[string]any
		ev        *event.Event
		want      bool // a confirmation
		confirmed bool
		asked     bool
		detail    string
	}{
		{name: "no settings", settings: nil, ev: image("myregistry.azurecr.io/acme/api", "v1", storedDigest)},
		{name: "a delete", settings: confirm, ev: &event.Event{Kind: event.KindOther, Action: "deleted", Artifact: &event.Artifact{Type: "container", Repository: "myregistry.azurecr.io/acme/api"}}},
		{name: "the digest the registry holds", settings: confirm, ev: image("myregistry.azurecr.io/acme/api", "v1", storedDigest), want: true, confirmed: true, asked: true},
		{name: "another digest", settings: confirm, ev: image("myregistry.azurecr.io/acme/api", "v1", "sha256:"+strings.Repeat("2", 64)), want: true, asked: true, detail: "names " + storedDigest},
		{name: "another registry's image", settings: confirm, ev: image("evil.azurecr.io/acme/api", "v1", storedDigest), want: true, detail: "not on myregistry.azurecr.io"},
		{name: "a helm chart", settings: confirm, ev: &event.Event{Kind: event.KindArtifactPublished, Artifact: &event.Artifact{Type: "helm", Repository: "myregistry.azurecr.io/repo/wordpress", Version: "5.4.0"}}, want: true, detail: "a helm artifact cannot be asked about"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stub := &registryStub{}
			ctx := keyfetch.WithClient(context.Background(), keyfetch.NewClient(stub))
			c := acr.New()
			if err := c.(connectors.Configurable).Configure(tt.settings); err != nil {
				t.Fatal(err)
			}
			conf, err := c.(connectors.Confirmer).Confirm(ctx, tt.ev, connectors.Credential{Password: "acr-token"})
			if err != nil {
				t.Fatalf("Confirm: %v", err)
			}
			if (conf != nil) != tt.want {
				t.Fatalf("Confirm = %+v, want a confirmation: %v", conf, tt.want)
			}
			if conf != nil && (conf.Confirmed != tt.confirmed || conf.By != "registry myregistry.azurecr.io" || !strings.Contains(conf.Detail, tt.detail)) {
				t.Errorf("Confirm = %+v, want confirmed %v by registry myregistry.azurecr.io, detail containing %q", conf, tt.confirmed, tt.detail)
			}
			if asked := len(stub.requests) > 0; asked != tt.asked {
				t.Errorf("the registry was asked %q, want asked: %v", stub.requests, tt.asked)
			}
			for _, r := range stub.requests {
				if !strings.HasPrefix(r, "myregistry.azurecr.io/") {
					t.Errorf("a request went to %s", r)
				}
			}
			if tt.asked && (len(stub.users) == 0 || stub.users[0] != "token-name") {
				t.Errorf("users %q, want settings.confirm.username", stub.users)
			}
		})
	}
}

// TestConfirmUnavailable: a registry that cannot be reached leaves the
// event to be asked about again, without echoing the credential.
func TestConfirmUnavailable(t *testing.T) {
	t.Parallel()
	down := roundTripper(func(*http.Request) (*http.Response, error) { return nil, errors.New("connection refused") })
	ctx := keyfetch.WithClient(context.Background(), keyfetch.NewClient(down))
	c := acr.New()
	if err := c.(connectors.Configurable).Configure(map[string]any{"confirm": map[string]any{"registry": "https://myregistry.azurecr.io"}}); err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{Kind: event.KindArtifactPublished, Artifact: &event.Artifact{Type: "container", Repository: "myregistry.azurecr.io/acme/api", Tag: "v1"}}
	conf, err := c.(connectors.Confirmer).Confirm(ctx, ev, connectors.Credential{Username: "u", Password: "acr-secret-token"})
	if !errors.Is(err, connectors.ErrUnavailable) || conf != nil || strings.Contains(err.Error(), "acr-secret-token") {
		t.Fatalf("Confirm = %+v, %v; want ErrUnavailable without the credential", conf, err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
