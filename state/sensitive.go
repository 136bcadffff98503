package state

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// ErrNoKey is returned when a sensitive part must be written or read and no
// suitable encryption key is configured.
var ErrNoKey = errors.New("no encryption key")

// Key is one AES-256 key for sensitive parts.
type Key struct {
	// ID names the key in what it sealed, so old data stays readable after
	// a new key takes over.
	ID string
	// Secret is the 32-byte key.
	Secret []byte
}

// KeyRing seals sensitive parts with AES-256-GCM under its primary key and
// opens them with whichever key sealed them.
type KeyRing struct {
	primary string
	aeads   map[string]cipher.AEAD
}

// NewKeyRing returns a key ring that seals with the key named primary.
func NewKeyRing(keys []Key, primary string) (*KeyRing, error) {
	kr := &KeyRing{primary: primary, aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if k.ID == "" {
			return nil, errors.New("encryption key without an id")
		}
		if _, dup := kr.aeads[k.ID]; dup {
			return nil, fmt.Errorf("encryption key %q declared twice", k.ID)
		}
		if len(k.Secret) != 32 {
			return nil, fmt.Errorf("encryption key %q: want 32 bytes (AES-256), got %d", k.ID, len(k.Secret))
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("encryption key %q: %w", k.ID, err)
		}
		if kr.aeads[k.ID], err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("encryption key %q: %w", k.ID, err)
		}
	}
	if _, ok := kr.aeads[primary]; !ok && len(keys) > 0 {
		return nil, fmt.Errorf("the primary encryption key %q is not among the keys", primary)
	}
	return kr, nil
}

// sealed is the stored form of a sensitive part.
type sealed struct {
	Key   string `json:"key"`
	Nonce string `json:"nonce"`
	Data  string `json:"data"`
}

// seal encrypts plaintext, bound to aad (the object's type and name) so a
// sealed part cannot be moved to another object.
func (kr *KeyRing) seal(plaintext []byte, aad string) (*sealed, error) {
	if kr == nil || kr.primary == "" {
		return nil, fmt.Errorf("%w: objects with a sensitive part need an encryption key (see encryption in the configuration)", ErrNoKey)
	}
	aead := kr.aeads[kr.primary]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	enc := base64.StdEncoding
	return &sealed{
		Key:   kr.primary,
		Nonce: enc.EncodeToString(nonce),
		Data:  enc.EncodeToString(aead.Seal(nil, nonce, plaintext, []byte(aad))),
	}, nil
}

// open decrypts a sealed part.
func (kr *KeyRing) open(s *sealed, aad string) ([]byte, error) {
	if kr == nil {
		return nil, fmt.Errorf("%w: cannot read a sensitive part sealed with key %q", ErrNoKey, s.Key)
	}
	aead, ok := kr.aeads[s.Key]
	if !ok {
		return nil, fmt.Errorf("%w: the sensitive part was sealed with key %q, which is not configured", ErrNoKey, s.Key)
	}
	enc := base64.StdEncoding
	nonce, err := enc.DecodeString(s.Nonce)
	if err != nil {
		return nil, fmt.Errorf("sealed nonce: %w", err)
	}
	data, err := enc.DecodeString(s.Data)
	if err != nil {
		return nil, fmt.Errorf("sealed data: %w", err)
	}
	if len(nonce) != aead.NonceSize() {
		return nil, errors.New("sealed nonce has the wrong size")
	}
	plain, err := aead.Open(nil, nonce, data, []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("open sensitive part: %w", err)
	}
	return plain, nil
}
