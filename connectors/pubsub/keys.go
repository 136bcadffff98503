package pubsub

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// minKeyBits is the smallest RSA key accepted; Google's are 2048 bits.
const minKeyBits = 2048

// keySet is the RSA signing keys of one fetched JWKS document, by key id.
type keySet struct {
	// body is the document they were parsed from, as the cache holds it.
	body []byte
	keys map[string]*rsa.PublicKey
	// err says why the document gives no key.
	err error
}

// keySet returns the key set of body, parsing it only when it is not the
// document parsed last: the cache returns the same slice for as long as
// it keeps a document, so a document is parsed once per fetch.
func (c *Connector) keySet(body []byte) *keySet {
	if s := c.keys.Load(); s != nil && sameSlice(s.body, body) {
		return s
	}
	s := parseKeySet(body)
	c.keys.Store(s)
	return s
}

// sameSlice reports whether a and b are the same bytes in memory.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// parseKeySet reads a JSON Web Key Set, keeping the RSA public keys that
// may verify an RS256 signature: with a key id, for use "sig" (or no use),
// for alg RS256 (or no alg), of at least minKeyBits. A key it cannot read
// (another key type, say) is skipped, not fatal.
func parseKeySet(body []byte) *keySet {
	s := &keySet{body: body, keys: map[string]*rsa.PublicKey{}}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		s.err = fmt.Errorf("it is not a JSON Web Key Set: %v", err)
		return s
	}
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || k.KeyID == "" || pub.N.BitLen() < minKeyBits ||
			(k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != string(jose.RS256)) {
			continue
		}
		s.keys[k.KeyID] = pub
	}
	if len(s.keys) == 0 {
		s.err = errors.New("it holds no RSA signing key")
	}
	return s
}

// hostOf names the key endpoint in errors.
func hostOf(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		return u.Host
	}
	return "the key endpoint"
}

// maxTokens bounds the tokens remembered. Pub/Sub sends the same token
// with every delivery of a subscription until it nears its expiry, so a
// source sees few at a time.
const maxTokens = 256

// tokenCache remembers the tokens whose signature verified, by their
// SHA-256, so a token Pub/Sub sends again costs a hash rather than an RSA
// verification. An entry holds for the key set it verified with: once
// the cache holds another document (a new fetch, after a rotation), the
// token is verified again. Its claims are checked on every delivery.
type tokenCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]tokenEntry
}

// tokenEntry is a token whose signature verified with a key of set.
type tokenEntry struct {
	claims *tokenClaims
	set    *keySet
}

func (tc *tokenCache) get(sum [sha256.Size]byte) (tokenEntry, bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	e, ok := tc.entries[sum]
	return e, ok
}

// put remembers a token, making room by dropping the expired ones, or
// all of them when none has expired.
func (tc *tokenCache) put(sum [sha256.Size]byte, e tokenEntry, now time.Time) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.entries == nil {
		tc.entries = map[[sha256.Size]byte]tokenEntry{}
	}
	if len(tc.entries) >= maxTokens {
		for k, old := range tc.entries {
			if old.claims.Expiry == nil || old.claims.Expiry.Time().Add(Leeway).Before(now) {
				delete(tc.entries, k)
			}
		}
		if len(tc.entries) >= maxTokens {
			clear(tc.entries)
		}
	}
	tc.entries[sum] = e
}
