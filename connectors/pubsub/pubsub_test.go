package pubsub_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/pubsub"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// The settings the fixtures are verified with (fixtures/pubsub/source.settings.json).
const (
	audience       = "https://reflex.example.com/hooks/acme-pubsub"
	serviceAccount = "reflex-push@acme-prod.iam.gserviceaccount.com"
)

func TestGolden(t *testing.T) { kit.Golden(t) }

func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"cloud-build.cancelled": event.KindBuildFinished,
		"cloud-build.failure":   event.KindBuildFinished,
		"cloud-build.queued":    event.KindBuildQueued,
		"cloud-build.success":   event.KindBuildFinished,
		"cloud-build.timeout":   event.KindBuildFinished,
		"cloud-build.working":   event.KindBuildStarted,
		"gcr.delete":            event.KindOther,
		"gcr.delete-tag":        event.KindOther,
		"gcr.insert":            event.KindArtifactPublished,
		"gcr.insert-digest":     event.KindArtifactPublished,
		"pubsub.storage-object": event.KindUnnormalized,
	})
}

// TestGoldenOutcomes guards what the kinds do not: each finished build's
// outcome, and the type of each fixture.
func TestGoldenOutcomes(t *testing.T) {
	want := map[string]event.Outcome{
		"cloud-build.cancelled": event.OutcomeCancelled,
		"cloud-build.failure":   event.OutcomeFailure,
		"cloud-build.success":   event.OutcomeSuccess,
		"cloud-build.timeout":   event.OutcomeTimedOut,
	}
	c := kit.New()
	for _, f := range kit.Fixtures(t) {
		res, err := c.Parse(kit.Request(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if typ, _, _ := strings.Cut(f.Name, "."); res.Event.Type != typ {
			t.Errorf("%s: type = %q, want %q", f.Name, res.Event.Type, typ)
		}
		if outcome, ok := want[f.Name]; ok && (res.Event.Build == nil || res.Event.Build.Outcome != outcome) {
			t.Errorf("%s: build = %+v, want outcome %q", f.Name, res.Event.Build, outcome)
		}
		if !res.Checked {
			t.Errorf("%s: Checked is false", f.Name)
		}
	}
}

// claims returns the claims of a genuine token for the fixtures' settings,
// issued a minute before the kit's receive time.
func claims() map[string]any {
	iat := connectortest.ReceivedAt.Unix() - 60
	return map[string]any{
		"iss":            "https://accounts.google.com",
		"aud":            audience,
		"azp":            "107214563829104756321",
		"sub":            "107214563829104756321",
		"email":          serviceAccount,
		"email_verified": true,
		"iat":            iat,
		"exp":            iat + 3600,
	}
}

// token signs claims (a genuine token's, changed by edit) with key under
// the key id of the key.
func token(t testing.TB, key *rsa.PrivateKey, edit func(c map[string]any)) string {
	t.Helper()
	return signed(t, jose.RS256, key, pubsub.KeyID(&key.PublicKey), edit)
}

// signed signs claims with alg and key, naming kid.
func signed(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, edit func(c map[string]any)) string {
	t.Helper()
	c := claims()
	if edit != nil {
		edit(c)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// unsigned returns a token with alg "none".
func unsigned(kid string) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT", "kid": kid}) + "." + enc(claims()) + "."
}

// bearer returns a Change that sends tok as the bearer token.
func bearer(tok string) func(*connectors.Request) {
	return func(req *connectors.Request) { req.Header.Set("Authorization", "Bearer "+tok) }
}

// editEnvelope returns a Change that edits the delivery's envelope. The
// token does not cover the body, so the edit needs no new signature.
func editEnvelope(t *testing.T, edit func(env map[string]any)) func(*connectors.Request) {
	return func(req *connectors.Request) {
		var env map[string]any
		if err := json.Unmarshal(req.Body, &env); err != nil {
			t.Fatal(err)
		}
		edit(env)
		req.Body, _ = json.Marshal(env)
	}
}

// message returns an envelope's message.
func message(env map[string]any) map[string]any { return env["message"].(map[string]any) }

// editData returns a Change that edits the JSON document in the
// message's data.
func editData(t *testing.T, edit func(data map[string]any)) func(*connectors.Request) {
	return editEnvelope(t, func(env map[string]any) {
		m := message(env)
		raw, err := base64.StdEncoding.DecodeString(m["data"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var data map[string]any
		if err := json.Unmarshal(raw, &data); err != nil {
			t.Fatal(err)
		}
		edit(data)
		raw, _ = json.Marshal(data)
		m["data"] = base64.StdEncoding.EncodeToString(raw)
	})
}

func TestRefusals(t *testing.T) {
	key, other := rsaKey(t, testKey), rsaKey(t, otherKey)
	kid := pubsub.KeyID(&key.PublicKey)
	set := func(name, value string) func(*connectors.Request) {
		return func(req *connectors.Request) { req.Header.Set(name, value) }
	}
	claim := func(name string, value any) func(map[string]any) {
		return func(c map[string]any) {
			if value == nil {
				delete(c, name)
				return
			}
			c[name] = value
		}
	}
	at := connectortest.ReceivedAt.Unix()
	unauthorized, stale, malformed := connectors.ErrUnauthorized, connectors.ErrStale, connectors.ErrMalformed
	const build, gcr = "cloud-build.success", "gcr.insert"
	kit.Refusals(t, []connectortest.Refusal{
		// The header.
		{Name: "no Authorization", Fixture: build, Change: func(req *connectors.Request) { req.Header.Del("Authorization") }, Want: unauthorized, Says: "Authorization header is missing"},
		{Name: "Basic, not Bearer", Fixture: build, Change: set("Authorization", "Basic cmVmbGV4OnNlY3JldA=="), Want: unauthorized, Says: `not "Bearer <token>"`},
		{Name: "Bearer without a token", Fixture: build, Change: set("Authorization", "Bearer "), Want: unauthorized, Says: `not "Bearer <token>"`},
		{Name: "two Authorization headers", Fixture: build, Change: func(req *connectors.Request) { req.Header.Add("Authorization", "Bearer x") }, Want: unauthorized, Says: "sent 2 times"},
		{Name: "not a JWT", Fixture: build, Change: bearer("eyJhbGciOiJSUzI1NiJ9.e30"), Want: unauthorized, Says: "not a JWT signed with RS256"},
		{Name: "overlong token", Fixture: build, Change: bearer(strings.Repeat("a", 9000)), Want: unauthorized, Says: "longer than"},
		// The algorithm and the key.
		{Name: "alg none", Fixture: build, Change: bearer(unsigned(kid)), Want: unauthorized, Says: "not a JWT signed with RS256"},
		{Name: "HS256 keyed with the public key", Fixture: build, Change: bearer(signed(t, jose.HS256, mustPublicPEM(t, key), kid, nil)), Want: unauthorized, Says: "not a JWT signed with RS256"},
		{Name: "RS512 with the right key", Fixture: build, Change: bearer(signed(t, jose.RS512, key, kid, nil)), Want: unauthorized, Says: "not a JWT signed with RS256"},
		{Name: "no key id", Fixture: build, Change: bearer(signed(t, jose.RS256, key, "", nil)), Want: unauthorized, Says: "names no key id"},
		{Name: "signed by another key", Fixture: build, Change: bearer(token(t, other, nil)), Want: unauthorized, Says: "which the key set at 127.0.0.1"},
		{Name: "another key under the trusted key's id", Fixture: build, Change: bearer(signed(t, jose.RS256, other, kid, nil)), Want: unauthorized, Says: "signature does not verify"},
		// The claims.
		{Name: "wrong audience", Fixture: build, Change: bearer(token(t, key, claim("aud", "https://evil.example.com/push"))), Want: unauthorized, Says: `audience "https://evil.example.com/push", not settings.audience`},
		{Name: "audience a prefix", Fixture: build, Change: bearer(token(t, key, claim("aud", "https://reflex.example.com/hooks/"))), Want: unauthorized, Says: "not settings.audience"},
		{Name: "wrong issuer", Fixture: build, Change: bearer(token(t, key, claim("iss", "https://evil.example.com"))), Want: unauthorized, Says: `issuer "https://evil.example.com" is not one accepted`},
		{Name: "no issuer", Fixture: build, Change: bearer(token(t, key, claim("iss", nil))), Want: unauthorized, Says: "issuer"},
		{Name: "email not allowed", Fixture: build, Change: bearer(token(t, key, claim("email", "intruder@evil-project.iam.gserviceaccount.com"))), Want: unauthorized, Says: "not one of settings.service_accounts"},
		{Name: "no email", Fixture: build, Change: bearer(token(t, key, claim("email", nil))), Want: unauthorized, Says: "no email claim"},
		{Name: "email_verified false", Fixture: build, Change: bearer(token(t, key, claim("email_verified", false))), Want: unauthorized, Says: "email_verified is not true"},
		{Name: "email_verified absent", Fixture: build, Change: bearer(token(t, key, claim("email_verified", nil))), Want: unauthorized, Says: "email_verified is not true"},
		{Name: "email_verified a string", Fixture: build, Change: bearer(token(t, key, claim("email_verified", "true"))), Want: unauthorized, Says: "cannot read the token's claims"},
		{Name: "expired beyond the leeway", Fixture: build, Change: bearer(token(t, key, func(c map[string]any) {
			c["iat"], c["exp"] = at-3600-61, at-61
		})), Want: stale, Says: "expired at 2026-01-02T03:03:04Z"},
		{Name: "issued after the receive time", Fixture: build, Change: bearer(token(t, key, func(c map[string]any) {
			c["iat"], c["exp"] = at+120, at+3720
		})), Want: stale, Says: "valid only from 2026-01-02T03:06:05Z"},
		{Name: "not before after the receive time", Fixture: build, Change: bearer(token(t, key, claim("nbf", at+300))), Want: stale, Says: "valid only from 2026-01-02T03:09:05Z"},
		{Name: "no expiry", Fixture: build, Change: bearer(token(t, key, claim("exp", nil))), Want: unauthorized, Says: "lacks its expiry"},
		{Name: "no issue time", Fixture: build, Change: bearer(token(t, key, claim("iat", nil))), Want: unauthorized, Says: "lacks its expiry (exp) or issue time"},
		// What Parse refuses of a genuine delivery.
		{Name: "subscription not allowed", Fixture: build, Change: editEnvelope(t, func(env map[string]any) {
			env["subscription"] = "projects/acme-prod/subscriptions/someone-elses"
		}), Want: unauthorized, Says: `the subscription "projects/acme-prod/subscriptions/someone-elses" is not one settings.subscriptions lists`},
		{Name: "subscription not allowed is also malformed", Fixture: build, Change: editEnvelope(t, func(env map[string]any) { delete(env, "subscription") }), Want: malformed, Says: "names no subscription"},
		{Name: "no message id", Fixture: build, Change: editEnvelope(t, func(env map[string]any) {
			delete(message(env), "messageId")
			delete(message(env), "message_id")
		}), Want: malformed, Says: "no messageId"},
		{Name: "message ids differ", Fixture: build, Change: editEnvelope(t, func(env map[string]any) { message(env)["message_id"] = "1" }), Want: malformed, Says: "messageId and message_id differ"},
		{Name: "message id with a slash", Fixture: build, Change: editEnvelope(t, func(env map[string]any) {
			message(env)["messageId"], message(env)["message_id"] = "../1", "../1"
		}), Want: malformed, Says: "the message's messageId may hold only"},
		{Name: "unwrapped delivery", Fixture: build, Change: func(req *connectors.Request) {
			req.Body = []byte(`{"id":"9f1c4e2a-7b3d-4c5e-8f6a-1b2c3d4e5f60","status":"SUCCESS"}`)
		}, Want: malformed, Says: "payload unwrapping must be off"},
		{Name: "body not JSON", Fixture: build, Change: func(req *connectors.Request) { req.Body = []byte("message=1") }, Want: malformed, Says: "not a Pub/Sub push envelope"},
		{Name: "data not base64", Fixture: build, Change: editEnvelope(t, func(env map[string]any) { message(env)["data"] = "eyJpZCI6%%" }), Want: malformed, Says: "not standard base64"},
		{Name: "text/plain", Fixture: build, Change: set("Content-Type", "text/plain"), Want: connectors.ErrUnsupportedMediaType, Says: "Pub/Sub sends application/json"},
		{Name: "build data not JSON", Fixture: build, Change: editEnvelope(t, func(env map[string]any) {
			message(env)["data"] = base64.StdEncoding.EncodeToString([]byte("SUCCESS"))
		}), Want: malformed, Says: "not a Build resource"},
		{Name: "build id differs from buildId", Fixture: build, Change: editData(t, func(d map[string]any) { d["id"] = "0d4f6b8a-2c1e-4a3b-9e5d-7c8f1a2b3d4e" }), Want: malformed, Says: "differs from the message's buildId"},
		{Name: "build id with a slash", Fixture: build, Change: editEnvelope(t, func(env map[string]any) {
			message(env)["attributes"] = map[string]any{"buildId": "a/b", "status": "SUCCESS"}
			message(env)["data"] = base64.StdEncoding.EncodeToString([]byte(`{"status":"SUCCESS"}`))
		}), Want: malformed, Says: "the build's id may hold only"},
		{Name: "registry digest not a digest", Fixture: gcr, Change: editData(t, func(d map[string]any) {
			d["digest"] = "us-central1-docker.pkg.dev/acme-prod/containers/widget@sha256:xyz"
		}), Want: malformed, Says: "digest is not an image reference"},
		{Name: "registry tag without a host", Fixture: gcr, Change: editData(t, func(d map[string]any) { d["tag"] = "widget:1.0" }), Want: malformed, Says: "tag is not an image reference"},
		{Name: "registry digest and tag of different images", Fixture: gcr, Change: editData(t, func(d map[string]any) {
			d["tag"] = "us-central1-docker.pkg.dev/acme-prod/containers/other:1.0"
		}), Want: malformed, Says: "name different images"},
	})
}

// mustPublicPEM returns the PEM of key's public half: what an HS256
// forgery keys its MAC with.
func mustPublicPEM(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	jwk := jose.JSONWebKey{Key: &key.PublicKey}
	b, err := jwk.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAccepts: what a genuine token may be and still verify.
func TestAccepts(t *testing.T) {
	key := rsaKey(t, testKey)
	at := connectortest.ReceivedAt.Unix()
	tests := []struct {
		name string
		edit func(c map[string]any)
	}{
		{"as Pub/Sub sends it", nil},
		{"issuer without https://", func(c map[string]any) { c["iss"] = "accounts.google.com" }},
		{"audience in a list", func(c map[string]any) { c["aud"] = []string{"other", audience} }},
		{"email in another case", func(c map[string]any) { c["email"] = strings.ToUpper(serviceAccount) }},
		{"expired within the leeway", func(c map[string]any) { c["iat"], c["exp"] = at-3600-30, at-30 }},
		{"issued within the leeway after receipt", func(c map[string]any) { c["iat"], c["exp"] = at+30, at+3630 }},
		{"almost an hour old", func(c map[string]any) { c["iat"], c["exp"] = at-3590, at+10 }},
	}
	f, err := fixtures.Get(pubsub.Name, "cloud-build.success")
	if err != nil {
		t.Fatal(err)
	}
	c := kit.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := kit.Request(t, f)
			bearer(token(t, key, tt.edit))(req)
			if err := c.Verify(t.Context(), req, nil); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

// TestUnconfigured: a connector without an audience and a service account
// refuses every delivery, and says why.
func TestUnconfigured(t *testing.T) {
	c := pubsub.New()
	if c.(connectors.KeyHolder).HasKeys() {
		t.Fatal("HasKeys is true without settings")
	}
	f, err := fixtures.Get(pubsub.Name, "gcr.insert")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Verify(t.Context(), kit.Request(t, f), [][]byte{testKey})
	if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), "no audience and service account") {
		t.Fatalf("Verify = %v, want ErrUnauthorized naming the missing settings", err)
	}
	if !kit.New().(connectors.KeyHolder).HasKeys() {
		t.Fatal("HasKeys is false with an audience and a service account")
	}
}

// TestSubscriptionsOptional: without settings.subscriptions, any
// subscription is accepted.
func TestSubscriptionsOptional(t *testing.T) {
	c := configure(t, goodKeys, func(s map[string]any) { delete(s, "subscriptions") })
	f, err := fixtures.Get(pubsub.Name, "gcr.insert")
	if err != nil {
		t.Fatal(err)
	}
	req := kit.Request(t, f)
	editEnvelope(t, func(env map[string]any) { env["subscription"] = "projects/p/subscriptions/any" })(req)
	if _, err := c.Parse(req); err != nil {
		t.Fatalf("Parse: %v", err)
	}
}
