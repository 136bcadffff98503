package cloudevents_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/cloudevents"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/schemes"
	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/internal/schemacheck"
)

// TestBearer: the webhook profile's token, in Authorization or the
// access_token query parameter.
func TestBearer(t *testing.T) {
	bearer := connectortest.Kit{Name: cloudevents.Name, New: configured(t, map[string]any{"auth": "bearer"}), Source: "acme-cloudevents", Secret: testSecret}
	bearer.Golden(t)
	query := func(token string) func(*connectors.Request) {
		return func(req *connectors.Request) {
			req.Header.Del("Authorization")
			req.Query = url.Values{"access_token": {token}}
		}
	}
	bearer.Refusals(t, []connectortest.Refusal{
		{Name: "wrong token", Fixture: "change.merged", Secrets: [][]byte{[]byte("another token")}, Want: connectors.ErrUnauthorized, Says: "the token in Authorization does not match"},
		{Name: "no token", Fixture: "change.merged", Change: func(req *connectors.Request) { req.Header.Del("Authorization") }, Want: connectors.ErrUnauthorized, Says: "no token: send Authorization: Bearer <token> or the access_token query parameter"},
		{Name: "empty bearer token", Fixture: "change.merged", Change: func(req *connectors.Request) { req.Header.Set("Authorization", "Bearer ") }, Want: connectors.ErrUnauthorized, Says: `must be "Bearer <token>"`},
		{Name: "Basic credentials", Fixture: "change.merged", Change: func(req *connectors.Request) { req.Header.Set("Authorization", schemes.BasicAuthorization(testSecret)) }, Want: connectors.ErrUnauthorized, Says: `must be "Bearer <token>"`},
		{Name: "wrong query token", Fixture: "change.merged", Change: query("nope"), Want: connectors.ErrUnauthorized, Says: "the token in the access_token query parameter does not match"},
		{Name: "empty query token", Fixture: "change.merged", Change: query(""), Want: connectors.ErrUnauthorized, Says: "no token"},
		{Name: "empty secret", Fixture: "change.merged", Secrets: [][]byte{{}}, Change: func(req *connectors.Request) { req.Header.Set("Authorization", "Bearer x") }, Want: connectors.ErrUnauthorized, Says: "does not match"},
	})
	f, err := fixtures.Get(cloudevents.Name, "change.merged")
	if err != nil {
		t.Fatal(err)
	}
	c := bearer.New()
	req := &connectors.Request{Header: f.Header.Clone(), Body: f.Body, Query: url.Values{"access_token": {string(testSecret)}, "p": {"q"}}}
	if err := c.Verify(context.Background(), req, [][]byte{[]byte("old"), testSecret}); err != nil {
		t.Errorf("access_token query parameter, second secret: %v", err)
	}
}

// TestStandardWebhooks: signed timestamps within the tolerance only.
func TestStandardWebhooks(t *testing.T) {
	secret := []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	newConn := configured(t, map[string]any{"auth": "standard-webhooks", "tolerance": "2m"})
	f, err := fixtures.Get(cloudevents.Name, "pipelinerun.finished")
	if err != nil {
		t.Fatal(err)
	}
	signedAt := func(at time.Time, key []byte) *connectors.Request {
		h := f.Header.Clone()
		h.Set(schemes.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
		newConn().(connectors.Signer).Sign(h, f.Body, key)
		return &connectors.Request{Header: h, Body: f.Body, ReceivedAt: connectortest.ReceivedAt}
	}
	now := connectortest.ReceivedAt
	tests := []struct {
		name string
		req  *connectors.Request
		want error
		says string
	}{
		{"fresh", signedAt(now.Add(-30*time.Second), secret), nil, ""},
		{"edge of the tolerance", signedAt(now.Add(-2*time.Minute), secret), nil, ""},
		{"stale", signedAt(now.Add(-3*time.Minute), secret), connectors.ErrStale, "old, more than the 2m0s allowed"},
		{"future", signedAt(now.Add(3*time.Minute), secret), connectors.ErrStale, "in the future"},
		{"other secret", signedAt(now, []byte("whsec_b3RoZXI=")), connectors.ErrUnauthorized, "no signature by the source's secrets"},
		{"unsigned", &connectors.Request{Header: f.Header.Clone(), Body: f.Body, ReceivedAt: now}, connectors.ErrUnauthorized, "header is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newConn().Verify(context.Background(), tt.req, [][]byte{secret})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if id := tt.req.Header.Get(schemes.HeaderWebhookID); id != f.Header.Get("ce-id") {
					t.Errorf("webhook-id = %q, want the ce-id", id)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Verify = %v, want %v saying %q", err, tt.want, tt.says)
			}
			if strings.Contains(err.Error(), "MfKQ9r8") {
				t.Fatalf("error echoes the secret: %v", err)
			}
		})
	}
}

// TestHMACSettings: another header and a bare hex signature.
func TestHMACSettings(t *testing.T) {
	k := connectortest.Kit{Name: cloudevents.Name, New: configured(t, map[string]any{"header": "x-hub-signature-256", "prefix": ""}), Source: "acme-cloudevents", Secret: testSecret}
	k.Golden(t)
	f, err := fixtures.Get(cloudevents.Name, "change.merged")
	if err != nil {
		t.Fatal(err)
	}
	req := k.Request(t, f)
	if sig := req.Header.Get("X-Hub-Signature-256"); len(sig) != 64 {
		t.Errorf("signature %q is not bare hex", sig)
	}
	if err := cloudevents.New().Verify(context.Background(), req, [][]byte{testSecret}); err == nil || !strings.Contains(err.Error(), "X-Signature header is missing") {
		t.Errorf("the default connector read another header: %v", err)
	}
}

// TestSettings: the schema and Configure refuse what makes no sense,
// naming the field.
func TestSettings(t *testing.T) {
	c := cloudevents.New().(connectors.Configurable)
	sch, err := schemacheck.Compile("reflex:connectors/cloudevents/settings.json", c.SettingsSchema())
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(c.SettingsSchema()), &raw); err != nil {
		t.Fatal(err)
	}
	for name, p := range raw["properties"].(map[string]any) {
		if d, _ := p.(map[string]any)["description"].(string); d == "" {
			t.Errorf("setting %s has no description", name)
		}
	}
	tests := []struct {
		settings string
		schema   string // "" when the schema accepts it
		says     string // "" when Configure accepts it
	}{
		{`{}`, "", ""},
		{`{"auth": "bearer", "allowed_origins": ["eventgrid.azure.net"], "allowed_rate": 120}`, "", ""},
		{`{"auth": "standard-webhooks", "tolerance": "10m"}`, "", ""},
		{`{"auth": "hmac", "header": "X-Hub-Signature-256", "prefix": ""}`, "", ""},
		{`{"auth": "basic"}`, "settings.auth", "settings.auth:"},
		{`{"secret": "x"}`, "settings.secret", "settings.secret: is not a setting"},
		{`{"auth": "bearer", "header": "X-Token"}`, "", `settings.header: applies only with auth "hmac"`},
		{`{"auth": "standard-webhooks", "prefix": "v1="}`, "", `settings.prefix: applies only with auth "hmac"`},
		{`{"tolerance": "5m"}`, "", `settings.tolerance: applies only with auth "standard-webhooks"`},
		{`{"auth": "standard-webhooks", "tolerance": "0s"}`, "", "settings.tolerance: 0s is outside 1s to 1h0m0s"},
		{`{"auth": "standard-webhooks", "tolerance": "soon"}`, "settings.tolerance", "settings.tolerance:"},
		{`{"header": "ce-signature"}`, "", "settings.header: Ce-Signature is a CloudEvents attribute header"},
		{`{"header": "Authorization"}`, "", "settings.header: Authorization has a meaning of its own"},
		{`{"header": "X Sig"}`, "settings.header", "settings.header:"},
		{`{"allowed_origins": ["https://evil.example/x"]}`, "settings.allowed_origins", "settings.allowed_origins[0]:"},
		{`{"allowed_rate": 0}`, "settings.allowed_rate", ""},
	}
	for _, tt := range tests {
		t.Run(tt.settings, func(t *testing.T) {
			var settings map[string]any
			if err := json.Unmarshal([]byte(tt.settings), &settings); err != nil {
				t.Fatal(err)
			}
			inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(tt.settings))
			err := schemacheck.Validate(sch, "settings", inst)
			if (err == nil) != (tt.schema == "") || err != nil && !strings.Contains(err.Error(), tt.schema) {
				t.Errorf("schema: %v, want %q", err, tt.schema)
			}
			err = cloudevents.New().(connectors.Configurable).Configure(settings)
			if (err == nil) != (tt.says == "") || err != nil && !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Configure: %v, want %q", err, tt.says)
			}
		})
	}
}

// TestSign: each scheme's Sign gives what its Verify accepts.
func TestSign(t *testing.T) {
	f, err := fixtures.Get(cloudevents.Name, "change.merged")
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"hmac", "bearer", "standard-webhooks"} {
		c := configured(t, map[string]any{"auth": auth})()
		h := http.Header{}
		c.(connectors.Signer).Sign(h, f.Body, testSecret)
		req := &connectors.Request{Header: h, Body: f.Body, ReceivedAt: time.Now()}
		if err := c.Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
			t.Errorf("%s: %v", auth, err)
		}
	}
}
