package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/reflexops/reflex/state"
)

// ErrUnauthenticated is returned for a missing, malformed or wrong key.
var ErrUnauthenticated = errors.New("unauthenticated")

// Caller is who makes a request: an API key, or a webhook source.
type Caller struct {
	// Kind is "apikey" (or empty) for API keys, "source" for webhooks.
	Kind string
	// Name is the API key's name ("master" for the admin key), or the
	// source's name.
	Name string
	// Master is true for the master key, which may do everything.
	Master bool
	// Groups are the key's groups, for policies.
	Groups []string
	// Source and Connector name a webhook caller's source.
	Source, Connector string
}

// Authenticator turns bearer tokens into callers.
type Authenticator struct {
	store    *state.Store
	adminKey [32]byte
	hasAdmin bool

	mu    sync.Mutex
	cache map[[32]byte]cached
	ttl   time.Duration
}

type cached struct {
	caller  *Caller
	expires time.Time
}

// DefaultCacheTTL is how long a verified key is trusted without reading it
// again: a deleted key or secret stops working within this time.
const DefaultCacheTTL = 5 * time.Second

// maxCached bounds the cache; beyond it, the cache is emptied.
const maxCached = 10000

// NewAuthenticator returns an authenticator over the store's API keys and,
// when adminKey is set, that key as a master credential (REFLEX_ADMIN_KEY).
// Verified keys are trusted for cacheTTL (DefaultCacheTTL when 0).
func NewAuthenticator(store *state.Store, adminKey string, cacheTTL time.Duration) *Authenticator {
	if cacheTTL <= 0 {
		cacheTTL = DefaultCacheTTL
	}
	return &Authenticator{
		store: store, adminKey: sha256.Sum256([]byte(adminKey)), hasAdmin: adminKey != "",
		cache: map[[32]byte]cached{}, ttl: cacheTTL,
	}
}

// Authenticate returns the caller an "Authorization" header value names.
// Errors wrap ErrUnauthenticated with a message a person can act on, and
// never contain the token.
func (a *Authenticator) Authenticate(ctx context.Context, authorization string) (*Caller, error) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || token == "" {
		return nil, fmt.Errorf("%w: missing API key: send Authorization: Bearer <name.secret>", ErrUnauthenticated)
	}
	digest := sha256.Sum256([]byte(token))
	if a.hasAdmin && subtle.ConstantTimeCompare(digest[:], a.adminKey[:]) == 1 {
		return &Caller{Name: MasterKey, Master: true}, nil
	}
	if c := a.cached(digest); c != nil {
		return c, nil
	}
	name, secret, ok := splitKey(token)
	if !ok {
		return nil, fmt.Errorf("%w: an API key has the form name.secret", ErrUnauthenticated)
	}
	o, err := a.store.Object(ctx, state.TypeAPIKey, name, 0)
	if errors.Is(err, state.ErrNotFound) {
		return nil, fmt.Errorf("%w: invalid API key", ErrUnauthenticated)
	}
	if err != nil {
		return nil, fmt.Errorf("read API key: %w", err)
	}
	if !matches(secret, secretsOf(o)) {
		return nil, fmt.Errorf("%w: invalid API key", ErrUnauthenticated)
	}
	c := &Caller{Name: name, Master: name == MasterKey, Groups: o.Strings("groups")}
	a.remember(digest, c)
	return c, nil
}

func (a *Authenticator) cached(digest [32]byte) *Caller {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.cache[digest]; ok && time.Now().Before(e.expires) {
		return e.caller
	}
	return nil
}

func (a *Authenticator) remember(digest [32]byte, c *Caller) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= maxCached {
		clear(a.cache)
	}
	a.cache[digest] = cached{caller: c, expires: time.Now().Add(a.ttl)}
}
