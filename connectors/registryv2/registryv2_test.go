package registryv2_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/connectors/registryv2"
	"github.com/reflexops/reflex/event"
)

// manifest is the one image the fake registry holds: acme/api:1.4.2.
const manifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`

func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// registry is a fake registry that wants a bearer token from its own
// realm, given for user "bot" with password "pw" (or anonymously when
// anonymous is set), and serves acme/api:1.4.2. sendDigest chooses
// whether a HEAD names the digest.
type registry struct {
	*httptest.Server
	anonymous, sendDigest bool
	down                  atomic.Bool
	tokens, heads         atomic.Int32
}

func newRegistry(t *testing.T, anonymous, sendDigest bool) *registry {
	r := &registry{anonymous: anonymous, sendDigest: sendDigest}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *registry) serve(w http.ResponseWriter, req *http.Request) {
	if r.down.Load() {
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	if req.URL.Path == "/token" {
		r.tokens.Add(1)
		user, pw, ok := req.BasicAuth()
		if !r.anonymous && (!ok || user != "bot" || pw != "pw") {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if req.URL.Query().Get("scope") != "repository:acme/api:pull" || req.URL.Query().Get("service") != "fake" {
			http.Error(w, "wrong scope", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `{"token":"t-123"}`)
		return
	}
	if req.Header.Get("Authorization") != "Bearer t-123" {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="fake",scope="repository:acme/api:pull"`, r.URL))
		http.Error(w, "auth", http.StatusUnauthorized)
		return
	}
	if !strings.Contains(req.Header.Get("Accept"), "application/vnd.oci.image.index.v1+json") {
		http.Error(w, "accept", http.StatusBadRequest)
		return
	}
	r.heads.Add(1)
	switch req.URL.Path {
	case "/v2/acme/api/manifests/1.4.2", "/v2/acme/api/manifests/" + digestOf(manifest):
		if r.sendDigest {
			w.Header().Set("Docker-Content-Digest", digestOf(manifest))
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		if req.Method == http.MethodGet {
			fmt.Fprint(w, manifest)
		}
	default:
		http.Error(w, "unknown", http.StatusNotFound)
	}
}

func (r *registry) host() string { return strings.TrimPrefix(r.URL, "http://") }

func TestConfirm(t *testing.T) {
	good := digestOf(manifest)
	other := digestOf("another manifest")
	cred := connectors.Credential{Username: "bot", Password: "pw"}
	tests := []struct {
		name       string
		anonymous  bool
		sendDigest bool
		artifact   func(host string) *event.Artifact
		cred       connectors.Credential
		confirmed  bool
		says       string
		unavail    bool
	}{
		{"tag with its digest", false, true, func(h string) *event.Artifact {
			return &event.Artifact{Repository: h + "/acme/api", Tag: "1.4.2", Digest: good}
		}, cred, true, "names " + good, false},
		{"tag without a digest", false, true, func(h string) *event.Artifact {
			return &event.Artifact{Repository: h + "/acme/api", Tag: "1.4.2", DigestMissing: true}
		}, cred, true, "tag 1.4.2 in acme/api names", false},
		{"digest hashed when HEAD names none", false, false, func(h string) *event.Artifact {
			return &event.Artifact{Repository: h + "/acme/api", Tag: "1.4.2", Digest: good}
		}, cred, true, "names " + good, false},
		{"digest only", true, true, func(h string) *event.Artifact { return &event.Artifact{Repository: h + "/acme/api", Digest: good} }, connectors.Credential{}, true, "exists", false},
		{"tag moved to another manifest", false, true, func(h string) *event.Artifact {
			return &event.Artifact{Repository: h + "/acme/api", Tag: "1.4.2", Digest: other}
		}, cred, false, "not " + other, false},
		{"no such tag", false, true, func(h string) *event.Artifact { return &event.Artifact{Repository: h + "/acme/api", Tag: "9.9.9"} }, cred, false, "no tag 9.9.9", false},
		{"image on another registry", false, true, func(string) *event.Artifact {
			return &event.Artifact{Repository: "evil.example/acme/api", Tag: "1.4.2"}
		}, cred, false, "is not on", false},
		{"invalid name", false, true, func(h string) *event.Artifact { return &event.Artifact{Repository: h + "/acme/../api", Tag: "1.4.2"} }, cred, false, "not a repository name", false},
		{"invalid tag", false, true, func(h string) *event.Artifact { return &event.Artifact{Repository: h + "/acme/api", Tag: "a/b"} }, cred, false, "not a valid tag", false},
		{"neither tag nor digest", false, true, func(h string) *event.Artifact { return &event.Artifact{Repository: h + "/acme/api"} }, cred, false, "neither", false},
		{"wrong password", false, true, func(h string) *event.Artifact { return &event.Artifact{Repository: h + "/acme/api", Tag: "1.4.2"} }, connectors.Credential{Username: "bot", Password: "nope"}, false, "credential", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newRegistry(t, tt.anonymous, tt.sendDigest)
			conf, err := registryv2.Confirm(context.Background(), reg.URL, tt.artifact(reg.host()), tt.cred)
			if tt.unavail {
				if !errors.Is(err, connectors.ErrUnavailable) || !strings.Contains(err.Error(), tt.says) {
					t.Fatalf("err = %v, want ErrUnavailable saying %q", err, tt.says)
				}
				if strings.Contains(err.Error(), "nope") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if conf.Confirmed != tt.confirmed || !strings.Contains(conf.Detail, tt.says) {
				t.Errorf("confirmation %+v, want confirmed %v saying %q", conf, tt.confirmed, tt.says)
			}
			if conf.By != "registry "+reg.host() || conf.At.IsZero() {
				t.Errorf("by %q at %v", conf.By, conf.At)
			}
		})
	}
}

// TestConfirmUnavailable: a registry that fails is an error to retry,
// never a refutation, and asking it again once it is back confirms.
func TestConfirmUnavailable(t *testing.T) {
	reg := newRegistry(t, false, true)
	a := &event.Artifact{Repository: reg.host() + "/acme/api", Tag: "1.4.2"}
	cred := connectors.Credential{Username: "bot", Password: "pw"}
	reg.down.Store(true)
	if _, err := registryv2.Confirm(context.Background(), reg.URL, a, cred); !errors.Is(err, connectors.ErrUnavailable) {
		t.Fatalf("registry down: err = %v, want ErrUnavailable", err)
	}
	reg.down.Store(false)
	conf, err := registryv2.Confirm(context.Background(), reg.URL, a, cred)
	if err != nil || !conf.Confirmed {
		t.Fatalf("registry back: %+v, %v", conf, err)
	}
}

// TestConfirmRefusesPlainHTTP: only https registries are asked (http only
// on loopback, as the fake's).
func TestConfirmRefusesPlainHTTP(t *testing.T) {
	_, err := registryv2.Confirm(context.Background(), "http://registry.example.com", &event.Artifact{Repository: "registry.example.com/a/b", Tag: "1"}, connectors.Credential{})
	if !errors.Is(err, connectors.ErrUnavailable) || !strings.Contains(err.Error(), "not https") {
		t.Fatalf("err = %v", err)
	}
}

// TestDockerHubNames: an image named the Docker way ("nginx",
// "acme/api", "docker.io/acme/api") is on Docker Hub's registry, and an
// official image's name gains "library/".
func TestDockerHubNames(t *testing.T) {
	var asked atomic.Value
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Store(r.URL.Path)
		http.Error(w, "unknown", http.StatusNotFound)
	}))
	defer srv.Close()
	// The fake stands in for registry-1.docker.io: every request goes to
	// it, and its certificate (made for example.com) is trusted.
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com"
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	ctx := keyfetch.WithClient(context.Background(), &http.Client{Transport: tr})
	for repo, path := range map[string]string{
		"nginx":              "/v2/library/nginx/manifests/1",
		"acme/api":           "/v2/acme/api/manifests/1",
		"docker.io/acme/api": "/v2/acme/api/manifests/1",
		"docker.io/nginx":    "/v2/library/nginx/manifests/1",
	} {
		conf, err := registryv2.Confirm(ctx, "https://registry-1.docker.io", &event.Artifact{Repository: repo, Tag: "1"}, connectors.Credential{})
		if err != nil || conf.Confirmed {
			t.Fatalf("%s: %+v, %v", repo, conf, err)
		}
		if got, _ := asked.Load().(string); got != path {
			t.Errorf("%s: asked %s, want %s", repo, got, path)
		}
	}
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name string
		s    registryv2.Settings
		def  string
		want string
		says string
	}{
		{"default", registryv2.Settings{}, "https://quay.io", "https://quay.io", ""},
		{"own", registryv2.Settings{Registry: "https://r.example.com/"}, "https://quay.io", "https://r.example.com/", ""},
		{"required", registryv2.Settings{}, "", "", "settings.confirm.registry: is required"},
		{"http", registryv2.Settings{Registry: "http://r.example.com"}, "", "", "settings.confirm.registry: is not an https URL"},
		{"path", registryv2.Settings{Registry: "https://r.example.com/v2"}, "", "", "base URL alone"},
		{"user", registryv2.Settings{Registry: "https://u:p@r.example.com"}, "", "", "base URL alone"},
		{"control in username", registryv2.Settings{Registry: "https://r.example.com", Username: "a\nb"}, "", "", "settings.confirm.username: holds a control character"},
		{"long username", registryv2.Settings{Registry: "https://r.example.com", Username: strings.Repeat("a", registryv2.MaxUsername+1)}, "", "", "settings.confirm.username: is longer"},
	}
	for _, tt := range tests {
		s := tt.s
		err := s.Check(tt.def)
		if tt.says != "" {
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("%s: Check = %v, want %q", tt.name, err, tt.says)
			}
			continue
		}
		if err != nil || s.Registry != tt.want {
			t.Errorf("%s: Check = %v, registry %q; want %q", tt.name, err, s.Registry, tt.want)
		}
	}
}

// TestSettingsConfirm: only image pushes are asked about; a chart is
// refuted without a request; the settings' username stands in for the
// credential's.
func TestSettingsConfirm(t *testing.T) {
	reg := newRegistry(t, false, true)
	s := registryv2.Settings{Registry: reg.URL, Username: "bot"}
	push := &event.Event{Kind: event.KindArtifactPublished, Artifact: &event.Artifact{Type: "container", Repository: reg.host() + "/acme/api", Tag: "1.4.2"}}
	conf, err := s.Confirm(context.Background(), push, connectors.Credential{Password: "pw"})
	if err != nil || !conf.Confirmed {
		t.Fatalf("push: %+v, %v", conf, err)
	}
	if conf, err := s.Confirm(context.Background(), &event.Event{Kind: event.KindBuildFinished}, connectors.Credential{}); conf != nil || err != nil {
		t.Errorf("a build: %+v, %v; want nil, nil", conf, err)
	}
	before := reg.heads.Load()
	chart := &event.Event{Kind: event.KindArtifactPublished, Artifact: &event.Artifact{Type: "helm", Repository: reg.host() + "/charts/api", Version: "1.0.0"}}
	if conf, err := s.Confirm(context.Background(), chart, connectors.Credential{Password: "pw"}); err != nil || conf == nil || conf.Confirmed || reg.heads.Load() != before {
		t.Errorf("a chart: %+v, %v, %d requests; want refuted without a request", conf, err, reg.heads.Load()-before)
	}
}

// TestRealmElsewhere: a registry whose challenge names a token realm on
// another host gets its token asked for anonymously there: the source's
// credential goes only to the registry's host (or its known token
// service).
func TestRealmElsewhere(t *testing.T) {
	var sawCredential atomic.Bool
	realm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); ok {
			sawCredential.Store(true)
		}
		fmt.Fprint(w, `{"token":"t-123"}`)
	}))
	defer realm.Close()
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t-123" {
			// "localhost" is another host than the registry's 127.0.0.1.
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+strings.Replace(realm.URL, "127.0.0.1", "localhost", 1)+`/token",service="x"`)
			http.Error(w, "auth", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Docker-Content-Digest", digestOf(manifest))
	}))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	conf, err := registryv2.Confirm(context.Background(), reg.URL, &event.Artifact{Repository: host + "/acme/api", Tag: "1"}, connectors.Credential{Username: "bot", Password: "pw"})
	if err != nil || !conf.Confirmed {
		t.Fatalf("%+v, %v", conf, err)
	}
	if sawCredential.Load() {
		t.Error("the credential was sent to a token realm on another host")
	}
}
