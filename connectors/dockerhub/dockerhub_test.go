package dockerhub_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/dockerhub"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves: every push is an
// artifact.published event.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"push":            event.KindArtifactPublished,
		"push.official":   event.KindArtifactPublished,
		"push.prerelease": event.KindArtifactPublished,
		"push.private":    event.KindArtifactPublished,
		"push.user-repo":  event.KindArtifactPublished,
	})
}

// TestRefusals: what Verify (or Parse) must refuse, each with a message
// that tells the sender what is wrong and never echoes the token.
func TestRefusals(t *testing.T) {
	setToken := func(v string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.PathToken = v }
	}
	noToken := func(r *connectors.Request) { r.PathToken = "" }
	setBody := func(body string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Body = []byte(body) }
	}
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "no token", Fixture: "push.user-repo", Change: noToken, Want: connectors.ErrUnauthorized, Says: "must end in the source's token, /hooks/acme-dockerhub/<token>"},
		{Name: "wrong token", Fixture: "push.user-repo", Change: setToken("dh-guess"), Want: connectors.ErrUnauthorized, Says: "does not match the source's secret"},
		{Name: "token with a suffix", Fixture: "push.user-repo", Change: setToken(string(testSecret) + "x"), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "token prefix", Fixture: "push.user-repo", Change: setToken(string(testSecret[:len(testSecret)-1])), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "token in the query string", Fixture: "push.user-repo", Change: func(r *connectors.Request) {
			noToken(r)
			r.Query = url.Values{"token": {string(testSecret)}, "secret": {string(testSecret)}}
		}, Want: connectors.ErrUnauthorized, Says: "a token in the query string or a header is not read"},
		{Name: "token in the Authorization header", Fixture: "push.user-repo", Change: func(r *connectors.Request) {
			noToken(r)
			r.Header.Set("Authorization", "Bearer "+string(testSecret))
		}, Want: connectors.ErrUnauthorized, Says: "must end in the source's token"},
		{Name: "empty secret", Fixture: "push.user-repo", Secrets: [][]byte{{}}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "no secrets", Fixture: "push.user-repo", Secrets: [][]byte{}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "rotated out", Fixture: "push.user-repo", Secrets: [][]byte{[]byte("dh-new-token")}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "not JSON", Fixture: "push.user-repo", Change: setBody(`push_data=1`), Want: connectors.ErrMalformed, Says: "not a Docker Hub push payload"},
		{Name: "trailing garbage", Fixture: "push.user-repo", Change: setBody(`{"push_data":{"tag":"v1"},"repository":{"repo_name":"acme/api"}}}`), Want: connectors.ErrMalformed, Says: "not valid JSON"},
		{Name: "no tag", Fixture: "push.user-repo", Change: setBody(`{"push_data":{"pusher":"x"},"repository":{"repo_name":"acme/api"}}`), Want: connectors.ErrMalformed, Says: "push_data.tag is missing"},
		{Name: "no repository", Fixture: "push.user-repo", Change: setBody(`{"push_data":{"tag":"v1"}}`), Want: connectors.ErrMalformed, Says: "names no repository"},
		{Name: "wrong type", Fixture: "push.user-repo", Change: setBody(`{"push_data":{"tag":1},"repository":{"repo_name":"acme/api"}}`), Want: connectors.ErrMalformed, Says: "not a Docker Hub push payload"},
		{Name: "form body", Fixture: "push.user-repo", Change: func(r *connectors.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, Want: connectors.ErrUnsupportedMediaType, Says: "Docker Hub sends application/json"},
	})
}

// TestTokenOnlyInThePath: the connector reads the URL's token and nothing
// else, wherever else the secret is put.
func TestTokenOnlyInThePath(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(dockerhub.Name, "push.user-repo")
	if err != nil {
		t.Fatal(err)
	}
	secret := string(testSecret)
	tests := []struct {
		name string
		req  connectors.Request
		ok   bool
	}{
		{name: "path", req: connectors.Request{PathToken: secret}, ok: true},
		{name: "query token", req: connectors.Request{Query: url.Values{"token": {secret}}}},
		{name: "query secret", req: connectors.Request{Query: url.Values{"secret": {secret}}}},
		{name: "bearer", req: connectors.Request{Header: http.Header{"Authorization": {"Bearer " + secret}}}},
		{name: "bare authorization", req: connectors.Request{Header: http.Header{"Authorization": {secret}}}},
		{name: "custom header", req: connectors.Request{Header: http.Header{"X-Reflex-Token": {secret}}}},
		{name: "path wrong, query right", req: connectors.Request{PathToken: "nope", Query: url.Values{"token": {secret}}}},
	}
	c := dockerhub.New()
	if !c.(connectors.PathTokenTaker).TakesPathToken() {
		t.Fatal("TakesPathToken() = false")
	}
	for _, tt := range tests {
		req := tt.req
		req.Source, req.Body = "acme-dockerhub", f.Body
		if req.Header == nil {
			req.Header = http.Header{}
		}
		err := c.Verify(context.Background(), &req, [][]byte{testSecret})
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: Verify: %v", tt.name, err)
		case !tt.ok && !errors.Is(err, connectors.ErrUnauthorized):
			t.Errorf("%s: Verify = %v, want ErrUnauthorized", tt.name, err)
		case err != nil && strings.Contains(err.Error(), secret):
			t.Errorf("%s: the error echoes the token: %v", tt.name, err)
		}
	}
}

// TestRotation: while a token is rotated, either verifies.
func TestRotation(t *testing.T) {
	t.Parallel()
	c := dockerhub.New()
	for _, secrets := range [][][]byte{{[]byte("old"), testSecret}, {testSecret, []byte("new")}, {{}, testSecret}} {
		req := &connectors.Request{Source: "s", PathToken: string(testSecret), Header: http.Header{}}
		if err := c.Verify(context.Background(), req, secrets); err != nil {
			t.Errorf("Verify with secrets %q: %v", secrets, err)
		}
	}
}

// parse parses body as a delivery with Docker Hub's headers.
func parse(t *testing.T, body string) (*connectors.Result, error) {
	t.Helper()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return dockerhub.New().Parse(&connectors.Request{Source: "s", Header: h, Body: []byte(body), ReceivedAt: connectortest.ReceivedAt})
}

// TestImageName: the image is docker.io/<namespace>/<name>, from namespace
// and name, or from repo_name, where an official image has none.
func TestImageName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		repository string
		want       string // the image; "" when refused
		wantErr    string
	}{
		{repository: `{"namespace":"acme","name":"api","repo_name":"acme/api"}`, want: "docker.io/acme/api"},
		{repository: `{"namespace":"acme","name":"api"}`, want: "docker.io/acme/api"},
		{repository: `{"repo_name":"acme/api"}`, want: "docker.io/acme/api"},
		{repository: `{"repo_name":"nginx"}`, want: "docker.io/library/nginx"},
		{repository: `{"namespace":"library","name":"nginx","repo_name":"nginx"}`, want: "docker.io/library/nginx"},
		{repository: `{"namespace":"my-org","name":"web.app_v2"}`, want: "docker.io/my-org/web.app_v2"},
		{repository: `{}`, wantErr: "names no repository"},
		{repository: `{"namespace":"acme"}`, wantErr: "namespace and name is not a Docker Hub repository name"},
		{repository: `{"namespace":"Acme","name":"api"}`, wantErr: "not a Docker Hub repository name"},
		{repository: `{"repo_name":"acme/api/extra"}`, wantErr: "repo_name is not a Docker Hub repository name"},
		{repository: `{"repo_name":"acme/"}`, wantErr: "not a Docker Hub repository name"},
		{repository: `{"repo_name":"../etc"}`, wantErr: "not a Docker Hub repository name"},
		{repository: `{"namespace":"acme","name":"-api"}`, wantErr: "not a Docker Hub repository name"},
		{repository: `{"namespace":"acme","name":"api:latest"}`, wantErr: "not a Docker Hub repository name"},
		{repository: `{"namespace":"acme","name":"` + strings.Repeat("a", 256) + `"}`, wantErr: "not a Docker Hub repository name"},
	}
	for _, tt := range tests {
		res, err := parse(t, `{"push_data":{"tag":"v1","pusher":"p"},"repository":`+tt.repository+`}`)
		if tt.wantErr != "" {
			if !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: Parse = %v, want ErrMalformed containing %q", tt.repository, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Parse: %v", tt.repository, err)
			continue
		}
		a := res.Event.Artifact
		if a.Repository != tt.want || a.Reference != tt.want+":v1" || !a.DigestMissing || a.Digest != "" {
			t.Errorf("%s: artifact %+v, want repository %s, reference %s:v1, no digest", tt.repository, a, tt.want, tt.want)
		}
	}
}

// TestTag: the tag must be one a registry accepts.
func TestTag(t *testing.T) {
	t.Parallel()
	for tag, ok := range map[string]bool{
		"latest": true, "v1.4.2": true, "1.5.0-rc.1": true, "_build": true, "A_b.C-d": true,
		strings.Repeat("t", 128): true, strings.Repeat("t", 129): false,
		".hidden": false, "-x": false, "a/b": false, "a:b": false, "a b": false, "ü": false,
	} {
		_, err := parse(t, `{"push_data":{"tag":"`+tag+`"},"repository":{"repo_name":"acme/api"}}`)
		if ok != (err == nil) {
			t.Errorf("tag %q: Parse = %v, want ok %v", tag, err, ok)
		}
		if err != nil && !errors.Is(err, connectors.ErrMalformed) {
			t.Errorf("tag %q: %v is not ErrMalformed", tag, err)
		}
	}
}

// TestDeliveryID: the id is the body's SHA-256, the same for a resent
// delivery and different for another push of the same tag.
func TestDeliveryID(t *testing.T) {
	t.Parallel()
	body := func(pushedAt string) string {
		return `{"push_data":{"pushed_at":` + pushedAt + `,"tag":"latest"},"repository":{"repo_name":"acme/api"}}`
	}
	first, err := parse(t, body("1767323040"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := parse(t, body("1767323040"))
	if err != nil {
		t.Fatal(err)
	}
	later, err := parse(t, body("1767323099"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Event.ID != connectors.ContentHash([]byte(body("1767323040"))) || first.Event.IDFrom != connectors.IDFromContentHash {
		t.Errorf("id %q from %q, want the body's content hash", first.Event.ID, first.Event.IDFrom)
	}
	if first.Event.ID != again.Event.ID {
		t.Errorf("a resent delivery has id %q, then %q", first.Event.ID, again.Event.ID)
	}
	if first.Event.ID == later.Event.ID {
		t.Errorf("two pushes of the tag share the id %q", first.Event.ID)
	}
	if err := connectors.CheckDeliveryID("id", first.Event.ID); err != nil {
		t.Error(err)
	}
}

// TestCallbackNotCalled: parsing a delivery whose callback_url names a
// live server sends it nothing.
func TestCallbackNotCalled(t *testing.T) {
	t.Parallel()
	called := make(chan struct{}, 1)
	srv := newServer(t, func(http.ResponseWriter, *http.Request) { called <- struct{}{} })
	res, err := parse(t, `{"callback_url":"`+srv.URL+`/hook","push_data":{"tag":"v1"},"repository":{"repo_name":"acme/api"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := configured(t, map[string]any{"confirm": map[string]any{"registry": "https://registry.example.com"}}).(connectors.Confirmer).Confirm(context.Background(), res.Event, connectors.Credential{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-called:
		t.Fatal("the callback URL was called")
	default:
	}
}

// TestSimulator: a simulated delivery reads back as the push it imitates.
func TestSimulator(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(dockerhub.Name, "push.official")
	if err != nil {
		t.Fatal(err)
	}
	sim := dockerhub.New().(connectors.Simulator)
	h, body := sim.Delivery("push", "ignored", f.Body)
	if string(body) != string(f.Body) || h.Get("Content-Type") != "application/json" {
		t.Fatalf("Delivery changed the payload or sent %v", h)
	}
	if got := sim.EventType(f.Header, f.Body); got != dockerhub.EventPush {
		t.Errorf("EventType = %q, want push", got)
	}
	signed := h.Clone()
	sim.Sign(signed, body, testSecret)
	for name, v := range signed {
		if strings.Contains(strings.Join(v, ""), string(testSecret)) {
			t.Errorf("Sign put the token in header %s: it belongs in the URL", name)
		}
	}
	res, err := dockerhub.New().Parse(&connectors.Request{Source: "s", Header: h, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if res.Event.Artifact.Reference != "docker.io/library/nginx:1.29.4-alpine" {
		t.Errorf("reference %q", res.Event.Artifact.Reference)
	}
}
