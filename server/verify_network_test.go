package server_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/buildkite"
	"github.com/reflexops/reflex/connectors/dockerhub"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/connectors/pubsub"
	"github.com/reflexops/reflex/connectors/registry"
	"github.com/reflexops/reflex/connectors/sns"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/server"
)

// TestKeyEndpointDown: while the endpoint of a provider's published keys
// is down, a genuine delivery is answered 503 with Retry-After (never
// 401, never a 500, and soon), counted as keys_unavailable; once it is
// back, the provider's next delivery is accepted.
func TestKeyEndpointDown(t *testing.T) {
	key := []byte(readFile("../connectors/pubsub/testdata/test-key.pem"))
	set, err := pubsub.PublicKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(set)
	}))
	defer keys.Close()
	settings, err := fixtures.SourceSettings(pubsub.Name)
	if err != nil {
		t.Fatal(err)
	}
	settings = maps.Clone(settings)
	settings["keys_url"] = keys.URL
	in := start(t, newRedis(t), logOnFailure(t), func(o *server.Options) {
		o.Config = &config.Config{Sources: []config.SourceSpec{{Name: "acme-pubsub", Connector: pubsub.Name, Settings: settings}}}
	})
	conn, err := registry.Configure(pubsub.Name, settings)
	if err != nil {
		t.Fatal(err)
	}
	f := connectorFixture(t, pubsub.Name, "cloud-build.success")
	send := func() reply {
		return post(t, in.URL+"/hooks/acme-pubsub", signedFixture(t, conn, f, f.Body, string(key)), f.Body)
	}

	r := send()
	if r.Code != http.StatusServiceUnavailable || r.Status != "failed" || r.RetryAfter == "" || !strings.Contains(r.Message, "retry later") {
		t.Fatalf("keys down: answered %d %s (Retry-After %q), want 503 with Retry-After", r.Code, r.Body, r.RetryAfter)
	}
	metrics := apiGet(t, in, "/metrics", nil)
	if want := `reflex_webhook_refusals_total{connector="pubsub",reason="keys_unavailable",source="acme-pubsub"} 1`; !strings.Contains(string(metrics.Body), want) {
		t.Errorf("/metrics lacks %s", want)
	}
	down.Store(false)
	// The failed fetch is not tried again for keyfetch.RetryAfter; a
	// provider retries later than that.
	deadline := time.Now().Add(keyfetch.RetryAfter + 10*time.Second)
	for r = send(); r.Code == http.StatusServiceUnavailable && time.Now().Before(deadline); r = send() {
		time.Sleep(250 * time.Millisecond)
	}
	if r.Code != http.StatusAccepted {
		t.Fatalf("keys back: answered %d %s, want 202", r.Code, r.Body)
	}
	if ev := waitProcessed(t, in, r.ID); ev.Kind != event.KindBuildFinished {
		t.Errorf("kind %s", ev.Kind)
	}
}

// fakeRegistry is a registry that holds one image, acme/api:v1.4.2, asks
// for a bearer token from Docker Hub's realm (which the test's client
// routes to it too), and gives one for bot:pw.
func fakeRegistry(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var asked atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			if user, pw, ok := r.BasicAuth(); !ok || user != "bot" || pw != "pw" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			fmt.Fprint(w, `{"token":"t"}`)
			return
		}
		if r.Header.Get("Authorization") != "Bearer t" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:acme/api:pull"`)
			http.Error(w, "auth", http.StatusUnauthorized)
			return
		}
		asked.Add(1)
		if r.URL.Path != "/v2/acme/api/manifests/v1.4.2" {
			http.Error(w, "unknown", http.StatusNotFound)
			return
		}
		w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("ab", 32))
	}))
	t.Cleanup(srv.Close)
	return srv, &asked
}

// routedClient sends the requests for hosts ending in suffix (every
// host when it is empty) to srv, trusting srv's certificate for them, and
// the others where they go.
func routedClient(srv *httptest.Server, suffix string) *http.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	base := tr.TLSClientConfig.Clone()
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		cfg := base.Clone()
		if strings.HasSuffix(host, suffix) {
			addr, cfg.ServerName = srv.Listener.Addr().String(), "example.com"
		} else {
			cfg.ServerName = host
		}
		var d tlsDialer
		return d.dial(ctx, network, addr, cfg)
	}
	return keyfetch.NewClient(tr)
}

// TestConfirmWithRegistry: a Docker Hub source that asks its registry
// to confirm pushes. A push of a tag the registry holds is processed and
// recorded as confirmed, and reaches live state; a push of a tag it does
// not hold is recorded as unconfirmed and changes nothing; the
// confirmation password never shows in the event.
func TestConfirmWithRegistry(t *testing.T) {
	reg, asked := fakeRegistry(t)
	in := start(t, newRedis(t), logOnFailure(t), func(o *server.Options) {
		o.KeyClient = routedClient(reg, "")
		o.Config = &config.Config{Sources: []config.SourceSpec{{
			Name: "acme-hub", Connector: dockerhub.Name, Secrets: []string{testSecret},
			Settings: map[string]any{"confirm": map[string]any{"username": "bot"}}, ConfirmPassword: "pw",
		}}}
	})
	f := connectorFixture(t, dockerhub.Name, "push.user-repo")
	url := in.URL + "/hooks/acme-hub/" + testSecret
	r := post(t, url, f.Header.Clone(), f.Body)
	if r.Code != http.StatusAccepted {
		t.Fatalf("push: %d %s", r.Code, r.Body)
	}
	ev := waitProcessed(t, in, r.ID)
	if c := ev.Confirmation; c == nil || !c.Confirmed || !strings.Contains(c.Detail, "sha256:abab") || c.By != "registry registry-1.docker.io" {
		t.Fatalf("confirmation %+v, want confirmed by registry-1.docker.io with the digest", ev.Confirmation)
	}
	var artifact struct {
		Content map[string]any `json:"content"`
	}
	if g := apiGet(t, in, "/api/v1/state/acme-hub:docker.io:acme:api", &artifact); g.Code != http.StatusOK || !strings.Contains(string(g.Body), `"v1.4.2"`) {
		t.Fatalf("artifact state: %d %s", g.Code, g.Body)
	}

	moved := []byte(strings.Replace(string(f.Body), `"tag": "v1.4.2"`, `"tag": "v9.9.9"`, 1))
	r = post(t, url, f.Header.Clone(), moved)
	if r.Code != http.StatusAccepted {
		t.Fatalf("push of a missing tag: %d %s", r.Code, r.Body)
	}
	ev = waitStatus(t, in, r.ID, event.StatusUnconfirmed)
	if c := ev.Confirmation; c == nil || c.Confirmed || !strings.Contains(c.Detail, "no tag v9.9.9") {
		t.Fatalf("confirmation %+v, want refuted: no such tag", ev.Confirmation)
	}
	g := apiGet(t, in, "/api/v1/state/acme-hub:docker.io:acme:api", nil)
	if strings.Contains(string(g.Body), "v9.9.9") {
		t.Errorf("an unconfirmed push reached live state: %s", g.Body)
	}
	if strings.Contains(string(g.Body), `"pw"`) {
		t.Errorf("the confirmation password shows: %s", g.Body)
	}
	if asked.Load() != 2 {
		t.Errorf("the registry was asked %d times, want 2", asked.Load())
	}
}

// waitStatus waits until event id has a status.
func waitStatus(t *testing.T, in *instance, id string, status event.Status) *event.Event {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var ev event.Event
		r := apiGet(t, in, "/api/v1/events/"+id, &ev)
		if r.Code == http.StatusOK && ev.Status == status {
			return &ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s not %s within 15s: %d %s", id, status, r.Code, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// connectorFixture returns one of a connector's fixtures.
func connectorFixture(t *testing.T, connector, name string) fixtures.Fixture {
	t.Helper()
	f, err := fixtures.Get(connector, name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// tlsDialer dials TLS with a configuration of its caller's.
type tlsDialer struct{}

func (tlsDialer) dial(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
	d := tls.Dialer{Config: cfg}
	return d.DialContext(ctx, network, addr)
}

// TestVerificationNegativesOverHTTP: what the negatives answer
// over HTTP, each a 401 with a message that says why: a Pub/Sub token for
// another audience; an SNS message whose certificate URL is on a foreign
// host; a Buildkite signature over a stale timestamp.
func TestVerificationNegativesOverHTTP(t *testing.T) {
	key := readFile("../connectors/pubsub/testdata/test-key.pem")
	snsKey := readFile("../connectors/sns/testdata/sns-test-key.pem")
	pubsubSettings, err := fixtures.SourceSettings(pubsub.Name)
	if err != nil {
		t.Fatal(err)
	}
	pubsubSettings = maps.Clone(pubsubSettings)
	pubsubSettings["keys_url"] = keyServer(t, []byte(key)).URL
	snsSettings, err := fixtures.SourceSettings(sns.Name)
	if err != nil {
		t.Fatal(err)
	}
	aws := fakeAWS(t)
	in := start(t, newRedis(t), logOnFailure(t), func(o *server.Options) {
		o.KeyClient = aws.client
		o.Config = &config.Config{Sources: []config.SourceSpec{
			{Name: "acme-pubsub", Connector: pubsub.Name, Settings: pubsubSettings},
			{Name: "acme-sns", Connector: sns.Name, Settings: snsSettings},
			{Name: "acme-buildkite", Connector: buildkite.Name, Secrets: []string{testSecret}},
		}}
	})

	// A token Google made for another service's push endpoint.
	otherAudience := maps.Clone(pubsubSettings)
	otherAudience["audience"] = "https://other.example.com/push"
	signer, err := registry.Configure(pubsub.Name, otherAudience)
	if err != nil {
		t.Fatal(err)
	}
	pf := connectorFixture(t, pubsub.Name, "cloud-build.success")
	pubsubReq := signedFixture(t, signer, pf, pf.Body, key)

	// An SNS message pointing at a certificate of the sender's choosing.
	snsConn, err := registry.Configure(sns.Name, snsSettings)
	if err != nil {
		t.Fatal(err)
	}
	sf := connectorFixture(t, sns.Name, "notification.ecr-push")
	foreign := []byte(strings.Replace(string(sf.Body), "https://sns.us-east-1.amazonaws.com/", "https://sns.us-east-1.evil.example/", 1))
	snsReq := signedFixture(t, snsConn, sf, foreign, snsKey)

	// A Buildkite signature made an hour ago: signedFixture would sign
	// now, so the recorded timestamp is set after.
	bk, err := registry.Configure(buildkite.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	bf := connectorFixture(t, buildkite.Name, "build.finished.passed")
	stale := bf.Header.Clone()
	stale.Set(buildkite.HeaderRecordedTimestamp, fmt.Sprint(time.Now().Add(-time.Hour).Unix()))
	bk.(connectors.Signer).Sign(stale, bf.Body, []byte(testSecret))

	tests := []struct {
		name, source string
		header       http.Header
		body         []byte
		says         string
	}{
		{"pubsub token for another audience", "acme-pubsub", pubsubReq, pf.Body, "audience"},
		{"sns certificate on a foreign host", "acme-sns", snsReq, foreign, "evil.example"},
		{"buildkite stale timestamp", "acme-buildkite", stale, bf.Body, "outside the tolerance"},
	}
	for _, tt := range tests {
		r := post(t, in.URL+"/hooks/"+tt.source, tt.header, tt.body)
		if r.Code != http.StatusUnauthorized || !strings.Contains(r.Message, tt.says) {
			t.Errorf("%s: answered %d %s, want 401 saying %q", tt.name, r.Code, r.Body, tt.says)
		}
	}
}

// TestURLTokenNeverLogged: a Docker Hub source's URL token shows in no
// log line (at debug level, where every request is logged) and in no
// answer, whether the delivery is accepted, refused, or posted to a path
// a sender got slightly wrong.
func TestURLTokenNeverLogged(t *testing.T) {
	var logs syncBuffer
	const token = "hub-3f9a1c7e5b2d48f6a0c1e9d7b5a3f1c2"
	in := start(t, newRedis(t), func(o *server.Options) {
		o.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.Config = &config.Config{Sources: []config.SourceSpec{{Name: "acme-hub", Connector: dockerhub.Name, Secrets: []string{token}}}}
	})
	f := connectorFixture(t, dockerhub.Name, "push.user-repo")
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/hooks/acme-hub/" + token, http.StatusAccepted},
		{"/hooks/acme-hub/" + token + "x", http.StatusUnauthorized},
		{"//hooks/acme-hub/" + token, 0},
		{"/Hooks/acme-hub/" + token, http.StatusNotFound},
		{"/hooks/acme-hub/" + token + "/extra", http.StatusNotFound},
		{"/hooks/nobody/" + token, http.StatusNotFound},
	} {
		r := post(t, in.URL+tc.path, f.Header.Clone(), f.Body)
		if tc.want != 0 && r.Code != tc.want {
			t.Errorf("%s: answered %d %s, want %d", strings.Replace(tc.path, token, "<token>", 1), r.Code, r.Body, tc.want)
		}
		if strings.Contains(string(r.Body), token) {
			t.Errorf("the answer shows the token: %s", r.Body)
		}
	}
	if strings.Contains(logs.String(), token[4:]) {
		t.Errorf("the log shows the token:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "path=/hooks/acme-hub/[redacted]") {
		t.Errorf("the log does not show the redacted path:\n%s", logs.String())
	}
}
