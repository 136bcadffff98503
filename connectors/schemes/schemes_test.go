package schemes_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// The vector of providers.md §27: secret bytes 0x00…0x1f.
const (
	vecSecret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	vecID     = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
	vecTS     = "1700000000"
	vecBody   = `{"type":"example.event","data":{"id":1}}`
	vecSig    = "v1,CqFH7taUkCUKn2VjjYguHWO9g/TmSH2WUFDVIAGDqrY="
)

func vecHeader(sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", vecID)
	h.Set("webhook-timestamp", vecTS)
	h.Set("webhook-signature", sig)
	return h
}

func TestStandardWebhooksVector(t *testing.T) {
	h := http.Header{}
	schemes.Sign(h, vecID, time.Unix(1700000000, 0), []byte(vecBody), []byte(vecSecret))
	if got := h.Get("webhook-signature"); got != vecSig {
		t.Fatalf("Sign = %q, want %q", got, vecSig)
	}
}

func TestStandardWebhooksVerify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, otherPriv, _ := ed25519.GenerateKey(nil)
	_ = otherPub
	at := time.Unix(1700000000, 0)
	v1aSig := func(priv ed25519.PrivateKey) string {
		h := http.Header{}
		schemes.Sign(h, vecID, at, []byte(vecBody), []byte(schemes.PrivateKeyString(priv)))
		return h.Get("webhook-signature")
	}
	secret := [][]byte{[]byte(vecSecret)}
	tests := []struct {
		name    string
		header  http.Header
		body    string
		secrets [][]byte
		now     time.Time
		want    string // "" for success, else a part of the error
	}{
		{"published vector", vecHeader(vecSig), vecBody, secret, at, ""},
		{"one of several signatures", vecHeader("v1,AAAA v2,xyz " + vecSig), vecBody, secret, at, ""},
		{"rotated: second secret", vecHeader(vecSig), vecBody, [][]byte{[]byte("whsec_b3RoZXI="), []byte(vecSecret)}, at, ""},
		{"v1a by the pinned key", vecHeader(v1aSig(priv)), vecBody, nil, at, ""},
		{"v1a by another key", vecHeader(v1aSig(otherPriv)), vecBody, nil, at, "no signature"},
		{"wrong secret", vecHeader(vecSig), vecBody, [][]byte{[]byte("whsec_b3RoZXI=")}, at, "no signature"},
		{"tampered body", vecHeader(vecSig), strings.Replace(vecBody, "1}", "2}", 1), secret, at, "no signature"},
		{"stale", vecHeader(vecSig), vecBody, secret, at.Add(6 * time.Minute), "old"},
		{"future", vecHeader(vecSig), vecBody, secret, at.Add(-6 * time.Minute), "future"},
		{"edge of tolerance", vecHeader(vecSig), vecBody, secret, at.Add(5 * time.Minute), ""},
		{"empty signature", vecHeader(""), vecBody, secret, at, "webhook-signature header is missing"},
		{"no timestamp", func() http.Header { h := vecHeader(vecSig); h.Del("webhook-timestamp"); return h }(), vecBody, secret, at, "webhook-timestamp header is missing"},
		{"timestamp not a number", func() http.Header { h := vecHeader(vecSig); h.Set("webhook-timestamp", "soon"); return h }(), vecBody, secret, at, "whole seconds"},
		{"svix names", http.Header{"Svix-Id": {vecID}, "Svix-Timestamp": {vecTS}, "Svix-Signature": {vecSig}}, vecBody, secret, at, ""},
		{"empty secret is no secret", vecHeader(vecSig), vecBody, [][]byte{{}}, at, "no signature"},
		{"milliseconds for seconds", func() http.Header { h := vecHeader(vecSig); h.Set("webhook-timestamp", vecTS+"000"); return h }(), vecBody, secret, at, "in the future"},
		{"far future", func() http.Header {
			h := vecHeader(vecSig)
			h.Set("webhook-timestamp", "4611686018427387904")
			return h
		}(), vecBody, secret, at.Add(3 * 365 * 24 * time.Hour), "in the future"},
	}
	s := schemes.StandardWebhooks{PublicKeys: []ed25519.PublicKey{pub}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Verify(tt.header, []byte(tt.body), tt.secrets, tt.now)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want ErrUnauthorized mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "whsec_") || strings.Contains(err.Error(), "CqFH7") {
				t.Fatalf("error echoes a secret or signature: %v", err)
			}
		})
	}
}

func TestHMAC(t *testing.T) {
	// The computed vector of providers.md §5.
	const want = "232a5e067b6a5aa567ed5a1d21a0dffaf6ef0eeecb6bd9bcf43b3d5ef3fc4f43"
	body := []byte(`{"ref":"refs/heads/main"}`)
	secret := [][]byte{[]byte("s3cret")}
	if got := (schemes.HMAC{}).Sum(body, secret[0]); got != want {
		t.Fatalf("Sum = %s, want %s", got, want)
	}
	tests := []struct {
		name   string
		scheme schemes.HMAC
		sig    string
		ok     bool
	}{
		{"bare hex", schemes.HMAC{}, want, true},
		{"upper-case hex", schemes.HMAC{}, strings.ToUpper(want), true},
		{"prefix required", schemes.HMAC{Prefix: "sha256="}, want, false},
		{"prefixed", schemes.HMAC{Prefix: "sha256="}, "sha256=" + want, true},
		{"truncated", schemes.HMAC{}, want[:40], false},
		{"empty", schemes.HMAC{}, "", false},
		{"sha512 base64", schemes.HMAC{Algorithm: schemes.SHA512, Encoding: schemes.Base64}, schemes.HMAC{Algorithm: schemes.SHA512, Encoding: schemes.Base64}.Sum(body, secret[0]), true},
		{"sha512 signature for sha256", schemes.HMAC{}, schemes.HMAC{Algorithm: schemes.SHA512}.Sum(body, secret[0]), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.scheme.Matches(tt.sig, body, secret); got != tt.ok {
				t.Fatalf("Matches = %v, want %v", got, tt.ok)
			}
		})
	}
	if (schemes.HMAC{}).Matches(want, body, [][]byte{{}}) {
		t.Fatal("an empty secret matched")
	}
}

func TestTokens(t *testing.T) {
	secrets := [][]byte{[]byte("old"), []byte("new-token")}
	for presented, want := range map[string]bool{"new-token": true, "old": true, "new-toke": false, "": false, "new-token ": false} {
		if got := schemes.TokenMatches(presented, secrets); got != want {
			t.Errorf("TokenMatches(%q) = %v, want %v", presented, got, want)
		}
	}
	if schemes.TokenMatches("", [][]byte{{}}) {
		t.Error("an empty token matched an empty secret")
	}
	if tok, ok := schemes.BearerToken("bearer abc"); !ok || tok != "abc" {
		t.Errorf("BearerToken = %q, %v", tok, ok)
	}
	if _, ok := schemes.BearerToken("Basic abc"); ok {
		t.Error("a Basic value read as a bearer token")
	}
	auth := schemes.BasicAuthorization([]byte("reflex:pa:ss"))
	if cred, ok := schemes.BasicCredentials(auth); !ok || cred != "reflex:pa:ss" {
		t.Errorf("BasicCredentials = %q, %v", cred, ok)
	}
	if _, ok := schemes.BasicCredentials("Basic !!!"); ok {
		t.Error("undecodable Basic credentials read")
	}
}

func TestHMACCheck(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main"}`)
	s := schemes.HMAC{Prefix: "sha256="}
	good := s.Sum(body, []byte("s3cret"))
	tests := []struct {
		name, value, says string
	}{
		{"valid", good, ""},
		{"missing", "", "missing or empty; set a secret"},
		{"only the prefix", "sha256=", "missing or empty"},
		{"another prefix", "sha1=" + good[7:], `must start with "sha256="`},
		{"mismatch", s.Sum(body, []byte("other")), "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Check("X-Sig", tt.value, body, [][]byte{[]byte("s3cret")}, "set a secret")
			if tt.says == "" {
				if err != nil {
					t.Fatalf("Check = %v", err)
				}
				return
			}
			if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Check = %v, want ErrUnauthorized saying %q", err, tt.says)
			}
		})
	}
}

// TestPublicKeyIsNoSecret: a public key listed among the secrets (a
// mistake) must not become an HMAC key, or anyone could sign with it; nor
// may a "whsec_" secret that is not base64.
func TestPublicKeyIsNoSecret(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	pk := schemes.PublicKeyString(pub)
	at := time.Unix(1700000000, 0)
	for _, secret := range []string{pk, "whsec_not base64!"} {
		h := http.Header{}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(vecID + "." + vecTS + "." + vecBody))
		h.Set("webhook-id", vecID)
		h.Set("webhook-timestamp", vecTS)
		h.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		if err := (schemes.StandardWebhooks{}).Verify(h, []byte(vecBody), [][]byte{[]byte(secret)}, at); err == nil {
			t.Errorf("a signature by the secret %q verified", secret[:8])
		}
	}
}
