package standardwebhooks_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/schemes"
	"github.com/reflexops/reflex/connectors/standardwebhooks"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/schemacheck"
)

// testSecret is the example signing secret of Svix's documentation.
var testSecret = []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

// signingKey signs the v1a fixtures; otherKey is a key no source trusts.
var (
	signingKey = ed25519.NewKeyFromSeed([]byte("reflex standard webhooks test k1"))
	otherKey   = ed25519.NewKeyFromSeed([]byte("reflex standard webhooks test k2"))
)

// fixtureSettings describe the fixtures' senders: their event types'
// kinds, and where each field lies in their payloads.
func fixtureSettings() map[string]any {
	s, err := fixtures.SourceSettings(standardwebhooks.Name)
	if err != nil || s == nil {
		panic(fmt.Sprintf("the fixtures' source settings: %v", err))
	}
	return s
}

// configured returns the connector with settings, failing loudly: the
// kit's constructor takes no testing.T.
func configured(settings map[string]any) func() connectors.Connector {
	return func() connectors.Connector {
		c := standardwebhooks.New().(*standardwebhooks.Connector)
		if err := c.Configure(settings); err != nil {
			panic(err)
		}
		return c
	}
}

// kit signs v1 with the HMAC secret; kitV1a signs v1a with signingKey,
// whose public key the settings pin.
var (
	kit    = connectortest.Kit{Name: standardwebhooks.Name, New: configured(fixtureSettings()), Source: "acme-standard-webhooks", Secret: testSecret}
	kitV1a = connectortest.Kit{
		Name: standardwebhooks.Name,
		New: configured(func() map[string]any {
			s := fixtureSettings()
			s["public_keys"] = []any{schemes.PublicKeyString(otherKey.Public().(ed25519.PublicKey)), schemes.PublicKeyString(signingKey.Public().(ed25519.PublicKey))}
			return s
		}()),
		Source: "acme-standard-webhooks",
		Secret: []byte(schemes.PrivateKeyString(signingKey)),
	}
)

func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenV1a: every fixture signed with Ed25519 by a pinned key, and no
// shared secret, gives the same events.
func TestGoldenV1a(t *testing.T) {
	if os.Getenv("UPDATE_GOLDEN") != "" {
		t.Skip("the goldens are written by TestGolden")
	}
	kitV1a.Golden(t)
}

func TestKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"build.finished":       event.KindBuildFinished,
		"build.started":        event.KindBuildStarted,
		"deployment.succeeded": event.KindDeploymentFinished,
		"image.pushed":         event.KindArtifactPublished,
		"invoice.paid":         event.KindUnnormalized,
		"push":                 event.KindCodePushed,
	})
}

// The computed vector of providers.md §27: secret bytes 0x00…0x1f.
const (
	vecSecret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	vecID     = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
	vecTS     = "1700000000"
	vecBody   = `{"type":"example.event","data":{"id":1}}`
	vecSig    = "v1,CqFH7taUkCUKn2VjjYguHWO9g/TmSH2WUFDVIAGDqrY="
)

// TestVector verifies and reproduces the vector, independently of the
// fixtures, and reads its event.
func TestVector(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("webhook-id", vecID)
	h.Set("webhook-timestamp", vecTS)
	c := standardwebhooks.New()
	signed := h.Clone()
	c.(connectors.Signer).Sign(signed, []byte(vecBody), []byte(vecSecret))
	if got := signed.Get("webhook-signature"); got != vecSig {
		t.Fatalf("Sign = %q, want %q", got, vecSig)
	}
	h.Set("webhook-signature", vecSig)
	req := &connectors.Request{Source: "acme-standard-webhooks", Header: h, Body: []byte(vecBody), ReceivedAt: time.Unix(1700000000, 0).Add(90 * time.Second)}
	if err := c.Verify(context.Background(), req, [][]byte{[]byte(vecSecret)}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	res, err := c.Parse(req)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &event.Event{
		ID: vecID, Source: "acme-standard-webhooks", Connector: standardwebhooks.Name, Type: "example.event",
		Kind: event.KindUnnormalized, ReceivedAt: time.Date(2023, 11, 14, 22, 14, 50, 0, time.UTC),
	}
	if diff := cmp.Diff(want, res.Event); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	req.Body = []byte(strings.Replace(vecBody, `"id":1`, `"id":2`, 1))
	if err := c.Verify(context.Background(), req, [][]byte{[]byte(vecSecret)}); !errors.Is(err, connectors.ErrUnauthorized) {
		t.Fatalf("Verify of a changed body = %v", err)
	}
}

// TestDefaultNormalization: without settings no type has a kind, and the
// common paths give what they find, an image repository where a code
// repository would be included: the reason to configure a sender.
func TestDefaultNormalization(t *testing.T) {
	t.Parallel()
	received := connectortest.ReceivedAt
	base := func(id, typ string) event.Event {
		return event.Event{ID: id, Source: "acme-standard-webhooks", Connector: standardwebhooks.Name, Type: typ, Kind: event.KindUnnormalized, ReceivedAt: received}
	}
	repo := &event.Repository{Name: "acme/payments-api", URL: "https://git.acme.dev/acme/payments-api", DefaultBranch: "main"}
	want := map[string]event.Event{}
	e := base("msg_RlgLKOmxgJTeKdNnFRIBXuDL7Dx", "build.started")
	e.Repository, e.Ref, e.Branch, e.Actor = repo, "refs/heads/main", "main", "dreyes"
	want["build.started"] = e
	e = base("msg_tpYlSXpfKtHF4vUCsMehGAkWvj7", "build.finished")
	e.Repository, e.Ref, e.Branch, e.Actor = repo, "refs/heads/main", "main", "dreyes"
	want["build.finished"] = e
	e = base("msg_SQedUStPKR0CsTy4Qwb8DwkNhFd", "deployment.succeeded")
	e.Repository, e.Actor = repo, "release-bot"
	want["deployment.succeeded"] = e
	e = base("msg_FAc9QeWJKY40uvSwMFLZDe1f8rE", "image.pushed")
	e.Repository, e.Tag, e.Actor = &event.Repository{Name: "registry.acme.dev/payments/api"}, "2.14.0", "ci-bot"
	want["image.pushed"] = e
	want["invoice.paid"] = base("msg_u8jzPde0IgxLd6GncfBAepfJBd0", "invoice.paid")
	e = base("msg_Kh8oOOL8dKLzdocJ2isAjIhKtJ0", "push")
	e.Repository, e.Ref, e.Branch, e.Actor = repo, "refs/heads/main", "main", "dreyes"
	e.Commit, e.Before = "e9d71f5ee7c92d6dc9e92ffdad17b8bd49418f98", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"
	want["push"] = e

	plain := connectortest.Kit{Name: standardwebhooks.Name, New: standardwebhooks.New, Source: "acme-standard-webhooks", Secret: testSecret}
	c := standardwebhooks.New()
	for _, f := range plain.Fixtures(t) {
		w, ok := want[f.Name]
		if !ok {
			t.Errorf("fixture %s has no expected default event", f.Name)
			continue
		}
		req := plain.Request(t, f)
		if err := c.Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
			t.Fatalf("%s: Verify: %v", f.Name, err)
		}
		res, err := c.Parse(req)
		if err != nil {
			t.Fatalf("%s: Parse: %v", f.Name, err)
		}
		if diff := cmp.Diff(&w, res.Event); diff != "" {
			t.Errorf("%s (-want +got):\n%s", f.Name, diff)
		}
	}
}

// sign returns a webhook-signature by secret of the request's id,
// timestamp and body.
func sign(req *connectors.Request, secret []byte) string {
	h := req.Header.Clone()
	standardwebhooks.New().(connectors.Signer).Sign(h, req.Body, secret)
	return h.Get("webhook-signature")
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	other := []byte("whsec_b3RoZXIgc2VjcmV0IG9mIDI0IGJ5dGVzISE=")
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "wrong secret", Fixture: "push", Secrets: [][]byte{other}, Want: connectors.ErrUnauthorized, Says: "no signature by the source's secrets"},
		{Name: "no secret", Fixture: "push", Secrets: [][]byte{}, Want: connectors.ErrUnauthorized, Says: "no signature"},
		{Name: "empty secret", Fixture: "push", Secrets: [][]byte{{}}, Want: connectors.ErrUnauthorized, Says: "no signature"},
		{Name: "no webhook-id", Fixture: "push", Change: func(r *connectors.Request) { r.Header.Del("webhook-id") }, Want: connectors.ErrUnauthorized, Says: "webhook-id header is missing"},
		{Name: "no webhook-timestamp", Fixture: "push", Change: func(r *connectors.Request) { r.Header.Del("webhook-timestamp") }, Want: connectors.ErrUnauthorized, Says: "webhook-timestamp header is missing"},
		{Name: "no webhook-signature", Fixture: "push", Change: func(r *connectors.Request) { r.Header.Del("webhook-signature") }, Want: connectors.ErrUnauthorized, Says: "webhook-signature header is missing"},
		{Name: "empty signature", Fixture: "push", Change: func(r *connectors.Request) { r.Header.Set("webhook-signature", "v1,") }, Want: connectors.ErrUnauthorized, Says: "no signature"},
		{Name: "unknown version only", Fixture: "push", Change: func(r *connectors.Request) {
			r.Header.Set("webhook-signature", strings.Replace(r.Header.Get("webhook-signature"), "v1,", "v2,", 1))
		}, Want: connectors.ErrUnauthorized, Says: "no signature"},
		{Name: "timestamp not a number", Fixture: "push", Change: func(r *connectors.Request) { r.Header.Set("webhook-timestamp", "2026-01-02T03:04:05Z") }, Want: connectors.ErrUnauthorized, Says: "whole seconds"},
		{Name: "stale", Fixture: "push", Change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(5*time.Minute + time.Second) }, Want: connectors.ErrStale, Says: "old, more than the 5m0s allowed"},
		{Name: "future", Fixture: "push", Change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(-6 * time.Minute) }, Want: connectors.ErrStale, Says: "in the future"},
		{Name: "replayed with a new timestamp", Fixture: "push", Change: func(r *connectors.Request) { r.Header.Set("webhook-timestamp", "1767323046") }, Want: connectors.ErrUnauthorized, Says: "no signature"},
		{Name: "another id", Fixture: "push", Change: func(r *connectors.Request) { r.Header.Set("webhook-id", "msg_other") }, Want: connectors.ErrUnauthorized, Says: "no signature"},
		{Name: "tampered body", Fixture: "push", Change: func(r *connectors.Request) {
			r.Body = []byte(strings.Replace(string(r.Body), "refs/heads/main", "refs/heads/prod", 1))
		}, Want: connectors.ErrUnauthorized, Says: "no signature"},
		{Name: "v1a without a pinned key", Fixture: "push", Change: func(r *connectors.Request) {
			r.Header.Set("webhook-signature", sign(r, []byte(schemes.PrivateKeyString(signingKey))))
		}, Want: connectors.ErrUnauthorized, Says: "no signature"},
		{Name: "bad webhook-id", Fixture: "push", Change: func(r *connectors.Request) {
			r.Header.Set("webhook-id", "msg/../x")
			r.Header.Set("webhook-signature", sign(r, testSecret))
		}, Want: connectors.ErrMalformed, Says: "the webhook-id header may hold only"},
		{Name: "bad event type", Fixture: "push", Change: func(r *connectors.Request) {
			r.Body = []byte(strings.Replace(string(r.Body), `"type":"push"`, `"type":"push event"`, 1))
			r.Header.Set("webhook-signature", sign(r, testSecret))
		}, Want: connectors.ErrMalformed, Says: "the payload's event type may hold only"},
		{Name: "not JSON", Fixture: "push", Change: func(r *connectors.Request) {
			r.Body = r.Body[:len(r.Body)-2]
			r.Header.Set("webhook-signature", sign(r, testSecret))
		}, Want: connectors.ErrMalformed, Says: "not a JSON document"},
		{Name: "xml", Fixture: "push", Change: func(r *connectors.Request) { r.Header.Set("Content-Type", "application/xml") }, Want: connectors.ErrUnsupportedMediaType, Says: `"application/xml"`},
	})
	kitV1a.Refusals(t, []connectortest.Refusal{
		{Name: "v1a by another key", Fixture: "image.pushed", Change: func(r *connectors.Request) {
			r.Header.Set("webhook-signature", sign(r, []byte(schemes.PrivateKeyString(ed25519.NewKeyFromSeed(make([]byte, 32))))))
		}, Want: connectors.ErrUnauthorized, Says: "no signature by the source's secrets or public keys"},
		{Name: "v1a signature under v1", Fixture: "image.pushed", Change: func(r *connectors.Request) {
			r.Header.Set("webhook-signature", strings.Replace(r.Header.Get("webhook-signature"), "v1a,", "v1,", 1))
		}, Want: connectors.ErrUnauthorized, Says: "no signature"},
		{Name: "v1a tampered body", Fixture: "image.pushed", Change: func(r *connectors.Request) {
			r.Body = []byte(strings.Replace(string(r.Body), "2.14.0", "2.14.1", 1))
		}, Want: connectors.ErrUnauthorized, Says: "no signature"},
	})
	strict := connectortest.Kit{Name: standardwebhooks.Name, New: configured(map[string]any{"tolerance": "30s"}), Source: kit.Source, Secret: testSecret}
	strict.Refusals(t, []connectortest.Refusal{
		{Name: "stale under a 30s tolerance", Fixture: "push", Change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(31 * time.Second) }, Want: connectors.ErrStale, Says: "more than the 30s allowed"},
		{Name: "future under a 30s tolerance", Fixture: "push", Change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(-31 * time.Second) }, Want: connectors.ErrStale, Says: "in the future"},
	})
}

// TestVerifyAccepts: several signatures of which one is valid, rotation,
// the Svix header names, and the edges of a tolerance.
func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(standardwebhooks.Name, "push")
	if err != nil {
		t.Fatal(err)
	}
	old := []byte("whsec_b2xkIHNlY3JldCBvZiB0d2VudHktZm91ciE=")
	tests := []struct {
		name     string
		settings map[string]any
		secrets  [][]byte
		change   func(r *connectors.Request)
	}{
		{name: "one of several signatures", secrets: [][]byte{testSecret}, change: func(r *connectors.Request) {
			r.Header.Set("webhook-signature", sign(r, old)+" v1,garbage v2,abc "+sign(r, testSecret)+" v1a,AAAA")
		}},
		{name: "rotation: the second secret", secrets: [][]byte{old, testSecret}},
		{name: "rotation: the sender signs with both", secrets: [][]byte{old}, change: func(r *connectors.Request) {
			r.Header.Set("webhook-signature", sign(r, testSecret)+" "+sign(r, old))
		}},
		{name: "svix headers", secrets: [][]byte{testSecret}, change: func(r *connectors.Request) {
			for _, n := range []string{"id", "timestamp", "signature"} {
				r.Header.Set("svix-"+n, r.Header.Get("webhook-"+n))
				r.Header.Del("webhook-" + n)
			}
		}},
		{name: "v1a beside v1 by an unknown secret", settings: map[string]any{"public_keys": []any{schemes.PublicKeyString(signingKey.Public().(ed25519.PublicKey))}}, secrets: [][]byte{old}, change: func(r *connectors.Request) {
			r.Header.Set("webhook-signature", sign(r, testSecret)+" "+sign(r, []byte(schemes.PrivateKeyString(signingKey))))
		}},
		{name: "v1a and no secret", settings: map[string]any{"public_keys": []any{schemes.PublicKeyString(signingKey.Public().(ed25519.PublicKey))}}, change: func(r *connectors.Request) {
			r.Header.Set("webhook-signature", sign(r, []byte(schemes.PrivateKeyString(signingKey))))
		}},
		{name: "5 minutes old", secrets: [][]byte{testSecret}, change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(5 * time.Minute) }},
		{name: "5 minutes ahead", secrets: [][]byte{testSecret}, change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(-5 * time.Minute) }},
		{name: "half an hour old under a 1h tolerance", settings: map[string]any{"tolerance": "1h"}, secrets: [][]byte{testSecret}, change: func(r *connectors.Request) { r.ReceivedAt = r.ReceivedAt.Add(30 * time.Minute) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := kit.Request(t, f)
			if tt.change != nil {
				tt.change(req)
			}
			c := configured(tt.settings)()
			if err := c.Verify(context.Background(), req, tt.secrets); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if _, err := c.Parse(req); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	t.Parallel()
	pub := schemes.PublicKeyString(signingKey.Public().(ed25519.PublicKey))
	tests := []struct {
		name     string
		settings map[string]any
		want     string // "" when valid
		keys     bool
	}{
		{name: "none", settings: nil},
		{name: "fixtures", settings: fixtureSettings()},
		{name: "public keys", settings: map[string]any{"public_keys": []any{pub, strings.TrimPrefix(pub, "whpk_")}}, keys: true},
		{name: "bad second key", settings: map[string]any{"public_keys": []any{pub, "whpk_AAAA"}}, want: "settings.public_keys[1]: not a \"whpk_\" Ed25519 public key: an Ed25519 public key has 32 bytes, this one 3"},
		{name: "key not base64", settings: map[string]any{"public_keys": []any{"whpk_!!"}}, want: "settings.public_keys[0]: not a \"whpk_\" Ed25519 public key: not base64"},
		{name: "secret as a key", settings: map[string]any{"public_keys": []any{string(testSecret)}}, want: "settings.public_keys[0]: this is a secret, not a public key"},
		{name: "private key as a key", settings: map[string]any{"public_keys": []any{schemes.PrivateKeyString(signingKey)}}, want: "settings.public_keys[0]: this is a secret"},
		{name: "too many keys", settings: map[string]any{"public_keys": []any{pub, pub, pub, pub, pub, pub, pub, pub, pub}}, want: "settings.public_keys: at most 8 keys"},
		{name: "tolerance", settings: map[string]any{"tolerance": "90s"}},
		{name: "tolerance zero", settings: map[string]any{"tolerance": "0s"}, want: "settings.tolerance: 0s is outside 1s to 1h0m0s"},
		{name: "tolerance not a duration", settings: map[string]any{"tolerance": "5 minutes"}, want: "settings.tolerance: cannot read the duration"},
		{name: "tolerance a number", settings: map[string]any{"tolerance": 300}, want: "settings.tolerance: a duration is a string"},
		{name: "event type path", settings: map[string]any{"event_type": "meta.event|type"}},
		{name: "bad event type path", settings: map[string]any{"event_type": "meta..event"}, want: "settings.event_type: a member name is missing at 5"},
		{name: "bad commit path", settings: map[string]any{"normalize": map[string]any{"commit": "data.commits[-1].id"}}, want: "settings.normalize.commit: the index at 12 must be a number"},
		{name: "unknown field", settings: map[string]any{"normalize": map[string]any{"sha": "data.sha"}}, want: "settings.normalize.sha: is not a field"},
		{name: "path not a string", settings: map[string]any{"normalize": map[string]any{"commit": 1}}, want: "settings.normalize: got number, want string"},
		{name: "unknown kind", settings: map[string]any{"kinds": map[string]any{"push": "pushed"}}, want: `settings.kinds.push: "pushed" is not a kind`},
		{name: "unknown setting", settings: map[string]any{"secret": "x"}, want: "settings.secret: is not a setting of this connector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := standardwebhooks.New().(*standardwebhooks.Connector)
			err := c.Configure(tt.settings)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Configure: %v", err)
				}
				if c.HasKeys() != tt.keys {
					t.Errorf("HasKeys = %v, want %v", c.HasKeys(), tt.keys)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Configure = %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), string(testSecret)) || strings.Contains(err.Error(), "whsk_") {
				t.Errorf("the error echoes a secret: %v", err)
			}
		})
	}
}

// TestSettingsSchema: the schema compiles, takes the fixtures' settings
// and refuses what Configure would.
func TestSettingsSchema(t *testing.T) {
	t.Parallel()
	c := standardwebhooks.New().(connectors.Configurable)
	sch, err := schemacheck.Compile("reflex:connectors/standard-webhooks/settings.json", c.SettingsSchema())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		doc  string
		want string // "" when valid
	}{
		{doc: `{}`},
		{doc: `{"tolerance":"10m","public_keys":["whpk_x"],"event_type":"type","normalize":{"commit":"data.after"},"kinds":{"push":"code.pushed"}}`},
		{doc: `{"tolerance":"soon"}`, want: "settings.tolerance"},
		{doc: `{"normalize":{"sha":"x"}}`, want: "settings.normalize.sha: is not a field"},
		{doc: `{"normalize":{"commit":""}}`, want: "settings.normalize.commit"},
		{doc: `{"kinds":{"push":"pushed"}}`, want: "settings.kinds.push"},
		{doc: `{"kinds":{"a b":"code.pushed"}}`, want: "'a b' does not match pattern"},
		{doc: `{"secret":"x"}`, want: "settings.secret: is not a field"},
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

// TestSimulator: a simulated delivery, signed, verifies and reads back as
// its type and id.
func TestSimulator(t *testing.T) {
	t.Parallel()
	conn := configured(fixtureSettings())()
	c := conn.(connectors.Simulator)
	h, body := c.Delivery("build.finished", "msg_sim1", []byte(`{"data":{"build":{"status":"passed"}}}`))
	if got, want := string(body), `{"data":{"build":{"status":"passed"}},"type":"build.finished"}`; got != want {
		t.Errorf("Delivery body = %s, want %s", got, want)
	}
	c.Sign(h, body, testSecret)
	ts := h.Get("webhook-timestamp")
	if h.Get("webhook-id") != "msg_sim1" || ts == "" || !strings.HasPrefix(h.Get("webhook-signature"), "v1,") {
		t.Fatalf("signed headers = %v", h)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("webhook-timestamp %q: %v", ts, err)
	}
	req := &connectors.Request{Source: "s", Header: h, Body: body, ReceivedAt: time.Unix(secs, 0)}
	if err := conn.Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	res, err := conn.Parse(req)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	ev := res.Event
	if ev.ID != "msg_sim1" || ev.Type != "build.finished" || ev.Kind != event.KindBuildFinished || ev.Build.Outcome != event.OutcomeSuccess {
		t.Errorf("event = %+v", ev)
	}
	if got := c.EventType(h, body); got != "build.finished" {
		t.Errorf("EventType = %q", got)
	}
	// A recorded delivery is sent again as it was.
	f, err := fixtures.Get(standardwebhooks.Name, "image.pushed")
	if err != nil {
		t.Fatal(err)
	}
	typ := c.EventType(f.Header, f.Body)
	if _, again := c.Delivery(typ, "msg_x", f.Body); typ != "image.pushed" || string(again) != string(f.Body) {
		t.Errorf("EventType = %q; Delivery changed the recorded body", typ)
	}
	// Without an id in the headers, Sign makes one.
	h = http.Header{}
	c.Sign(h, body, testSecret)
	if id := h.Get("webhook-id"); !strings.HasPrefix(id, "msg_") || connectors.CheckDeliveryID("id", id) != nil {
		t.Errorf("Sign made the id %q", id)
	}
}

// TestParse covers what Parse accepts beside the fixtures.
func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ct, body string
		typ            string
		err            error
	}{
		{name: "no type", ct: "application/json", body: `{"data":{}}`, typ: "unknown"},
		{name: "type elsewhere", ct: "application/json", body: `{"event":"x"}`, typ: "unknown"},
		{name: "no content type", body: `{"type":"a.b"}`, typ: "a.b"},
		{name: "json with charset", ct: "application/json; charset=utf-8", body: `{"type":"a.b"}`, typ: "a.b"},
		{name: "cloudevents json", ct: "application/cloudevents+json", body: `{"type":"a.b"}`, typ: "a.b"},
		{name: "form", ct: "application/x-www-form-urlencoded", body: `type=a`, err: connectors.ErrUnsupportedMediaType},
		{name: "bad content type", ct: "application/", body: `{}`, err: connectors.ErrUnsupportedMediaType},
		{name: "empty body", ct: "application/json", body: ``, err: connectors.ErrMalformed},
		{name: "type too long", ct: "application/json", body: `{"type":"` + strings.Repeat("a", 129) + `"}`, err: connectors.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			h.Set("Content-Type", tt.ct)
			h.Set("webhook-id", "msg_1")
			res, err := standardwebhooks.New().Parse(&connectors.Request{Header: h, Body: []byte(tt.body)})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Parse = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if res.Event.Type != tt.typ || res.Event.Kind != event.KindUnnormalized {
				t.Errorf("type %q kind %q, want %q unnormalized", res.Event.Type, res.Event.Kind, tt.typ)
			}
		})
	}
}
