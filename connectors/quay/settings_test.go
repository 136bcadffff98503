package quay_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/connectors/quay"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/schemacheck"
)

// configured returns a connector with settings.
func configured(t *testing.T, settings map[string]any) connectors.Connector {
	t.Helper()
	c := quay.New()
	if err := c.(connectors.Configurable).Configure(settings); err != nil {
		t.Fatalf("Configure(%v): %v", settings, err)
	}
	return c
}

func TestConfigure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		settings map[string]any
		wantErr  string // empty: must be accepted
	}{
		{name: "nil", settings: nil},
		{name: "empty", settings: map[string]any{}},
		{name: "confirm with defaults", settings: map[string]any{"confirm": map[string]any{}}},
		{name: "confirm", settings: map[string]any{"confirm": map[string]any{"registry": "https://quay.io/", "username": "acme-bot"}}},
		{name: "mirror with a port", settings: map[string]any{"confirm": map[string]any{"registry": "https://mirror.example.com:5000"}}},
		{name: "unknown setting", settings: map[string]any{"token": "x"}, wantErr: "settings.token: is not a setting"},
		{name: "unknown confirm setting", settings: map[string]any{"confirm": map[string]any{"password": "x"}}, wantErr: "settings.confirm.password: is not a setting"},
		{name: "confirm not an object", settings: map[string]any{"confirm": true}, wantErr: "settings.confirm"},
		{name: "http", settings: map[string]any{"confirm": map[string]any{"registry": "http://quay.io"}}, wantErr: "settings.confirm.registry: is not an https URL"},
		{name: "http on loopback", settings: map[string]any{"confirm": map[string]any{"registry": "http://127.0.0.1:5000"}}, wantErr: "settings.confirm.registry: is not an https URL"},
		{name: "no host", settings: map[string]any{"confirm": map[string]any{"registry": "https://"}}, wantErr: "settings.confirm.registry"},
		{name: "path", settings: map[string]any{"confirm": map[string]any{"registry": "https://quay.io/v2"}}, wantErr: "base URL alone"},
		{name: "query", settings: map[string]any{"confirm": map[string]any{"registry": "https://quay.io?x=1"}}, wantErr: "base URL alone"},
		{name: "user", settings: map[string]any{"confirm": map[string]any{"registry": "https://bot:pw@quay.io"}}, wantErr: "base URL alone"},
		{name: "username with a newline", settings: map[string]any{"confirm": map[string]any{"username": "a\nb"}}, wantErr: "settings.confirm.username: holds a control character"},
		{name: "username too long", settings: map[string]any{"confirm": map[string]any{"username": strings.Repeat("u", 257)}}, wantErr: "settings.confirm.username: is longer than 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := quay.New().(connectors.Configurable).Configure(tt.settings)
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

// TestSettingsSchema: the schema compiles, refuses what Configure refuses
// and accepts what it accepts.
func TestSettingsSchema(t *testing.T) {
	t.Parallel()
	sch, err := schemacheck.Compile("reflex:connectors/quay/settings.json", quay.New().(connectors.Configurable).SettingsSchema())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		doc     map[string]any
		wantErr string
	}{
		{doc: map[string]any{}},
		{doc: map[string]any{"confirm": map[string]any{}}},
		{doc: map[string]any{"confirm": map[string]any{"registry": "https://quay.io", "username": "acme-bot"}}},
		{doc: map[string]any{"confirm": map[string]any{"registry": "http://quay.io"}}, wantErr: "settings.confirm.registry"},
		{doc: map[string]any{"confirm": map[string]any{"registry": "https://quay.io/v2"}}, wantErr: "settings.confirm.registry"},
		{doc: map[string]any{"confirm": map[string]any{"password": "x"}}, wantErr: "password"},
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

// registryStub stands in for a registry on any host: it records the
// requests it gets, asks for Basic credentials, and knows one manifest.
type registryStub struct {
	mu       sync.Mutex
	requests []string // host and path
	users    []string // Basic user names presented
}

// RoundTrip answers like a registry that holds acme/api:v1.4.2.
func (s *registryStub) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.requests = append(s.requests, req.URL.Host+req.URL.Path)
	user, _, hasAuth := req.BasicAuth()
	if hasAuth {
		s.users = append(s.users, user)
	}
	s.mu.Unlock()
	resp := &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{}, Body: http.NoBody, Request: req}
	switch {
	case !hasAuth:
		resp.StatusCode = http.StatusUnauthorized
		resp.Header.Set("WWW-Authenticate", `Basic realm="registry"`)
	case req.URL.Path == "/v2/acme/api/manifests/v1.4.2":
		resp.StatusCode = http.StatusOK
		resp.Header.Set("Docker-Content-Digest", "sha256:"+strings.Repeat("ab", 32))
	}
	return resp, nil
}

// TestConfirm: the settings reach the registry client: the default
// registry, a named one, the user name; and nothing is asked without
// settings.confirm or about an event that is no push.
func TestConfirm(t *testing.T) {
	t.Parallel()
	push := &event.Event{Kind: event.KindArtifactPublished, Artifact: &event.Artifact{Type: "container", Repository: "quay.io/acme/api", Tag: "v1.4.2", DigestMissing: true}}
	missing := &event.Event{Kind: event.KindArtifactPublished, Artifact: &event.Artifact{Type: "container", Repository: "quay.io/acme/api", Tag: "v9", DigestMissing: true}}
	other := &event.Event{Kind: event.KindOther, Artifact: push.Artifact}
	tests := []struct {
		name      string
		settings  map[string]any
		ev        *event.Event
		cred      connectors.Credential
		want      string // Confirmation.By; "" for none
		confirmed bool
		asked     string // the request the registry got, "" for none
		user      string // the Basic user presented
	}{
		{name: "no settings", settings: nil, ev: push},
		{name: "not a push", settings: map[string]any{"confirm": map[string]any{}}, ev: other},
		{name: "default registry", settings: map[string]any{"confirm": map[string]any{"username": "acme-bot"}}, ev: push, cred: connectors.Credential{Password: "pat"},
			want: "registry quay.io", confirmed: true, asked: "quay.io/v2/acme/api/manifests/v1.4.2", user: "acme-bot"},
		{name: "the credential's user first", settings: map[string]any{"confirm": map[string]any{"username": "acme-bot"}}, ev: push, cred: connectors.Credential{Username: "robot", Password: "pat"},
			want: "registry quay.io", confirmed: true, asked: "quay.io/v2/acme/api/manifests/v1.4.2", user: "robot"},
		{name: "tag not there", settings: map[string]any{"confirm": map[string]any{}}, ev: missing, cred: connectors.Credential{Username: "u", Password: "pat"},
			want: "registry quay.io", asked: "quay.io/v2/acme/api/manifests/v9", user: "u"},
		{name: "a Red Hat Quay installation", settings: map[string]any{"confirm": map[string]any{"registry": "https://quay.example.com"}}, cred: connectors.Credential{Username: "acme+deployer", Password: "robot-token"},
			ev:   &event.Event{Kind: event.KindArtifactPublished, Artifact: &event.Artifact{Type: "container", Repository: "quay.example.com/acme/api", Tag: "v1.4.2", DigestMissing: true}},
			want: "registry quay.example.com", confirmed: true, asked: "quay.example.com/v2/acme/api/manifests/v1.4.2", user: "acme+deployer"},
		{name: "another registry is not asked about quay.io", settings: map[string]any{"confirm": map[string]any{"registry": "https://mirror.example.com"}}, ev: push,
			want: "registry mirror.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stub := &registryStub{}
			ctx := keyfetch.WithClient(context.Background(), keyfetch.NewClient(stub))
			c := configured(t, tt.settings).(connectors.Confirmer)
			conf, err := c.Confirm(ctx, tt.ev, tt.cred)
			if err != nil {
				t.Fatalf("Confirm: %v", err)
			}
			switch {
			case tt.want == "" && conf != nil:
				t.Fatalf("Confirm = %+v, want none", conf)
			case tt.want != "" && (conf == nil || conf.By != tt.want || conf.Confirmed != tt.confirmed):
				t.Fatalf("Confirm = %+v, want by %q, confirmed %v", conf, tt.want, tt.confirmed)
			}
			var asked string
			if n := len(stub.requests); n > 0 {
				asked = stub.requests[n-1]
			}
			if asked != tt.asked {
				t.Errorf("the registry was asked %q (all: %q), want %q", asked, stub.requests, tt.asked)
			}
			if tt.user != "" && (len(stub.users) == 0 || stub.users[0] != tt.user) {
				t.Errorf("users presented %q, want %q", stub.users, tt.user)
			}
		})
	}
}

// TestConfirmUnavailable: a registry that cannot be reached makes the
// confirmation unavailable (asked again later), not refuted.
func TestConfirmUnavailable(t *testing.T) {
	t.Parallel()
	down := roundTripper(func(*http.Request) (*http.Response, error) { return nil, errors.New("connection refused") })
	ctx := keyfetch.WithClient(context.Background(), keyfetch.NewClient(down))
	ev := &event.Event{Kind: event.KindArtifactPublished, Artifact: &event.Artifact{Repository: "quay.io/acme/api", Tag: "v1"}}
	conf, err := configured(t, map[string]any{"confirm": map[string]any{}}).(connectors.Confirmer).Confirm(ctx, ev, connectors.Credential{Password: "secret-pat"})
	if !errors.Is(err, connectors.ErrUnavailable) || conf != nil {
		t.Fatalf("Confirm = %+v, %v; want ErrUnavailable", conf, err)
	}
	if strings.Contains(err.Error(), "secret-pat") || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte(":secret-pat"))) {
		t.Fatalf("the error echoes the credential: %v", err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
