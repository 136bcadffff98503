package pubsub

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/reflexops/reflex/connectors"
)

// userAgent is what Pub/Sub's push requests say they are (UNCONFIRMED:
// not in Pub/Sub's documentation; Google's list of its user agents gives
// it for push notifications).
const userAgent = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"

// sendSubscription is the subscription a delivery Delivery wraps names
// when the settings allow any.
const sendSubscription = "projects/reflex-send/subscriptions/reflex-send"

// tokenLifetime is how long the tokens Sign makes are valid, as Google's.
const tokenLifetime = time.Hour

// Sign sets Authorization: Bearer with an OIDC token such as Pub/Sub
// sends: RS256, issued now for settings.audience and the first of
// settings.service_accounts, signed with secret, which must be a PEM RSA
// private key (PKCS #1 or PKCS #8). It is for tests and `reflex send`
// against a source whose settings.keys_url serves that key's public half
// (see PublicKeySet); Google's own keys stay Google's. A secret that is
// not such a key signs nothing: the header is removed, and the delivery
// is refused.
//
// Like Pub/Sub, it sends a token again while it is less than ten minutes
// old, so a load test does not spend its time signing.
func (c *Connector) Sign(h http.Header, _ []byte, secret []byte) {
	h.Del("Authorization")
	want := tokenFor{secret: sha256.Sum256(secret), issuer: DefaultIssuers[0], audience: c.audience}
	if len(c.issuers) > 0 {
		want.issuer = c.issuers[0]
	}
	if len(c.serviceAccounts) > 0 {
		want.email = c.serviceAccounts[0]
	}
	now := c.clock()
	if token, ok := signed.get(want, now); ok {
		h.Set("Authorization", "Bearer "+token)
		return
	}
	key, err := privateKey(secret)
	if err != nil {
		return
	}
	if token, err := signToken(key, want.issuer, want.audience, want.email, now); err == nil {
		signed.put(want, now, token)
		h.Set("Authorization", "Bearer "+token)
	}
}

// tokenReuse is how long Sign sends a token again.
const tokenReuse = 10 * time.Minute

// signed holds the tokens Sign made lately.
var signed signedTokens

// tokenFor is what a token Sign makes is for.
type tokenFor struct {
	secret                  [sha256.Size]byte
	issuer, audience, email string
}

// signedTokens are the tokens Sign made lately, each with its issue time.
type signedTokens struct {
	mu     sync.Mutex
	tokens map[tokenFor]signedToken
}

type signedToken struct {
	iat   time.Time
	token string
}

// get returns a token for want issued at most tokenReuse before now (and
// not after it).
func (st *signedTokens) get(want tokenFor, now time.Time) (string, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.tokens[want]
	if !ok || now.Before(t.iat) || now.Sub(t.iat) >= tokenReuse {
		return "", false
	}
	return t.token, true
}

// put remembers a token; a few are kept.
func (st *signedTokens) put(want tokenFor, iat time.Time, token string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.tokens == nil || len(st.tokens) >= 16 {
		st.tokens = map[tokenFor]signedToken{}
	}
	st.tokens[want] = signedToken{iat, token}
}

// signToken makes a Google-like OIDC token.
func signToken(key *rsa.PrivateKey, issuer, audience, email string, iat time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: KeyID(&key.PublicKey)}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	std := jwt.Claims{
		Issuer:   issuer,
		Subject:  email,
		Audience: jwt.Audience{audience},
		IssuedAt: jwt.NewNumericDate(iat),
		Expiry:   jwt.NewNumericDate(iat.Add(tokenLifetime)),
	}
	extra := struct {
		AuthorizedParty string `json:"azp"`
		googleClaims
	}{email, googleClaims{Email: email, EmailVerified: true}}
	return jwt.Signed(signer).Claims(std).Claims(extra).Serialize()
}

// privateKey reads a PEM RSA private key.
func privateKey(pemKey []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return nil, errors.New("not a PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an RSA key", k)
	}
	return rk, nil
}

// KeyID returns the key id Sign gives a key: its RFC 7638 thumbprint
// (SHA-256, base64url).
func KeyID(pub *rsa.PublicKey) string {
	sum, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}

// PublicKeySet returns the JSON Web Key Set that verifies the tokens Sign
// makes with the PEM RSA private keys given: what settings.keys_url must
// serve for a source to accept them.
func PublicKeySet(pemKeys ...[]byte) ([]byte, error) {
	var set jose.JSONWebKeySet
	for i, p := range pemKeys {
		key, err := privateKey(p)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &key.PublicKey, KeyID: KeyID(&key.PublicKey), Algorithm: string(jose.RS256), Use: "sig"})
	}
	return json.Marshal(set)
}

// Delivery returns a push delivery of payload with message id id. A
// recorded delivery (an envelope) gets id written into it; any other
// payload (a stored Build resource or registry notification) becomes the
// data of a new envelope, with a Cloud Build message's attributes when
// typ is "cloud-build".
func (c *Connector) Delivery(typ, id string, payload []byte) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	var env map[string]json.RawMessage
	if json.Unmarshal(payload, &env) == nil && isObject(env["message"]) {
		var msg map[string]json.RawMessage
		if json.Unmarshal(env["message"], &msg) == nil {
			quoted, _ := json.Marshal(id)
			msg["messageId"], msg["message_id"] = quoted, quoted
			env["message"], _ = json.Marshal(msg)
			if body, err := json.Marshal(env); err == nil {
				return h, body
			}
		}
		return h, payload
	}
	attrs := map[string]string{}
	if typ == TypeCloudBuild {
		var b struct{ ID, Status string }
		if json.Unmarshal(payload, &b) == nil {
			attrs[AttrBuildID], attrs[AttrStatus] = b.ID, b.Status
		}
	}
	sub := sendSubscription
	if len(c.subscriptions) > 0 {
		sub = c.subscriptions[0]
	}
	now := c.clock().UTC().Format(time.RFC3339Nano)
	body, err := json.Marshal(map[string]any{
		"message": map[string]any{
			"attributes":   attrs,
			"data":         base64.StdEncoding.EncodeToString(payload),
			"messageId":    id,
			"message_id":   id,
			"publishTime":  now,
			"publish_time": now,
		},
		"subscription": sub,
	})
	if err != nil {
		return h, payload
	}
	return h, body
}

// clock returns the time Sign issues tokens at and Delivery publishes at.
func (c *Connector) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// isObject reports whether raw is a JSON object.
func isObject(raw json.RawMessage) bool {
	trimmed := bytes.TrimSpace(raw)
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// EventType returns the type the connector gives a recorded delivery or a
// stored payload: "cloud-build", "gcr" or "pubsub" for an envelope, as
// Parse would; "cloud-build" or "gcr" for a Build resource or a registry
// notification on its own; "" for anything else.
func (*Connector) EventType(_ http.Header, payload []byte) string {
	var env envelope
	if connectors.Decode(payload, &env) == nil && (env.Message.MessageID != "" || env.Message.MessageIDSnake != "") {
		data, err := base64.StdEncoding.DecodeString(env.Message.Data)
		if err != nil {
			return ""
		}
		return typeOf(env.Message.Attributes, data)
	}
	if _, ok := readNotification(payload); ok {
		return TypeGCR
	}
	var b cloudBuild
	if connectors.Decode(payload, &b) == nil && b.ID != "" && b.Status != "" && (b.LogURL != "" || b.CreateTime != "") {
		return TypeCloudBuild
	}
	return ""
}

var _ connectors.Simulator = (*Connector)(nil)
