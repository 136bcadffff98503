package gitlab_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/gitlab"
	"github.com/reflexops/reflex/connectors/schemes"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// signingToken is a webhook signing token: "whsec_" and the base64 of 32
// bytes, as GitLab's API takes it.
var signingToken = []byte("whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=")

// otherSigningToken is another webhook's signing token.
var otherSigningToken = []byte("whsec_b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcm90aGVyMDE=")

// signedRequest returns the push.signing-token fixture signed with a
// signing token, as GitLab sends it: webhook-id is the Idempotency-Key,
// webhook-timestamp the recorded one.
func signedRequest(t *testing.T, secret []byte) (*connectors.Request, fixtures.Fixture) {
	t.Helper()
	f, err := fixtures.Get(gitlab.Name, "push.signing-token")
	if err != nil {
		t.Fatal(err)
	}
	h := f.Header.Clone()
	h.Del(schemes.HeaderWebhookID)
	gitlab.New().(connectors.Signer).Sign(h, f.Body, secret)
	return &connectors.Request{Source: kit.Source, Header: h, Body: f.Body, ReceivedAt: connectortest.ReceivedAt}, f
}

// TestSigningTokenFixture: the fixture signed with a signing token
// verifies and normalizes to its golden event.
func TestSigningTokenFixture(t *testing.T) {
	t.Parallel()
	req, f := signedRequest(t, signingToken)
	if got, want := req.Header.Get(schemes.HeaderWebhookID), f.Header.Get(gitlab.HeaderIdempotencyKey); got != want {
		t.Errorf("webhook-id = %q, want the Idempotency-Key %q", got, want)
	}
	if got := req.Header.Get(schemes.HeaderWebhookTimestamp); got != "1767323045" {
		t.Errorf("webhook-timestamp = %q, want the recorded 1767323045", got)
	}
	if req.Header.Get(gitlab.HeaderToken) != "" {
		t.Error("Sign with a signing token set X-Gitlab-Token")
	}
	c := gitlab.New()
	if err := c.Verify(context.Background(), req, [][]byte{signingToken}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	res, err := c.Parse(req)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var want *event.Event
	if err := json.Unmarshal(f.Golden, &want); err != nil {
		t.Fatalf("golden: %v", err)
	}
	if diff := cmp.Diff(want, res.Event); diff != "" {
		t.Errorf("signed delivery differs from %s (-want +got):\n%s", f.GoldenPath(), diff)
	}
}

// TestSignedDeliveryID: a signed delivery is de-duplicated on the
// webhook-id its signature covers, never on an unsigned header: a captured
// delivery replayed within the tolerance under a new Idempotency-Key still
// verifies, and must not become a new event.
func TestSignedDeliveryID(t *testing.T) {
	t.Parallel()
	c := gitlab.New()
	parse := func(t *testing.T, change func(http.Header)) (*connectors.Result, error) {
		t.Helper()
		req, _ := signedRequest(t, signingToken)
		change(req.Header)
		if err := c.Verify(context.Background(), req, [][]byte{signingToken}); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		return c.Parse(req)
	}
	const webhookID = "9e8d7c6b-5a49-4382-a716-05f4e3d2c1b0" // the fixture's
	t.Run("as GitLab sends it", func(t *testing.T) {
		res, err := parse(t, func(http.Header) {})
		if err != nil || res.Event.ID != webhookID || res.Event.IDFrom != "" {
			t.Fatalf("Parse = %+v, %v; want id %s", res, err, webhookID)
		}
	})
	t.Run("replayed under a new Idempotency-Key", func(t *testing.T) {
		_, err := parse(t, func(h http.Header) { h.Set(gitlab.HeaderIdempotencyKey, "0f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a4b") })
		if !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "must match") {
			t.Fatalf("Parse = %v, want ErrMalformed saying Idempotency-Key and webhook-id must match", err)
		}
	})
	t.Run("replayed without Idempotency-Key", func(t *testing.T) {
		res, err := parse(t, func(h http.Header) {
			h.Del(gitlab.HeaderIdempotencyKey)
			h.Set(gitlab.HeaderEventUUID, "0f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a4b")
		})
		if err != nil || res.Event.ID != webhookID {
			t.Fatalf("Parse = %+v, %v; want the signed id %s", res, err, webhookID)
		}
	})
	t.Run("signed webhook-id that is no delivery id", func(t *testing.T) {
		req, _ := signedRequest(t, signingToken)
		req.Header.Del(gitlab.HeaderIdempotencyKey)
		req.Header.Del(schemes.HeaderWebhookID)
		req.Header.Set(schemes.HeaderWebhookID, "a/b")
		gitlab.New().(connectors.Signer).Sign(req.Header, req.Body, signingToken)
		if err := c.Verify(context.Background(), req, [][]byte{signingToken}); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if _, err := c.Parse(req); !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "webhook-id header may hold only") {
			t.Fatalf("Parse = %v, want ErrMalformed naming webhook-id", err)
		}
	})
}

// TestVerifySigningToken: deliveries signed with a signing token, with
// and without a secret token beside.
func TestVerifySigningToken(t *testing.T) {
	t.Parallel()
	_, priv, _ := ed25519.GenerateKey(nil)
	v1a := func() string {
		_, f := signedRequest(t, signingToken)
		h := http.Header{}
		at := connectortest.ReceivedAt
		schemes.Sign(h, f.Header.Get(gitlab.HeaderIdempotencyKey), at, f.Body, []byte(schemes.PrivateKeyString(priv)))
		return h.Get(schemes.HeaderWebhookSignature)
	}()
	tests := []struct {
		name     string
		sign     []byte              // what signs the delivery
		settings map[string]any      // the source's settings
		secrets  [][]byte            // the source's secrets
		change   func(*http.Header)  // alters the signed headers
		body     func([]byte) []byte // alters the signed body
		after    time.Duration       // receive time after the signed timestamp
		want     error               // nil: must verify
		says     string
	}{
		{name: "valid", sign: signingToken, secrets: [][]byte{signingToken}},
		{name: "second signing token during rotation", sign: signingToken, secrets: [][]byte{otherSigningToken, signingToken}},
		{name: "beside a right token", sign: signingToken, secrets: [][]byte{testSecret, signingToken}, change: setHeader(gitlab.HeaderToken, string(testSecret))},
		{name: "beside a wrong token: the signature decides", sign: signingToken, secrets: [][]byte{testSecret, signingToken}, change: setHeader(gitlab.HeaderToken, "glwt-stale")},
		{name: "require_signature", sign: signingToken, settings: map[string]any{"require_signature": true}, secrets: [][]byte{signingToken}},
		{name: "within a wider tolerance", sign: signingToken, settings: map[string]any{"tolerance": "10m"}, secrets: [][]byte{signingToken}, after: 9 * time.Minute},
		{name: "edge of the tolerance", sign: signingToken, secrets: [][]byte{signingToken}, after: 5 * time.Minute},
		{name: "wrong signing token", sign: otherSigningToken, secrets: [][]byte{signingToken}, want: connectors.ErrUnauthorized, says: "holds no signature"},
		{name: "wrong signing token beside a right token", sign: otherSigningToken, secrets: [][]byte{testSecret, signingToken}, change: setHeader(gitlab.HeaderToken, string(testSecret)), want: connectors.ErrUnauthorized, says: "holds no signature"},
		{name: "tampered body", sign: signingToken, secrets: [][]byte{signingToken}, body: func(b []byte) []byte { return []byte(strings.Replace(string(b), "master", "main", 1)) }, want: connectors.ErrUnauthorized, says: "holds no signature"},
		{name: "stale", sign: signingToken, secrets: [][]byte{signingToken}, after: 6 * time.Minute, want: connectors.ErrStale, says: "old"},
		{name: "future", sign: signingToken, secrets: [][]byte{signingToken}, after: -6 * time.Minute, want: connectors.ErrStale, says: "in the future"},
		{name: "stale under a narrower tolerance", sign: signingToken, settings: map[string]any{"tolerance": "30s"}, secrets: [][]byte{signingToken}, after: time.Minute, want: connectors.ErrStale, says: "30s allowed"},
		{name: "no timestamp", sign: signingToken, secrets: [][]byte{signingToken}, change: delHeader(schemes.HeaderWebhookTimestamp), want: connectors.ErrUnauthorized, says: "webhook-timestamp header is missing"},
		{name: "no webhook-id", sign: signingToken, secrets: [][]byte{signingToken}, change: delHeader(schemes.HeaderWebhookID), want: connectors.ErrUnauthorized, says: "webhook-id header is missing"},
		{name: "webhook-id changed", sign: signingToken, secrets: [][]byte{signingToken}, change: setHeader(schemes.HeaderWebhookID, "0f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a4b"), want: connectors.ErrUnauthorized, says: "holds no signature"},
		{name: "v1a by a key the source does not pin", sign: signingToken, secrets: [][]byte{signingToken}, change: setHeader(schemes.HeaderWebhookSignature, v1a), want: connectors.ErrUnauthorized, says: "holds no signature"},
		{name: "signing token as X-Gitlab-Token", sign: signingToken, secrets: [][]byte{signingToken}, change: func(h *http.Header) {
			h.Del(schemes.HeaderWebhookSignature)
			h.Set(gitlab.HeaderToken, string(signingToken))
		}, want: connectors.ErrUnauthorized, says: "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := signedRequest(t, tt.sign)
			if tt.change != nil {
				tt.change(&req.Header)
			}
			if tt.body != nil {
				req.Body = tt.body(req.Body)
			}
			req.ReceivedAt = req.ReceivedAt.Add(tt.after)
			err := configured(t, tt.settings)().Verify(context.Background(), req, tt.secrets)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Verify = %v, want %v saying %q", err, tt.want, tt.says)
			}
			sig := req.Header.Get(schemes.HeaderWebhookSignature)
			for _, secret := range [][]byte{signingToken, otherSigningToken, testSecret, []byte(sig)} {
				if len(secret) > 0 && strings.Contains(err.Error(), string(secret)) {
					t.Fatalf("error %q echoes a secret or the signature", err)
				}
			}
		})
	}
}

// TestVerifyStandardWebhooksVector: the computed Standard Webhooks vector
// of providers.md §27 verifies as a GitLab delivery.
func TestVerifyStandardWebhooksVector(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set(schemes.HeaderWebhookID, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
	h.Set(schemes.HeaderWebhookTimestamp, "1700000000")
	h.Set(schemes.HeaderWebhookSignature, "v1,CqFH7taUkCUKn2VjjYguHWO9g/TmSH2WUFDVIAGDqrY=")
	req := &connectors.Request{Header: h, Body: []byte(`{"type":"example.event","data":{"id":1}}`), ReceivedAt: time.Unix(1700000000, 0)}
	secret := [][]byte{[]byte("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")}
	if err := gitlab.New().Verify(context.Background(), req, secret); err != nil {
		t.Fatalf("Verify of the vector: %v", err)
	}
	req.Body = []byte(`{"type":"example.event","data":{"id":2}}`)
	if err := gitlab.New().Verify(context.Background(), req, secret); !errors.Is(err, connectors.ErrUnauthorized) {
		t.Fatalf("Verify of a changed body = %v, want ErrUnauthorized", err)
	}
}

// TestSignWithoutRecordedValues: with nothing recorded, Sign signs now,
// with the delivery's id (or the body's hash) as webhook-id.
func TestSignWithoutRecordedValues(t *testing.T) {
	t.Parallel()
	body := []byte(`{"object_kind":"push"}`)
	for _, tt := range []struct {
		name   string
		header http.Header
		wantID string
	}{
		{"event uuid", http.Header{"X-Gitlab-Event-Uuid": {"uuid-1"}}, "uuid-1"},
		{"nothing", http.Header{}, connectors.ContentHash(body)},
	} {
		before := time.Now()
		gitlab.New().(connectors.Signer).Sign(tt.header, body, signingToken)
		if got := tt.header.Get(schemes.HeaderWebhookID); got != tt.wantID {
			t.Errorf("%s: webhook-id = %q, want %q", tt.name, got, tt.wantID)
		}
		req := &connectors.Request{Header: tt.header, Body: body, ReceivedAt: before}
		if err := gitlab.New().Verify(context.Background(), req, [][]byte{signingToken}); err != nil {
			t.Errorf("%s: Verify just after signing: %v", tt.name, err)
		}
	}
}

func setHeader(name, value string) func(*http.Header) {
	return func(h *http.Header) { h.Set(name, value) }
}

func delHeader(name string) func(*http.Header) {
	return func(h *http.Header) { h.Del(name) }
}
