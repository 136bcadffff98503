package schemes

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
)

// The Standard Webhooks headers; Svix-based senders use the same scheme
// under svix- names, which are read when these are absent.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// DefaultTolerance is how far a Standard Webhooks timestamp may lie from
// the receive time, either way, as the reference libraries default.
const DefaultTolerance = 5 * time.Minute

// The prefixes of Standard Webhooks keys.
const (
	prefixSecret     = "whsec_"
	prefixPublicKey  = "whpk_"
	prefixPrivateKey = "whsk_"
)

// maxSignatures bounds the signatures one header may list.
const maxSignatures = 16

// StandardWebhooks verifies the Standard Webhooks signature: the
// webhook-signature header lists "v1,<base64 HMAC-SHA256>" and
// "v1a,<base64 Ed25519>" signatures of "<id>.<timestamp>.<body>", any one
// of which by a known key is enough; unknown versions are ignored.
type StandardWebhooks struct {
	// Tolerance bounds the timestamp's distance from the receive time;
	// zero means DefaultTolerance.
	Tolerance time.Duration
	// PublicKeys verify v1a signatures; pinned in the source's settings,
	// never taken from a request.
	PublicKeys []ed25519.PublicKey
}

// Headers are the Standard Webhooks values of a request.
type Headers struct {
	ID, Timestamp, Signature string
}

// The canonical forms of the headers, as net/http keys them, so that
// reading them costs a map lookup and no allocation.
var (
	keysWebhook = [3]string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}
	keysSvix    = [3]string{"Svix-Id", "Svix-Timestamp", "Svix-Signature"}
)

// ReadHeaders returns the Standard Webhooks headers of h, or their Svix
// equivalents. h must be keyed canonically, as net/http keys it.
func ReadHeaders(h http.Header) Headers {
	var v [3]string
	for i := range v {
		if vs := h[keysWebhook[i]]; len(vs) > 0 && vs[0] != "" {
			v[i] = vs[0]
		} else if vs := h[keysSvix[i]]; len(vs) > 0 {
			v[i] = vs[0]
		}
	}
	return Headers{ID: v[0], Timestamp: v[1], Signature: v[2]}
}

// Present reports whether a request carries a Standard Webhooks signature.
func Present(h http.Header) bool { return ReadHeaders(h).Signature != "" }

// Verify checks the request's signature against secrets (v1) and the
// public keys (v1a), and its timestamp against now. Errors wrap
// connectors.ErrUnauthorized.
func (s StandardWebhooks) Verify(h http.Header, body []byte, secrets [][]byte, now time.Time) error {
	for _, keys := range [...][3]string{keysWebhook, keysSvix} {
		for _, name := range keys {
			if _, err := connectors.CredentialHeader(h, name); err != nil {
				return err
			}
		}
	}
	hd := ReadHeaders(h)
	switch {
	case hd.ID == "":
		return unauthorized("the %s header is missing", HeaderWebhookID)
	case hd.Timestamp == "":
		return unauthorized("the %s header is missing", HeaderWebhookTimestamp)
	case hd.Signature == "":
		return unauthorized("the %s header is missing", HeaderWebhookSignature)
	}
	ts, err := strconv.ParseInt(hd.Timestamp, 10, 64)
	if err != nil {
		return unauthorized("%s must be whole seconds since 1970", HeaderWebhookTimestamp)
	}
	tolerance := s.Tolerance
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if err := connectors.CheckTimestamp(HeaderWebhookTimestamp, ts, now, tolerance); err != nil {
		return err
	}
	keys := decodeSecrets(secrets)
	var msg []byte // the signed content in one piece, for v1a only
	match, seen := false, 0
	for _, entry := range strings.Fields(hd.Signature) {
		if seen++; seen > maxSignatures {
			break
		}
		version, enc, ok := strings.Cut(entry, ",")
		if !ok {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			continue
		}
		switch version {
		case "v1":
			for _, key := range keys {
				// The content is written in its parts: no copy of the body.
				mac := hmac.New(sha256.New, key)
				mac.Write([]byte(hd.ID))
				mac.Write(dot)
				mac.Write([]byte(hd.Timestamp))
				mac.Write(dot)
				mac.Write(body)
				if hmac.Equal(sig, mac.Sum(nil)) {
					match = true
				}
			}
		case "v1a":
			if msg == nil && len(s.PublicKeys) > 0 {
				msg = signedContent(hd.ID, hd.Timestamp, body)
			}
			for _, pub := range s.PublicKeys {
				if len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, msg, sig) {
					match = true
				}
			}
		}
	}
	if !match {
		return unauthorized("%s holds no signature by the source's secrets or public keys", HeaderWebhookSignature)
	}
	return nil
}

// Sign sets the Standard Webhooks headers of a delivery of body with
// message id id at time at: a v1 signature for a "whsec_" (or raw)
// secret, a v1a signature for a "whsk_" private key.
func Sign(h http.Header, id string, at time.Time, body, secret []byte) {
	ts := strconv.FormatInt(at.Unix(), 10)
	h.Set(HeaderWebhookID, id)
	h.Set(HeaderWebhookTimestamp, ts)
	msg := signedContent(id, ts, body)
	if priv, ok := privateKey(secret); ok {
		h.Set(HeaderWebhookSignature, "v1a,"+base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg)))
		return
	}
	mac := hmac.New(sha256.New, SecretKey(secret))
	mac.Write(msg)
	h.Set(HeaderWebhookSignature, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}

var dot = []byte{'.'}

func signedContent(id, ts string, body []byte) []byte {
	msg := make([]byte, 0, len(id)+len(ts)+2+len(body))
	msg = append(msg, id...)
	msg = append(msg, '.')
	msg = append(msg, ts...)
	msg = append(msg, '.')
	return append(msg, body...)
}

// SecretKey returns the HMAC key of a Standard Webhooks secret: the
// base64 after "whsec_" (nil when that is not base64); a secret without
// the prefix is decoded as base64 when it is, and used as it is when not.
func SecretKey(secret []byte) []byte {
	s, prefixed := strings.CutPrefix(string(secret), prefixSecret)
	key, err := base64.StdEncoding.DecodeString(s)
	switch {
	case err == nil && len(key) > 0:
		return key
	case prefixed:
		return nil
	}
	return secret
}

// decodeSecrets returns the HMAC keys of secrets. Keys of the Ed25519
// kind are never HMAC keys: a public key ("whpk_") is known to anyone, so
// taken as a secret it would let anyone sign, and a private key ("whsk_")
// signs v1a only. A "whsec_" secret that is not base64 is no key either.
func decodeSecrets(secrets [][]byte) [][]byte {
	keys := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		if len(s) == 0 || strings.HasPrefix(string(s), prefixPrivateKey) || strings.HasPrefix(string(s), prefixPublicKey) {
			continue
		}
		if key := SecretKey(s); key != nil {
			keys = append(keys, key)
		}
	}
	return keys
}

// ParsePublicKey reads a "whpk_"-prefixed (or bare) base64 Ed25519 public
// key.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, prefixPublicKey))
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("an Ed25519 public key has %d bytes, this one %d", ed25519.PublicKeySize, len(raw))
	}
	return ed25519.PublicKey(raw), nil
}

// PublicKeyString returns the "whpk_" form of a public key.
func PublicKeyString(pub ed25519.PublicKey) string {
	return prefixPublicKey + base64.StdEncoding.EncodeToString(pub)
}

// PrivateKeyString returns the "whsk_" form of a private key, which Sign
// takes as a secret.
func PrivateKeyString(priv ed25519.PrivateKey) string {
	return prefixPrivateKey + base64.StdEncoding.EncodeToString(priv.Seed())
}

// privateKey reads a "whsk_" secret: the base64 of a 32-byte seed or a
// 64-byte private key.
func privateKey(secret []byte) (ed25519.PrivateKey, bool) {
	enc, ok := strings.CutPrefix(string(secret), prefixPrivateKey)
	if !ok {
		return nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	switch {
	case err != nil:
		return nil, false
	case len(raw) == ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), true
	case len(raw) == ed25519.PrivateKeySize:
		return ed25519.PrivateKey(raw), true
	}
	return nil, false
}

func unauthorized(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{connectors.ErrUnauthorized}, args...)...)
}
