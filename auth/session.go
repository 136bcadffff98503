package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/reflexops/reflex/state"
)

// Proof is what a web session keeps of the API key its operator signed in
// with: the key's name and the stored hash of the secret presented, never
// the secret itself.
type Proof struct {
	Name string `json:"name"`
	Hash string `json:"hash"`
	// Admin marks the REFLEX_ADMIN_KEY, which is no stored key.
	Admin bool `json:"admin,omitempty"`
}

// Login authenticates an API key (the bare "name.secret", or the admin
// key) as Authenticate does, and returns its caller and the proof a web
// session keeps to resume it.
func (a *Authenticator) Login(ctx context.Context, token string) (*Caller, Proof, error) {
	token = strings.TrimSpace(token)
	c, err := a.Authenticate(ctx, "Bearer "+token)
	if err != nil {
		return nil, Proof{}, err
	}
	if digest := sha256.Sum256([]byte(token)); a.hasAdmin && subtle.ConstantTimeCompare(digest[:], a.adminKey[:]) == 1 {
		return c, Proof{Name: MasterKey, Hash: a.adminHash(), Admin: true}, nil
	}
	name, secret, _ := splitKey(token)
	return c, Proof{Name: name, Hash: hashSecret(secret)}, nil
}

// adminHash is the admin key's hash as a proof keeps it.
func (a *Authenticator) adminHash() string { return "sha256:" + hex.EncodeToString(a.adminKey[:]) }

// Resume returns the caller of a session's proof for as long as its key
// still holds the secret the operator signed in with: deleting the key or
// that secret ends every session made with it, at its next request.
// Errors wrap ErrUnauthenticated when the proof no longer holds.
func (a *Authenticator) Resume(ctx context.Context, p Proof) (*Caller, error) {
	if p.Admin {
		if a.hasAdmin && subtle.ConstantTimeCompare([]byte(p.Hash), []byte(a.adminHash())) == 1 {
			return &Caller{Name: MasterKey, Master: true}, nil
		}
		return nil, fmt.Errorf("%w: the admin key changed", ErrUnauthenticated)
	}
	o, err := a.store.Object(ctx, state.TypeAPIKey, p.Name, 0)
	if errors.Is(err, state.ErrNotFound) {
		return nil, fmt.Errorf("%w: the API key was deleted", ErrUnauthenticated)
	}
	if err != nil {
		return nil, fmt.Errorf("read API key: %w", err)
	}
	ok := 0
	for _, s := range secretsOf(o) {
		ok |= subtle.ConstantTimeCompare([]byte(p.Hash), []byte(s.Hash))
	}
	if ok != 1 {
		return nil, fmt.Errorf("%w: the API key's secret was removed", ErrUnauthenticated)
	}
	return CallerOf(o), nil
}
