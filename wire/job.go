// Package wire holds what crosses between Reflex and its agents: the agent
// API's paths and messages, the signed jobs, and the reports.
package wire

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Job is what a delivery asks an agent to do. It names an action and its
// parameters, never a command line: the agent runs only actions it defines
// itself.
type Job struct {
	// ID is the delivery id, derived from the trigger and the event, so a
	// redelivered webhook never deploys twice.
	ID      string            `json:"id"`
	Zone    string            `json:"zone"`
	Service string            `json:"service"`
	Action  string            `json:"action"`
	Params  map[string]string `json:"params,omitempty"`
	Trigger string            `json:"trigger,omitempty"`
	Release string            `json:"release,omitempty"`
	// Event identifies the event that caused the delivery.
	Event EventRef `json:"event"`
	// Delivery is the original verified delivery, when the trigger
	// forwards it to an agent's forward action.
	Delivery *Forwarded `json:"delivery,omitempty"`
	// Sequence orders the jobs of one service: each job Reflex queues for
	// a service has a higher one than the last, an operator's retry
	// included. An agent refuses a job below one it already finished for
	// the service, so an old signed job can never take it back.
	Sequence uint64 `json:"sequence,omitempty"`
	// IssuedAt and ExpiresAt bound when an agent may run the job.
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// MaxForwarded bounds the payload a job carries for a forward action.
const MaxForwarded = 1 << 20

// Forwarded is a provider's delivery as Reflex verified it, for an agent to
// hand on inside the network.
type Forwarded struct {
	// Connector names the provider's connector, e.g. github.
	Connector string `json:"connector"`
	// Type is the provider's event type, e.g. push.
	Type string `json:"type"`
	// ID is the provider's delivery id, kept so the receiver can dedupe.
	ID string `json:"id"`
	// Payload is the provider's document, byte for byte.
	Payload []byte `json:"payload"`
}

// EventRef identifies an event.
type EventRef struct {
	ID         string `json:"id"`
	Source     string `json:"source"`
	Connector  string `json:"connector,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Repository string `json:"repository,omitempty"`
	Commit     string `json:"commit,omitempty"`
	// Image and Digest name the artifact the event published, if any.
	Image  string `json:"image,omitempty"`
	Digest string `json:"digest,omitempty"`
	// RequestID is the id of the webhook request that brought the event
	// in (event.Event's RequestID): the agent logs it with the job, sends
	// it in X-Request-Id with its calls about the job, and gives it to
	// the action as REFLEX_REQUEST_ID. A label, never trusted for anything
	// else.
	RequestID string `json:"request_id,omitempty"`
}

// ID derives a delivery id from a trigger and an event.
func ID(trigger, source, eventID string) string {
	sum := sha256.Sum256([]byte(trigger + "\x00" + source + "\x00" + eventID))
	return "d-" + hex.EncodeToString(sum[:10])
}

// envelope is a signed job as offered to agents: the signature covers the exact
// bytes of body.
type envelope struct {
	Key  string          `json:"key"`
	Sig  string          `json:"sig"`
	Body json.RawMessage `json:"body"`
}

// Signer signs jobs with Reflex's private key.
type Signer struct {
	keyID string
	key   ed25519.PrivateKey
}

// NewSigner returns a signer for a key id and a base64 Ed25519 seed.
func NewSigner(keyID, seed string) (*Signer, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(seed))
	if err != nil || len(raw) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing key %q: want a %d-byte Ed25519 seed in base64 (reflex keys generate)", keyID, ed25519.SeedSize)
	}
	return &Signer{keyID: keyID, key: ed25519.NewKeyFromSeed(raw)}, nil
}

// PublicKey returns the base64 public key agents verify with.
func (s *Signer) PublicKey() string {
	return base64.StdEncoding.EncodeToString(s.key.Public().(ed25519.PublicKey))
}

// Sign returns a job signed, as agents are offered it.
func (s *Signer) Sign(j *Job) ([]byte, error) {
	body, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("encode job: %w", err)
	}
	return json.Marshal(envelope{Key: s.keyID, Sig: base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, body)), Body: body})
}

// GenerateKey returns a new Ed25519 key: the private seed and the public
// key, both base64.
func GenerateKey() (seed, public string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate signing key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(priv.Seed()), base64.StdEncoding.EncodeToString(pub), nil
}

// Errors of Verify: every one means the job must not run.
var (
	ErrUnsigned     = errors.New("the job is not signed")
	ErrUnknownKey   = errors.New("the job is signed with a key this agent does not trust")
	ErrBadSignature = errors.New("the job's signature does not match: it was altered or forged")
)

// Verifier checks jobs against the public keys an agent trusts, by key id.
// Several keys let the signing key be rotated.
type Verifier map[string]ed25519.PublicKey

// ParsePublicKey adds "id=base64" to the verifier.
func (v Verifier) ParsePublicKey(spec string) error {
	id, b64, ok := strings.Cut(spec, "=")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if !ok || id == "" || err != nil || len(raw) != ed25519.PublicKeySize {
		return fmt.Errorf("public key %q: want id=BASE64 with a %d-byte Ed25519 public key", id, ed25519.PublicKeySize)
	}
	v[id] = raw
	return nil
}

// Verify checks a signed job and returns it. The job's id, when it
// can be read, is returned even with an error, so a refusal can be
// recorded against it.
func (v Verifier) Verify(payload []byte) (*Job, error) {
	var env envelope
	if err := json.Unmarshal(payload, &env); err != nil || len(env.Body) == 0 {
		return nil, ErrUnsigned
	}
	var j Job
	_ = json.Unmarshal(env.Body, &j)
	if env.Sig == "" {
		return &j, ErrUnsigned
	}
	pub, ok := v[env.Key]
	if !ok {
		return &j, fmt.Errorf("%w (key %q)", ErrUnknownKey, env.Key)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Sig)
	if err != nil || !ed25519.Verify(pub, env.Body, sig) {
		return &j, ErrBadSignature
	}
	return &j, nil
}
