package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/pubsub"
	"github.com/reflexops/reflex/connectors/registry"
	"github.com/reflexops/reflex/connectors/sns"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/server"
)

// connectorSecret is the secret a connector's test source verifies with:
// Basic credentials where the provider sends them.
func connectorSecret(name string) string {
	if name == "azure-devops" {
		return "reflex:" + testSecret
	}
	return testSecret
}

// signedFixture returns a fixture's recorded headers signed by conn with
// secret, as its provider would send them now: a recorded signing
// timestamp (any header whose name says Timestamp) is dropped, so the
// connector signs with the current time.
func signedFixture(t *testing.T, conn connectors.Connector, f fixtures.Fixture, body []byte, secret string) http.Header {
	t.Helper()
	h := f.Header.Clone()
	for name := range h {
		if strings.Contains(strings.ToLower(name), "timestamp") {
			h.Del(name)
		}
	}
	signer, ok := conn.(connectors.Signer)
	if !ok {
		t.Fatalf("connector %s cannot sign", conn.Name())
	}
	signer.Sign(h, body, []byte(secret))
	return h
}

// connectorRig says how a connector's fixtures reach a running Reflex:
// the source's settings, the secret that signs them (and a wrong one),
// and the URL they are posted to.
type connectorRig struct {
	settings      map[string]any
	secret, wrong string
	// pathToken is true when the secret ends the URL.
	pathToken bool
}

// url returns the source's URL for a delivery with secret: base itself,
// or, for a connector whose provider is given a URL with a token, base
// and the token (none when secret is empty).
func (r connectorRig) url(base, secret string) string {
	if r.pathToken && secret != "" {
		return base + "/" + secret
	}
	return base
}

// rigFor returns the rig of a connector: its fixtures' settings and the
// test secret, except where the provider verifies otherwise. Pub/Sub's
// tokens are signed with a test RSA key whose key set a local endpoint
// serves in place of Google's.
func rigFor(t *testing.T, name string) connectorRig {
	t.Helper()
	settings, err := fixtures.SourceSettings(name)
	if err != nil {
		t.Fatal(err)
	}
	rig := connectorRig{settings: settings, secret: connectorSecret(name), wrong: "not-the-" + connectorSecret(name)}
	conn, err := registry.Configure(name, settings)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := conn.(connectors.PathTokenTaker); ok && p.TakesPathToken() {
		rig.pathToken = true
	}
	if name == sns.Name {
		// Messages are signed with a test key whose certificate the
		// fake SNS serves; Sign stamps and signs them now.
		rig.secret, rig.wrong = readFile("../connectors/sns/testdata/sns-test-key.pem"), readFile("../connectors/pubsub/testdata/other-test-key.pem")
	}
	if name == pubsub.Name {
		key, other := readFile("../connectors/pubsub/testdata/test-key.pem"), readFile("../connectors/pubsub/testdata/other-test-key.pem")
		rig.secret, rig.wrong = key, other
		rig.settings = maps.Clone(settings)
		rig.settings["keys_url"] = keyServer(t, []byte(key)).URL
	}
	return rig
}

// awsFake stands in for SNS's endpoints: it serves the test signing
// certificate at any .pem path and confirms any subscription.
type awsFake struct {
	client    *http.Client
	confirmed atomic.Int32
}

func fakeAWS(t *testing.T) *awsFake {
	t.Helper()
	cert := readFile("../connectors/sns/testdata/sns-test-cert.pem")
	f := &awsFake{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, ".pem"):
			w.Header().Set("Cache-Control", "max-age=86400")
			fmt.Fprint(w, cert)
		case r.URL.Query().Get("Action") == "ConfirmSubscription":
			f.confirmed.Add(1)
			fmt.Fprintf(w, `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>%s:1</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`, r.URL.Query().Get("TopicArn"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	f.client = routedClient(srv, ".amazonaws.com")
	return f
}

// keyServer serves the public key set of PEM RSA keys, as Google's
// certificate endpoint does, with a cache lifetime.
func keyServer(t *testing.T, pemKeys ...[]byte) *httptest.Server {
	t.Helper()
	set, err := pubsub.PublicKeySet(pemKeys...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Content-Type", "application/json")
		w.Write(set)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestEveryConnectorOverHTTP posts every fixture of every connector to a
// running Reflex, signed as its provider signs: each is accepted (a ping
// answered) and read back processed with its golden event's fields, and
// a redelivery is a duplicate. A wrong secret, an unsigned delivery and a
// garbled body are refused with a 4xx and a message, never a 500, and
// counted per source and reason.
func TestEveryConnectorOverHTTP(t *testing.T) {
	names := registry.Names()
	var specs []config.SourceSpec
	rigs := map[string]connectorRig{}
	for _, name := range names {
		rig := rigFor(t, name)
		rigs[name] = rig
		specs = append(specs, config.SourceSpec{Name: "acme-" + name, Connector: name, Secrets: []string{rig.secret}, Settings: rig.settings})
	}
	aws := fakeAWS(t)
	in := start(t, newRedis(t), logOnFailure(t), func(o *server.Options) {
		o.Config = &config.Config{Sources: specs}
		o.KeyClient = aws.client
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			rig := rigs[name]
			conn, err := registry.Configure(name, rig.settings)
			if err != nil {
				t.Fatal(err)
			}
			all, err := fixtures.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			base := in.URL + "/hooks/acme-" + name
			secret := rig.secret
			url := rig.url(base, secret)
			for _, f := range all {
				// A signer that signs in the body (SNS) gets a copy.
				body := bytes.Clone(f.Body)
				h := signedFixture(t, conn, f, body, secret)
				r := post(t, url, h, body)
				if f.IsPing() {
					if r.Code != http.StatusOK || r.Status != "ok" {
						t.Errorf("%s: ping answered %d %s, want 200 ok", f.Name, r.Code, r.Body)
					}
					continue
				}
				if r.Code != http.StatusAccepted {
					t.Errorf("%s: answered %d %s, want 202", f.Name, r.Code, r.Body)
					continue
				}
				want, ids := goldenEvents(t, f, r)
				ignore := cmpopts.IgnoreFields(event.Event{}, "ReceivedAt", "RequestID", "Status", "ProcessedAt", "Attempts", "Error", "TriggerErrors")
				for i, id := range ids {
					got := waitProcessed(t, in, id)
					if diff := cmp.Diff(want[i], *got, ignore); diff != "" {
						t.Errorf("%s: the stored event differs from its golden (-want +got):\n%s", f.Name, diff)
					}
				}
				body = bytes.Clone(f.Body)
				if again := post(t, url, signedFixture(t, conn, f, body, secret), body); again.Code != http.StatusOK || again.Status != "duplicate" {
					t.Errorf("%s: redelivery answered %d %s, want 200 duplicate", f.Name, again.Code, again.Body)
				}
			}
			f := firstEvent(t, all)
			wrongBody := bytes.Clone(f.Body)
			refusals := []struct {
				name   string
				url    string
				header http.Header
				body   []byte
				// want is the status; 0 means any 4xx: a garbled body
				// fails a signature over it (401) or, where only a token
				// is checked, its decoding (400).
				want int
			}{
				{"wrong secret", rig.url(base, rig.wrong), signedFixture(t, conn, f, wrongBody, rig.wrong), wrongBody, 401},
				{"unsigned", rig.url(base, ""), f.Header.Clone(), f.Body, 401},
				{"garbled body", url, signedFixture(t, conn, f, bytes.Clone(f.Body), secret), append([]byte("\x00garbled"), f.Body...), 0},
			}
			for _, tc := range refusals {
				r := post(t, tc.url, tc.header, tc.body)
				if tc.want != 0 && r.Code != tc.want || r.Code < 400 || r.Code > 499 || r.Status != "failed" || r.Message == "" {
					t.Errorf("%s: answered %d %s, want %d with a message", tc.name, r.Code, r.Body, tc.want)
				}
			}
		})
	}
	if aws.confirmed.Load() != 1 {
		t.Errorf("the SNS subscription was confirmed %d times, want once", aws.confirmed.Load())
	}
	// A subscription to a topic the source does not allow, genuinely
	// signed, is refused, and not confirmed.
	conn, err := registry.Configure(sns.Name, rigs[sns.Name].settings)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fixtures.Get(sns.Name, "subscription-confirmation")
	if err != nil {
		t.Fatal(err)
	}
	other := []byte(strings.ReplaceAll(string(f.Body), ":reflex-builds", ":someone-elses"))
	h := signedFixture(t, conn, f, other, rigs[sns.Name].secret)
	h.Set("X-Amz-Sns-Topic-Arn", "arn:aws:sns:us-east-1:123456789012:someone-elses")
	r := post(t, in.URL+"/hooks/acme-sns", h, other)
	if r.Code != http.StatusUnauthorized || !strings.Contains(r.Message, "someone-elses") || aws.confirmed.Load() != 1 {
		t.Errorf("a subscription to another topic: answered %d %s, %d confirmations; want 401 naming the topic, none", r.Code, r.Body, aws.confirmed.Load())
	}
	metrics := apiGet(t, in, "/metrics", nil)
	for _, name := range names {
		want := fmt.Sprintf(`reflex_webhook_refusals_total{connector=%q,reason="unauthorized",source="acme-%s"}`, name, name)
		if !strings.Contains(string(metrics.Body), want) {
			t.Errorf("/metrics does not count %s's refusals: want a line %s", name, want)
		}
	}
}

// goldenEvents returns a fixture's golden events (one, or a batch's) and
// the ids the intake's answer r gives them.
func goldenEvents(t *testing.T, f fixtures.Fixture, r reply) ([]event.Event, []string) {
	t.Helper()
	want, err := f.Events()
	if err != nil {
		t.Fatal(err)
	}
	if golden := bytes.TrimSpace(f.Golden); golden[0] != '[' {
		return want, []string{r.ID}
	}
	var answer struct {
		Events []struct{ ID, Status string } `json:"events"`
	}
	if err := json.Unmarshal(r.Body, &answer); err != nil || len(answer.Events) != len(want) {
		t.Fatalf("%s: the answer %s lists %d events, want %d (%v)", f.Name, r.Body, len(answer.Events), len(want), err)
	}
	ids := make([]string, len(want))
	for i, e := range answer.Events {
		if e.Status != "accepted" {
			t.Errorf("%s: event %d is %s, want accepted", f.Name, i, e.Status)
		}
		ids[i] = e.ID
	}
	return want, ids
}

// firstEvent returns the first fixture that is not a ping.
func firstEvent(t *testing.T, all []fixtures.Fixture) fixtures.Fixture {
	t.Helper()
	for _, f := range all {
		if !f.IsPing() {
			return f
		}
	}
	t.Fatal("no fixture that is an event")
	return fixtures.Fixture{}
}

// TestSourceSettingsAreChecked: a source written through the API is
// checked against its connector's settings schema, and refused with the
// field named.
func TestSourceSettingsAreChecked(t *testing.T) {
	in := start(t, newRedis(t))
	tests := []struct {
		name, body string
		code       int
		says       string
	}{
		{"unknown connector", `{"name":"s1","connector":"gitlub"}`, 400, "field connector: unknown connector"},
		{"settings for a connector without any", `{"name":"s2","connector":"github","settings":{"tolerance":"5m"}}`, 400, "field settings: the github connector takes no settings"},
		{"settings not an object", `{"name":"s3","connector":"github","settings":"5m"}`, 400, "field settings"},
		{"plain github source", `{"name":"s4","connector":"github","secrets":["env:REFLEX_TEST_SECRET"]}`, 201, ""},
		{"a setting misspelt", `{"name":"s5","connector":"gitlab","settings":{"tolerence":"5m"}}`, 400, "field settings.tolerence: is not a field"},
		{"a setting of the wrong shape", `{"name":"s6","connector":"gitlab","settings":{"tolerance":"soon"}}`, 400, "field settings.tolerance"},
		{"a setting only Configure can judge", `{"name":"s7","connector":"gitlab","settings":{"tolerance":"0s"}}`, 400, "field settings.tolerance: 0s is outside 1s to 1h0m0s"},
		{"valid settings", `{"name":"s8","connector":"gitlab","settings":{"tolerance":"2m","require_signature":true}}`, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := master(t, in, http.MethodPost, "/api/v1/source", tt.body)
			if r.Code != tt.code || !strings.Contains(r.Message, tt.says) {
				t.Fatalf("answered %d %s, want %d saying %q", r.Code, r.Body, tt.code, tt.says)
			}
		})
	}
}

// TestHandshake: a CloudEvents source answers the webhook validation
// request (OPTIONS) without queueing anything; a connector without a
// handshake refuses OPTIONS with 405.
func TestHandshake(t *testing.T) {
	in := start(t, newRedis(t), func(o *server.Options) {
		o.Config.Sources = append(o.Config.Sources,
			config.SourceSpec{Name: "ce", Connector: "cloudevents", Secrets: []string{testSecret}},
			config.SourceSpec{Name: "ce-strict", Connector: "cloudevents", Secrets: []string{testSecret},
				Settings: map[string]any{"allowed_origins": []any{"eventgrid.azure.net"}}})
	})
	tests := []struct {
		name, source, origin string
		code                 int
		allowed              string
	}{
		{"any origin by default", "ce", "events.example.com", 200, "events.example.com"},
		{"a listed origin", "ce-strict", "eventgrid.azure.net", 200, "eventgrid.azure.net"},
		{"an unlisted origin", "ce-strict", "events.example.com", 401, ""},
		{"no origin", "ce", "", 400, ""},
		{"a connector without a handshake", "acme-github", "events.example.com", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodOptions, in.URL+"/hooks/"+tt.source, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.origin != "" {
				req.Header.Set("WebHook-Request-Origin", tt.origin)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.code || resp.Header.Get("WebHook-Allowed-Origin") != tt.allowed {
				t.Fatalf("answered %d with WebHook-Allowed-Origin %q, want %d and %q", resp.StatusCode, resp.Header.Get("WebHook-Allowed-Origin"), tt.code, tt.allowed)
			}
		})
	}
	var page []json.RawMessage
	if r := apiGet(t, in, "/api/v1/events?source=ce", &page); r.Code != http.StatusOK || len(page) != 0 {
		t.Fatalf("events of ce: %d %s; a handshake queues nothing", r.Code, r.Body)
	}
}

// TestCloudEventsBatch: each event of a batch is de-duplicated on its own,
// so a batch sent again after one of its events arrived alone queues only
// the others; a pipeline run that names no repository still reaches live
// state.
func TestCloudEventsBatch(t *testing.T) {
	in := start(t, newRedis(t), logOnFailure(t), func(o *server.Options) {
		o.Config.Sources = append(o.Config.Sources, config.SourceSpec{Name: "acme-cloudevents", Connector: "cloudevents", Secrets: []string{testSecret}})
	})
	conn, err := registry.Lookup("cloudevents")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fixtures.Get("cloudevents", "pipelinerun.batch")
	if err != nil {
		t.Fatal(err)
	}
	var batch []json.RawMessage
	if err := json.Unmarshal(f.Body, &batch); err != nil {
		t.Fatal(err)
	}
	url := in.URL + "/hooks/acme-cloudevents"
	first := []byte("[" + string(batch[0]) + "]")
	if r := post(t, url, signedFixture(t, conn, f, first, testSecret), first); r.Code != http.StatusAccepted {
		t.Fatalf("the first event alone: %d %s", r.Code, r.Body)
	}
	r := post(t, url, signedFixture(t, conn, f, f.Body, testSecret), f.Body)
	var answer struct {
		Status, Message string
		Events          []struct{ ID, Status string }
	}
	if err := json.Unmarshal(r.Body, &answer); err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, e := range answer.Events {
		statuses = append(statuses, e.Status)
	}
	if r.Code != http.StatusAccepted || strings.Join(statuses, ",") != "duplicate,accepted,accepted" || !strings.Contains(answer.Message, "3 events: 2 accepted, 1 duplicates") {
		t.Fatalf("the batch: %d %s; want 202 with duplicate,accepted,accepted", r.Code, r.Body)
	}
	last := waitProcessed(t, in, answer.Events[2].ID)
	if last.Kind != event.KindBuildFinished || last.Repository != nil {
		t.Fatalf("last event = %+v", last)
	}
	var pipeline map[string]any
	if r := apiGet(t, in, "/api/v1/state/acme-cloudevents:widget-ci", &pipeline); r.Code != http.StatusOK {
		t.Fatalf("the pipeline's live state: %d %s", r.Code, r.Body)
	}
	runs, _ := pipeline["runs"].(map[string]any)
	if latest, _ := runs["latest"].(map[string]any); latest["outcome"] != "success" || latest["status"] != "finished" {
		t.Fatalf("pipeline state = %v", pipeline)
	}
	if again := post(t, url, signedFixture(t, conn, f, f.Body, testSecret), f.Body); again.Code != http.StatusOK || again.Status != "duplicate" {
		t.Fatalf("the batch again: %d %s, want 200 duplicate", again.Code, again.Body)
	}
}
