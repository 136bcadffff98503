package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reflexops/reflex/state"
)

// MasterKey is the name of the API key that may do everything.
const MasterKey = "master"

// secretBytes is the entropy of a generated secret: 256 bits.
const secretBytes = 32

// Secret is one stored secret of an API key: only its hash is kept.
type Secret struct {
	ID        string    `json:"id"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// newSecret returns a random secret and its stored form.
func newSecret(now time.Time) (string, Secret, error) {
	raw := make([]byte, secretBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", Secret{}, fmt.Errorf("generate secret: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	id := make([]byte, 4)
	if _, err := rand.Read(id); err != nil {
		return "", Secret{}, fmt.Errorf("generate secret id: %w", err)
	}
	return secret, Secret{ID: hex.EncodeToString(id), Hash: hashSecret(secret), CreatedAt: now.UTC().Truncate(time.Second)}, nil
}

// hashSecret is the stored form of a secret. A generated secret has 256
// bits of entropy, so a plain SHA-256 cannot be reversed by guessing.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// matches compares a presented secret with the stored hashes in constant
// time, trying every one so the time does not tell which matched.
func matches(secret string, stored []Secret) bool {
	got := []byte(hashSecret(secret))
	ok := 0
	for _, s := range stored {
		ok |= subtle.ConstantTimeCompare(got, []byte(s.Hash))
	}
	return ok == 1
}

// splitKey splits "name.secret".
func splitKey(token string) (name, secret string, ok bool) {
	name, secret, ok = strings.Cut(token, ".")
	return name, secret, ok && name != "" && secret != ""
}

// secretsOf reads the stored secrets of an apikey object.
func secretsOf(o *state.Object) []Secret {
	list, _ := o.Content["secrets"].([]any)
	out := make([]Secret, 0, len(list))
	for _, item := range list {
		m, _ := item.(map[string]any)
		id, _ := m["id"].(string)
		hash, _ := m["hash"].(string)
		created, _ := time.Parse(time.RFC3339, fmt.Sprint(m["created_at"]))
		out = append(out, Secret{ID: id, Hash: hash, CreatedAt: created})
	}
	return out
}

func secretsValue(list []Secret) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = map[string]any{"id": s.ID, "hash": s.Hash, "created_at": s.CreatedAt.Format(time.RFC3339)}
	}
	return out
}

// ErrManagedSecrets is returned when a client writes an API key's secrets
// directly.
var ErrManagedSecrets = fmt.Errorf("%w: field secrets: an API key's secrets are created by Reflex: use POST /api/v1/apikey/{name}/secrets and DELETE …/secrets/{id}", state.ErrInvalid)

// NewKeySecrets returns a new key for an API key named name and the
// stored form of its one secret, created at now, to put in the object's
// secrets field.
func NewKeySecrets(name string, now time.Time) (string, []any, error) {
	secret, stored, err := newSecret(now)
	if err != nil {
		return "", nil, err
	}
	return name + "." + secret, secretsValue([]Secret{stored}), nil
}

// CreateKey creates an API key object with one new secret and returns the
// key ("name.secret"), which is shown only this once.
func CreateKey(ctx context.Context, store *state.Store, o *state.Object, by string) (string, *state.Object, error) {
	if _, ok := o.Content["secrets"]; ok {
		return "", nil, ErrManagedSecrets
	}
	key, secrets, err := NewKeySecrets(o.Name, store.Now())
	if err != nil {
		return "", nil, err
	}
	o.Content["secrets"] = secrets
	created, err := store.Create(ctx, o, by)
	if err != nil {
		return "", nil, err
	}
	return key, created, nil
}

// KeepSecrets makes a client's replacement or merge of an API key leave its
// secrets as they are; writing them is refused.
func KeepSecrets(cur, next *state.Object, clientTouched bool) error {
	if clientTouched {
		return ErrManagedSecrets
	}
	if s, ok := cur.Content["secrets"]; ok {
		next.Content["secrets"] = s
	}
	return nil
}

// AddSecret adds a new secret to an API key, for rotation, and returns the
// new key; the old secrets stay valid until removed.
func AddSecret(ctx context.Context, store *state.Store, name, by string) (string, *state.Object, error) {
	var secret string
	o, _, err := store.Update(ctx, state.TypeAPIKey, name, 0, by, func(cur *state.Object) (*state.Object, error) {
		s, stored, err := newSecret(store.Now())
		if err != nil {
			return nil, err
		}
		secret = s
		next := cur.Copy()
		next.Content["secrets"] = secretsValue(append(secretsOf(cur), stored))
		return next, nil
	})
	if err != nil {
		return "", nil, err
	}
	return name + "." + secret, o, nil
}

// RemoveSecret removes one secret of an API key by its id. The last secret
// cannot be removed: delete the key instead.
func RemoveSecret(ctx context.Context, store *state.Store, name, id, by string) (*state.Object, error) {
	o, _, err := store.Update(ctx, state.TypeAPIKey, name, 0, by, func(cur *state.Object) (*state.Object, error) {
		list := secretsOf(cur)
		i := slices.IndexFunc(list, func(s Secret) bool { return s.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("apikey %q has no secret %q: %w", name, id, state.ErrNotFound)
		}
		if len(list) == 1 {
			return nil, fmt.Errorf("%w: apikey %q has only this secret; delete the key instead", state.ErrInvalid, name)
		}
		next := cur.Copy()
		next.Content["secrets"] = secretsValue(slices.Delete(list, i, i+1))
		return next, nil
	})
	return o, err
}

// Bootstrap makes sure a master credential exists. With adminKey set, that
// key is the master credential and nothing is stored. Otherwise, when no
// master API key exists yet, one is created and its key returned, to be
// shown once; "" means none was created.
func Bootstrap(ctx context.Context, store *state.Store, adminKey string) (string, error) {
	if adminKey != "" {
		return "", nil
	}
	_, err := store.Object(ctx, state.TypeAPIKey, MasterKey, 0)
	if err == nil {
		return "", nil
	}
	if !errors.Is(err, state.ErrNotFound) {
		return "", err
	}
	o := state.NewObject(state.TypeAPIKey, map[string]any{"name": MasterKey, "description": "created at first start; may do everything"})
	key, _, err := CreateKey(ctx, store, o, "reflex")
	if errors.Is(err, state.ErrExists) {
		return "", nil // another replica created it first
	}
	return key, err
}
