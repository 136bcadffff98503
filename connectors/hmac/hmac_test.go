package hmac_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the sha1 scheme is under test
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	hmacconn "github.com/reflexops/reflex/connectors/hmac"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/schemacheck"
)

var testSecret = []byte("9c2e7f41a0b35d68e1f4c7a2b9d03e56")

// fixtureSettings describe the fixtures' senders: a signature and a
// timestamp header, the type in "event", and where each field lies.
func fixtureSettings() map[string]any {
	s, err := fixtures.SourceSettings(hmacconn.Name)
	if err != nil || s == nil {
		panic(fmt.Sprintf("the fixtures' source settings: %v", err))
	}
	return s
}

// configured returns a constructor of the connector with settings,
// failing loudly: the kit's constructor takes no testing.T.
func configured(settings map[string]any) func() connectors.Connector {
	return func() connectors.Connector {
		c := hmacconn.New().(*hmacconn.Connector)
		if err := c.Configure(settings); err != nil {
			panic(err)
		}
		return c
	}
}

var kit = connectortest.Kit{Name: hmacconn.Name, New: configured(fixtureSettings()), Source: "acme-hmac", Secret: testSecret}

func TestGolden(t *testing.T) { kit.Golden(t) }

func TestKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"alert.triggered":    event.KindUnnormalized,
		"deploy.completed":   event.KindDeploymentFinished,
		"package.published":  event.KindArtifactPublished,
		"pipeline.completed": event.KindBuildFinished,
		"release.created":    event.KindReleasePublished,
		"repo.push":          event.KindCodePushed,
	})
}

// TestDefaultScheme: without settings, GitHub's documented vector
// verifies, and the type comes from "type".
func TestDefaultScheme(t *testing.T) {
	t.Parallel()
	c := hmacconn.New()
	h := http.Header{}
	h.Set("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	req := &connectors.Request{Header: h, Body: []byte("Hello, World!")}
	if err := c.Verify(context.Background(), req, [][]byte{[]byte("It's a Secret to Everybody")}); err != nil {
		t.Fatalf("Verify of GitHub's documented vector: %v", err)
	}
	req.Body = []byte("Hello, World?")
	if err := c.Verify(context.Background(), req, [][]byte{[]byte("It's a Secret to Everybody")}); !errors.Is(err, connectors.ErrUnauthorized) {
		t.Fatalf("Verify of a changed body = %v", err)
	}
	signed := http.Header{}
	c.(connectors.Signer).Sign(signed, []byte("Hello, World!"), []byte("It's a Secret to Everybody"))
	if got := signed.Get("X-Hub-Signature-256"); got != h.Get("X-Hub-Signature-256") {
		t.Errorf("Sign = %q", got)
	}
}

// TestTemplateVector: Slack's documented example, as settings describe
// its scheme, verifies only at its time.
func TestTemplateVector(t *testing.T) {
	t.Parallel()
	const body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	c := configured(map[string]any{
		"header": "X-Slack-Signature", "prefix": "v0=", "timestamp_header": "X-Slack-Request-Timestamp", "signed_template": "v0:{timestamp}:{body}",
	})()
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", "1531420618")
	h.Set("X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
	secrets := [][]byte{[]byte("8f742231b10e8888abcd99yyyzzz85a5")}
	req := &connectors.Request{Header: h, Body: []byte(body), ReceivedAt: time.Unix(1531420618, 0).Add(time.Minute)}
	if err := c.Verify(context.Background(), req, secrets); err != nil {
		t.Fatalf("Verify of Slack's documented example: %v", err)
	}
	signed := http.Header{"X-Slack-Request-Timestamp": {"1531420618"}}
	c.(connectors.Signer).Sign(signed, []byte(body), secrets[0])
	if signed.Get("X-Slack-Signature") != h.Get("X-Slack-Signature") {
		t.Errorf("Sign = %q", signed.Get("X-Slack-Signature"))
	}
	req.ReceivedAt = time.Unix(1531420618, 0).Add(10 * time.Minute)
	if err := c.Verify(context.Background(), req, secrets); !errors.Is(err, connectors.ErrStale) {
		t.Fatalf("Verify ten minutes later = %v, want ErrStale", err)
	}
}

// mac computes a signature independently of the connector.
func mac(newHash func() hash.Hash, encoding, prefix string, secret, msg []byte) string {
	m := hmac.New(newHash, secret)
	m.Write(msg)
	if encoding == "base64" {
		return prefix + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	return prefix + hex.EncodeToString(m.Sum(nil))
}

// TestSchemes: every algorithm, encoding and prefix verifies a signature
// computed here, and refuses those of the other schemes.
func TestSchemes(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"a.b"}`)
	hashes := map[string]func() hash.Hash{"sha256": sha256.New, "sha512": sha512.New, "sha1": sha1.New}
	type scheme struct{ alg, enc, prefix string }
	var all []scheme
	for _, alg := range []string{"sha256", "sha512", "sha1"} {
		for _, enc := range []string{"hex", "base64"} {
			for _, prefix := range []string{"", "sha256=", "v1,"} {
				all = append(all, scheme{alg, enc, prefix})
			}
		}
	}
	for _, s := range all {
		t.Run(s.alg+"-"+s.enc+"-"+s.prefix, func(t *testing.T) {
			t.Parallel()
			settings := map[string]any{"header": "X-Signature", "algorithm": s.alg, "encoding": s.enc, "prefix": s.prefix}
			if s.alg == "sha1" {
				settings["allow_sha1"] = true
			}
			c := configured(settings)()
			for _, other := range all {
				h := http.Header{}
				h.Set("X-Signature", mac(hashes[other.alg], other.enc, other.prefix, testSecret, body))
				err := c.Verify(context.Background(), &connectors.Request{Header: h, Body: body}, [][]byte{testSecret})
				// A bare signature matches a prefixed scheme's only when
				// it is the same bytes, which no two schemes here share.
				if want := other == s; (err == nil) != want {
					t.Errorf("signature of %+v: Verify = %v, want accepted %v", other, err, want)
				}
			}
			h := http.Header{}
			c.(connectors.Signer).Sign(h, body, testSecret)
			if got, want := h.Get("X-Signature"), mac(hashes[s.alg], s.enc, s.prefix, testSecret, body); got != want {
				t.Errorf("Sign = %q, want %q", got, want)
			}
		})
	}
}

// TestSHA1 is refused unless allowed.
func TestSHA1(t *testing.T) {
	t.Parallel()
	for _, settings := range []map[string]any{
		{"header": "X-Signature", "algorithm": "sha1"},
		{"header": "X-Signature", "algorithm": "sha1", "allow_sha1": false},
	} {
		err := hmacconn.New().(connectors.Configurable).Configure(settings)
		if err == nil || !strings.Contains(err.Error(), "settings.algorithm: sha1 is weak and refused unless settings.allow_sha1 is true") {
			t.Errorf("Configure(%v) = %v", settings, err)
		}
	}
	c := configured(map[string]any{"header": "X-Hub-Signature", "algorithm": "sha1", "allow_sha1": true, "prefix": "sha1="})()
	h := http.Header{}
	h.Set("X-Hub-Signature", mac(sha1.New, "hex", "sha1=", testSecret, []byte("{}")))
	if err := c.Verify(context.Background(), &connectors.Request{Header: h, Body: []byte("{}")}, [][]byte{testSecret}); err != nil {
		t.Fatalf("Verify with allow_sha1: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	resign := func(r *connectors.Request) {
		r.Header.Del("X-Webhook-Signature")
		kit.New().(connectors.Signer).Sign(r.Header, r.Body, testSecret)
	}
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "wrong secret", Fixture: "repo.push", Secrets: [][]byte{[]byte("another secret")}, Want: connectors.ErrUnauthorized, Says: "X-Webhook-Signature does not match the source's secret"},
		{Name: "no secret", Fixture: "repo.push", Secrets: [][]byte{}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "empty secret", Fixture: "repo.push", Secrets: [][]byte{{}}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "no signature", Fixture: "repo.push", Change: func(r *connectors.Request) { r.Header.Del("X-Webhook-Signature") }, Want: connectors.ErrUnauthorized, Says: "the X-Webhook-Signature header is missing"},
		{Name: "empty signature", Fixture: "repo.push", Change: func(r *connectors.Request) { r.Header.Set("X-Webhook-Signature", "sha256=") }, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "no prefix", Fixture: "repo.push", Change: func(r *connectors.Request) {
			r.Header.Set("X-Webhook-Signature", strings.TrimPrefix(r.Header.Get("X-Webhook-Signature"), "sha256="))
		}, Want: connectors.ErrUnauthorized, Says: `X-Webhook-Signature must start with "sha256="`},
		{Name: "truncated signature", Fixture: "repo.push", Change: func(r *connectors.Request) {
			r.Header.Set("X-Webhook-Signature", r.Header.Get("X-Webhook-Signature")[:40])
		}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "tampered body", Fixture: "repo.push", Change: func(r *connectors.Request) {
			r.Body = []byte(strings.Replace(string(r.Body), `"trunk"`, `"release"`, 1))
		}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "no timestamp", Fixture: "repo.push", Change: func(r *connectors.Request) { r.Header.Del("X-Webhook-Timestamp") }, Want: connectors.ErrUnauthorized, Says: "the X-Webhook-Timestamp header is missing"},
		{Name: "timestamp not seconds", Fixture: "repo.push", Change: func(r *connectors.Request) { r.Header.Set("X-Webhook-Timestamp", "1767323044000x") }, Want: connectors.ErrUnauthorized, Says: "whole seconds since 1970"},
		{Name: "another timestamp", Fixture: "repo.push", Change: func(r *connectors.Request) { r.Header.Set("X-Webhook-Timestamp", "1767323045") }, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "stale", Fixture: "repo.push", Change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(5 * time.Minute) }, Want: connectors.ErrStale, Says: "X-Webhook-Timestamp is 5m1s old, more than the 5m0s allowed"},
		{Name: "future", Fixture: "repo.push", Change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(-5*time.Minute - 2*time.Second) }, Want: connectors.ErrStale, Says: "X-Webhook-Timestamp is 5m1s in the future"},
		{Name: "far future", Fixture: "repo.push", Change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(-time.Hour) }, Want: connectors.ErrStale, Says: "check the sender's clock"},
		{Name: "bad event type", Fixture: "repo.push", Change: func(r *connectors.Request) {
			r.Body = []byte(strings.Replace(string(r.Body), `"repo.push"`, `"repo push"`, 1))
			resign(r)
		}, Want: connectors.ErrMalformed, Says: "the payload's event type may hold only"},
		{Name: "not JSON", Fixture: "repo.push", Change: func(r *connectors.Request) {
			r.Body = []byte("event=repo.push")
			resign(r)
		}, Want: connectors.ErrMalformed, Says: "not a JSON document"},
		{Name: "form", Fixture: "repo.push", Change: func(r *connectors.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, Want: connectors.ErrUnsupportedMediaType, Says: `"application/x-www-form-urlencoded"`},
	})
	strict := connectortest.Kit{Name: hmacconn.Name, Source: kit.Source, Secret: testSecret, New: configured(func() map[string]any {
		s := fixtureSettings()
		s["tolerance"] = "30s"
		return s
	}())}
	strict.Refusals(t, []connectortest.Refusal{
		{Name: "stale under 30s", Fixture: "pipeline.completed", Change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(31 * time.Second) }, Want: connectors.ErrStale, Says: "more than the 30s allowed"},
		{Name: "future under 30s", Fixture: "pipeline.completed", Change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(-31 * time.Second) }, Want: connectors.ErrStale, Says: "in the future"},
	})
}

// TestVerifyAccepts: rotation, tolerance edges, upper-case hex and
// templates with the delivery id.
func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(hmacconn.Name, "repo.push")
	if err != nil {
		t.Fatal(err)
	}
	ts := f.Header.Get("X-Webhook-Timestamp")
	withID := func() map[string]any {
		s := fixtureSettings()
		s["delivery_id_header"] = "X-Webhook-Id"
		s["signed_template"] = "{id}.{timestamp}.{body}"
		return s
	}
	tests := []struct {
		name     string
		settings map[string]any
		secrets  [][]byte
		change   func(r *connectors.Request)
	}{
		{name: "rotation: the second secret", secrets: [][]byte{[]byte("old secret"), testSecret}},
		{name: "upper-case hex", secrets: [][]byte{testSecret}, change: func(r *connectors.Request) {
			r.Header.Set("X-Webhook-Signature", "sha256="+strings.ToUpper(strings.TrimPrefix(r.Header.Get("X-Webhook-Signature"), "sha256=")))
		}},
		{name: "5 minutes old", secrets: [][]byte{testSecret}, change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(5*time.Minute - time.Second) }},
		{name: "half an hour old under 1h", settings: func() map[string]any { s := fixtureSettings(); s["tolerance"] = "1h"; return s }(), secrets: [][]byte{testSecret},
			change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(30 * time.Minute) }},
		{name: "id signed", settings: withID(), secrets: [][]byte{testSecret}, change: func(r *connectors.Request) {
			r.Header.Set("X-Webhook-Id", "d-81f2")
			r.Header.Set("X-Webhook-Signature", mac(sha256.New, "hex", "sha256=", testSecret, []byte("d-81f2."+ts+"."+string(r.Body))))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := kit.Request(t, f)
			if tt.change != nil {
				tt.change(req)
			}
			c := kit.New()
			if tt.settings != nil {
				c = configured(tt.settings)()
			}
			if err := c.Verify(context.Background(), req, tt.secrets); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if _, err := c.Parse(req); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
	// The id is signed: another id, or none, is refused.
	c := configured(withID())()
	req := kit.Request(t, f)
	req.Header.Set("X-Webhook-Id", "d-81f2")
	req.Header.Set("X-Webhook-Signature", mac(sha256.New, "hex", "sha256=", testSecret, []byte("d-81f2."+ts+"."+string(req.Body))))
	req.Header.Set("X-Webhook-Id", "d-81f3")
	if err := c.Verify(context.Background(), req, [][]byte{testSecret}); !errors.Is(err, connectors.ErrUnauthorized) {
		t.Errorf("Verify with another id = %v", err)
	}
	req.Header.Del("X-Webhook-Id")
	if err := c.Verify(context.Background(), req, [][]byte{testSecret}); err == nil || !strings.Contains(err.Error(), "the X-Webhook-Id header is missing; it is signed") {
		t.Errorf("Verify without the id = %v", err)
	}
}

// TestDeliveryIDs: without a delivery id header, the same body gives the
// same id and another body another; with one, the header is the id.
func TestDeliveryIDs(t *testing.T) {
	t.Parallel()
	c := hmacconn.New()
	parse := func(c connectors.Connector, h http.Header, body string) (*event.Event, error) {
		res, err := c.Parse(&connectors.Request{Header: h, Body: []byte(body)})
		if err != nil {
			return nil, err
		}
		return res.Event, nil
	}
	a, _ := parse(c, http.Header{}, `{"type":"a","n":1}`)
	again, _ := parse(c, http.Header{}, `{"type":"a","n":1}`)
	other, _ := parse(c, http.Header{}, `{"type":"a","n":2}`)
	spaced, _ := parse(c, http.Header{}, `{"type":"a", "n":1}`)
	if a.ID != again.ID || a.ID == other.ID || a.ID == spaced.ID {
		t.Errorf("ids: %s, again %s, other %s, spaced %s", a.ID, again.ID, other.ID, spaced.ID)
	}
	if a.ID != connectors.ContentHash([]byte(`{"type":"a","n":1}`)) || a.IDFrom != connectors.IDFromContentHash {
		t.Errorf("id %s from %q, want the content hash", a.ID, a.IDFrom)
	}
	c = configured(map[string]any{"delivery_id_header": "x-request-uuid"})()
	ev, err := parse(c, http.Header{"X-Request-Uuid": {"72d3162e-cc78-11e3-81ab-4c9367dc0958"}}, `{}`)
	if err != nil || ev.ID != "72d3162e-cc78-11e3-81ab-4c9367dc0958" || ev.IDFrom != "" {
		t.Errorf("Parse with the id header = %+v, %v", ev, err)
	}
	for _, h := range []http.Header{{}, {"X-Request-Uuid": {"a/b"}}} {
		if _, err := parse(c, h, `{}`); !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "the X-Request-Uuid header") {
			t.Errorf("Parse with %v = %v", h, err)
		}
	}
}

// TestEventTypeHeader: the type from a header, "unknown" without it.
func TestEventTypeHeader(t *testing.T) {
	t.Parallel()
	c := configured(map[string]any{"event_type_header": "X-Event", "kinds": map[string]any{"job:done": "build.finished"}})()
	for header, want := range map[string]string{"job:done": "job:done", "": "unknown"} {
		res, err := c.Parse(&connectors.Request{Header: http.Header{"X-Event": {header}}, Body: []byte(`{"type":"ignored"}`)})
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if res.Event.Type != want {
			t.Errorf("X-Event %q: type %q, want %q", header, res.Event.Type, want)
		}
	}
	_, err := c.Parse(&connectors.Request{Header: http.Header{"X-Event": {"job done"}}, Body: []byte(`{}`)})
	if !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "the X-Event header may hold only") {
		t.Errorf("Parse with a bad type = %v", err)
	}
}

func TestConfigure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		settings map[string]any
		want     string // "" when valid
	}{
		{name: "none", settings: nil},
		{name: "fixtures", settings: fixtureSettings()},
		{name: "header only", settings: map[string]any{"header": "x-signature"}},
		{name: "kinds without a scheme", settings: map[string]any{"kinds": map[string]any{"a": "other"}}},
		{name: "algorithm without header", settings: map[string]any{"algorithm": "sha512"}, want: "settings.algorithm: requires settings.header: without it the scheme is GitHub's (X-Hub-Signature-256: sha256=<hex HMAC-SHA256>)"},
		{name: "prefix without header", settings: map[string]any{"prefix": ""}, want: "settings.prefix: requires settings.header"},
		{name: "timestamp without header", settings: map[string]any{"timestamp_header": "X-Time"}, want: "settings.timestamp_header: requires settings.header"},
		{name: "bad header", settings: map[string]any{"header": "X Signature"}, want: `settings.header: "X Signature" is not a header name`},
		{name: "content type header", settings: map[string]any{"header": "content-type"}, want: "settings.header: Content-Type is not a header"},
		{name: "unknown algorithm", settings: map[string]any{"header": "X-S", "algorithm": "md5"}, want: `settings.algorithm: "md5" is not a digest`},
		{name: "unknown encoding", settings: map[string]any{"header": "X-S", "encoding": "base32"}, want: `settings.encoding: "base32" is not an encoding`},
		{name: "long prefix", settings: map[string]any{"header": "X-S", "prefix": strings.Repeat("p", 33)}, want: "settings.prefix: longer than 32"},
		{name: "tolerance without timestamp", settings: map[string]any{"header": "X-S", "tolerance": "1m"}, want: "settings.tolerance: applies only with settings.timestamp_header"},
		{name: "tolerance zero", settings: map[string]any{"header": "X-S", "timestamp_header": "X-T", "tolerance": "0s"}, want: "settings.tolerance: 0s is outside 1s to 1h0m0s"},
		{name: "tolerance bad", settings: map[string]any{"header": "X-S", "timestamp_header": "X-T", "tolerance": "1 minute"}, want: "settings.tolerance: cannot read the duration"},
		{name: "template", settings: map[string]any{"header": "X-S", "timestamp_header": "X-T", "signed_template": "v0:{timestamp}:{body}"}},
		{name: "template without body", settings: map[string]any{"header": "X-S", "timestamp_header": "X-T", "signed_template": "{timestamp}"}, want: "settings.signed_template: the template must hold {body}"},
		{name: "template body twice", settings: map[string]any{"header": "X-S", "signed_template": "{body}{body}"}, want: "settings.signed_template: {body} appears twice"},
		{name: "template unknown placeholder", settings: map[string]any{"header": "X-S", "signed_template": "{method}.{body}"}, want: `settings.signed_template: "{method}" is not a placeholder`},
		{name: "template stray brace", settings: map[string]any{"header": "X-S", "signed_template": "{body}}"}, want: `"}" is not a placeholder`},
		{name: "template timestamp without header", settings: map[string]any{"header": "X-S", "signed_template": "{timestamp}.{body}"}, want: "settings.signed_template: {timestamp} requires settings.timestamp_header"},
		{name: "timestamp not signed", settings: map[string]any{"header": "X-S", "timestamp_header": "X-T", "signed_template": "{body}"}, want: "settings.signed_template: must hold {timestamp}"},
		{name: "id without header", settings: map[string]any{"header": "X-S", "signed_template": "{id}.{body}"}, want: "settings.signed_template: {id} requires settings.delivery_id_header"},
		{name: "id signed", settings: map[string]any{"header": "X-S", "delivery_id_header": "X-Id", "signed_template": "{id}.{body}"}},
		{name: "body template", settings: map[string]any{"header": "X-S", "signed_template": "{body}"}},
		{name: "same header twice", settings: map[string]any{"header": "X-S", "timestamp_header": "x-s"}, want: "settings.timestamp_header: X-S is already settings.header"},
		{name: "type header and path", settings: map[string]any{"event_type_header": "X-Event", "event_type": "type"}, want: "settings.event_type_header: give either event_type_header or event_type, not both"},
		{name: "bad type path", settings: map[string]any{"event_type": "a[0"}, want: "settings.event_type: the '[' at 1 has no ']'"},
		{name: "bad normalize path", settings: map[string]any{"normalize": map[string]any{"commit": "head..sha"}}, want: "settings.normalize.commit: a member name is missing at 5"},
		{name: "unknown kind", settings: map[string]any{"kinds": map[string]any{"a": "b"}}, want: `settings.kinds.a: "b" is not a kind`},
		{name: "unknown setting", settings: map[string]any{"secret": "x"}, want: "settings.secret: is not a setting of this connector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := hmacconn.New().(connectors.Configurable).Configure(tt.settings)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Configure: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Configure = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestSettingsSchema: the schema compiles, takes the fixtures' settings,
// and refuses a partial scheme without its header.
func TestSettingsSchema(t *testing.T) {
	t.Parallel()
	sch, err := schemacheck.Compile("reflex:connectors/hmac/settings.json", hmacconn.New().(connectors.Configurable).SettingsSchema())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		doc  string
		want string // "" when valid
	}{
		{doc: `{}`},
		{doc: `{"kinds":{"a":"other"},"normalize":{"commit":"after"},"event_type":"event"}`},
		{doc: `{"header":"X-S","algorithm":"sha512","encoding":"base64","prefix":"","timestamp_header":"X-T","tolerance":"1m","signed_template":"{timestamp}.{body}","delivery_id_header":"X-Id","event_type_header":"X-E"}`},
		{doc: `{"algorithm":"sha512"}`, want: "header"},
		{doc: `{"header":"X-S","tolerance":"1m"}`, want: "timestamp_header"},
		{doc: `{"header":"X-S","algorithm":"md5"}`, want: "settings.algorithm"},
		{doc: `{"header":"X S"}`, want: "settings.header"},
		{doc: `{"normalize":{"sha":"x"}}`, want: "settings.normalize.sha: is not a field"},
		{doc: `{"kinds":{"a":"b"}}`, want: "settings.kinds.a"},
	}
	fixtureDoc, err := json.Marshal(fixtureSettings())
	if err != nil {
		t.Fatal(err)
	}
	tests = append(tests, struct {
		doc  string
		want string
	}{doc: string(fixtureDoc)})
	for _, tt := range tests {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.doc))
		if err != nil {
			t.Fatal(err)
		}
		err = schemacheck.Validate(sch, "settings", inst)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.doc, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want an error containing %q", tt.doc, err, tt.want)
		}
	}
}

// TestSimulator: simulated deliveries, signed, verify and read back.
func TestSimulator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		settings map[string]any
		body     string // what Delivery should return
	}{
		{name: "type in the payload", settings: fixtureSettings(), body: `{"event":"pipeline.completed","pipeline":{"result":"passed"}}`},
		{name: "headers", settings: map[string]any{
			"header": "X-S", "encoding": "base64", "timestamp_header": "X-T", "delivery_id_header": "X-Id", "event_type_header": "X-Event",
			"signed_template": "{id}:{timestamp}:{body}", "kinds": map[string]any{"pipeline.completed": "build.finished"},
		}, body: `{"pipeline":{"result":"passed"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := configured(tt.settings)()
			sim := c.(connectors.Simulator)
			h, body := sim.Delivery("pipeline.completed", "d-1", []byte(`{"pipeline":{"result":"passed"}}`))
			if string(body) != tt.body {
				t.Errorf("Delivery body = %s, want %s", body, tt.body)
			}
			sim.Sign(h, body, testSecret)
			now := time.Now()
			if ts := h.Get("X-T"); ts != "" {
				secs, err := strconv.ParseInt(ts, 10, 64)
				if err != nil {
					t.Fatalf("timestamp %q: %v", ts, err)
				}
				now = time.Unix(secs, 0)
			}
			req := &connectors.Request{Source: "s", Header: h, Body: body, ReceivedAt: now}
			if err := c.Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			res, err := c.Parse(req)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if res.Event.Type != "pipeline.completed" || res.Event.Kind != event.KindBuildFinished {
				t.Errorf("event = %+v", res.Event)
			}
			if got := sim.EventType(h, body); got != "pipeline.completed" {
				t.Errorf("EventType = %q", got)
			}
		})
	}
	// Sign makes the id and the timestamp it signs when the headers lack
	// them, and keeps those they hold.
	c := configured(map[string]any{"header": "X-S", "timestamp_header": "X-T", "delivery_id_header": "X-Id", "signed_template": "{id}.{timestamp}.{body}"})()
	h := http.Header{}
	c.(connectors.Signer).Sign(h, []byte(`{}`), testSecret)
	if len(h.Get("X-Id")) != 32 || h.Get("X-T") == "" || h.Get("X-S") == "" {
		t.Errorf("Sign set %v", h)
	}
	h = http.Header{"X-Id": {"keep"}, "X-T": {"1767323045"}}
	c.(connectors.Signer).Sign(h, []byte(`{}`), testSecret)
	if want := mac(sha256.New, "hex", "", testSecret, []byte(`keep.1767323045.{}`)); h.Get("X-S") != want || h.Get("X-Id") != "keep" {
		t.Errorf("Sign = %v, want X-S %s", h, want)
	}
}

// TestPolicyHeaders lists the descriptive headers the settings name.
func TestPolicyHeaders(t *testing.T) {
	t.Parallel()
	c := configured(map[string]any{"header": "X-S", "timestamp_header": "x-t", "delivery_id_header": "X-Id", "event_type_header": "X-Event"})()
	if diff := cmp.Diff([]string{"X-Id", "X-Event", "X-T"}, c.(connectors.PolicyHeaderer).PolicyHeaders()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := hmacconn.New().(connectors.PolicyHeaderer).PolicyHeaders(); len(got) != 0 {
		t.Errorf("default PolicyHeaders = %v", got)
	}
}
