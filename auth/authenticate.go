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
	// Kind is "apikey" (or empty) for API keys, KindAgent for an agent's
	// key, "source" for webhooks.
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
	// Zone is the zone an agent's key is bound to: the only zone whose
	// deliveries it may take. It comes from the key, never from a request.
	Zone string
}

// KindAgent is the Kind of a caller holding an agent's key.
const KindAgent = "agent"

// Authenticator turns bearer tokens into callers.
type Authenticator struct {
	// Now is the clock of the cache of verified keys, set before first use.
	// Default time.Now.
	Now func() time.Time

	store    *state.Store
	adminKey [32]byte
	hasAdmin bool

	mu    sync.Mutex
	cache map[[32]byte]cached
	ttl   time.Duration
	// forgotten counts, per key name, how often it was forgotten: a key
	// read before a Forget is not cached after it.
	forgotten map[string]uint64
}

type cached struct {
	caller  *Caller
	expires time.Time
}

// Fresh is Authenticate without the cache: the key is read again, for
// decisions that must see a revocation at once (an open watch stream when
// its key changes).
func (a *Authenticator) Fresh(ctx context.Context, authorization string) (*Caller, error) {
	a.Forget(keyName(authorization))
	return a.Authenticate(ctx, authorization)
}

// Forget drops what the cache holds for the API key named name, so its
// next use reads it again: called when the key changes or is deleted.
func (a *Authenticator) Forget(name string) {
	if name == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.forgotten) >= maxCached {
		clear(a.forgotten) // a read racing with this is then just not cached
	}
	a.forgotten[name]++
	for digest, e := range a.cache {
		if e.caller.Name == name {
			delete(a.cache, digest)
		}
	}
}

// Run forgets cached keys as they change, on this and every other
// replica, until ctx ends: a deleted key or secret stops working as soon
// as the change reaches the replica, not when its cache entry expires.
func (a *Authenticator) Run(ctx context.Context, hub *state.Hub) {
	for ctx.Err() == nil {
		sub := hub.SubscribeTypes(state.TypeAPIKey)
		a.mu.Lock()
		clear(a.cache) // changes may have been missed while unsubscribed
		a.mu.Unlock()
		a.follow(ctx, sub)
		sub.Close()
	}
}

func (a *Authenticator) follow(ctx context.Context, sub *state.Subscription) {
	for {
		select {
		case <-ctx.Done():
			return
		case ch, ok := <-sub.C:
			if !ok {
				return
			}
			a.Forget(ch.Name)
		}
	}
}

// keyName returns the name part of a bearer token, "" when it has none.
func keyName(authorization string) string {
	token, _ := strings.CutPrefix(authorization, "Bearer ")
	name, _, _ := splitKey(token)
	return name
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
		Now:   time.Now,
		store: store, adminKey: sha256.Sum256([]byte(adminKey)), hasAdmin: adminKey != "",
		cache: map[[32]byte]cached{}, ttl: cacheTTL, forgotten: map[string]uint64{},
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
	generation := a.generation(name)
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
	c := CallerOf(o)
	a.remember(digest, c, generation)
	return c, nil
}

// CallerOf returns the caller an API key object makes: its name, groups,
// and, for an agent's key, its kind and zone.
func CallerOf(o *state.Object) *Caller {
	c := &Caller{Name: o.Name, Master: o.Name == MasterKey, Groups: o.Strings("groups")}
	if kind, _ := o.Content["kind"].(string); kind == KindAgent {
		c.Kind = KindAgent
		c.Zone, _ = o.Content["zone"].(string)
	}
	return c
}

func (a *Authenticator) cached(digest [32]byte) *Caller {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.cache[digest]; ok && a.Now().Before(e.expires) {
		return e.caller
	}
	return nil
}

// generation returns how often the key named name was forgotten so far.
func (a *Authenticator) generation(name string) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.forgotten[name]
}

// remember caches a verified key, unless it was forgotten since it was
// read (generation).
func (a *Authenticator) remember(digest [32]byte, c *Caller, generation uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.forgotten[c.Name] != generation {
		return
	}
	if len(a.cache) >= maxCached {
		clear(a.cache)
	}
	a.cache[digest] = cached{caller: c, expires: a.Now().Add(a.ttl)}
}
