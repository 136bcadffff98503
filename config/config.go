// Package config reads and validates Reflex's YAML configuration file: the
// declarative description of an installation. Process settings (address,
// limits) are flags and REFLEX_* variables read in cmd/reflex.
package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registry"
	"github.com/reflexops/reflex/internal/ratelimit"
	"github.com/reflexops/reflex/state"
)

// Config is the configuration file.
type Config struct {
	// Sources declares where webhooks come from. Default: none, so every
	// webhook is answered 404.
	Sources []SourceSpec `yaml:"sources"`
	// Encryption holds the keys that seal objects' sensitive parts.
	// Default: none, and objects with a sensitive part are refused.
	Encryption *EncryptionSpec `yaml:"encryption"`
	// Policies, Scopes, Groups and APIKeys declare live-state objects of
	// those types, each as its fields (see docs/policies.md). API keys are
	// declared by name, description and groups: never their secrets.
	Policies []map[string]any `yaml:"policies"`
	Scopes   []map[string]any `yaml:"scopes"`
	Groups   []map[string]any `yaml:"groups"`
	APIKeys  []map[string]any `yaml:"apikeys"`
	// Triggers declare which events start deliveries (docs/delivery.md).
	Triggers []map[string]any `yaml:"triggers"`
	// Delivery holds this server's delivery settings: the key that signs
	// jobs and the GitHub token that reports deployments. Default: none,
	// and triggers queue nothing.
	Delivery *DeliverySpec `yaml:"delivery"`
	// Hooks holds how this server reaches the providers' webhook APIs,
	// for the hooks sources declare (docs/hooks.md). Default: none, and
	// declared hooks cannot be planned or applied here.
	Hooks *HooksSpec `yaml:"hooks"`
}

// DeliverySpec is a server's delivery configuration.
type DeliverySpec struct {
	// Signing holds the Ed25519 keys that sign jobs: each secret is a
	// base64 seed from `reflex keys generate`. New jobs are signed with the
	// primary key; agents trust the public keys they are given.
	Signing *EncryptionSpec `yaml:"signing"`
	// GitHub, when set, reports deliveries of GitHub events as GitHub
	// deployments.
	GitHub *GitHubSpec `yaml:"github"`
}

// GitHubSpec is how Reflex reaches the GitHub API.
type GitHubSpec struct {
	// Token is a token with the deployments permission, as a secret
	// reference. Required.
	Token string `yaml:"token"`
	// APIURL is the API's base URL for GitHub Enterprise Server
	// (https://HOST/api/v3/). Default: github.com.
	APIURL string `yaml:"api_url"`
}

// EncryptionSpec declares the AES-256 keys for sensitive parts. Several
// keys let one be rotated: new writes use the primary key, and every listed
// key still opens what it sealed.
type EncryptionSpec struct {
	// Primary is the id of the key new writes use. Required with more than
	// one key.
	Primary string `yaml:"primary"`
	// Keys are the keys, each 32 random bytes in base64 (e.g. from
	// `openssl rand -base64 32`), given as a secret reference.
	Keys []KeySpec `yaml:"keys"`
}

// KeySpec declares one encryption key.
type KeySpec struct {
	// ID names the key in what it seals. Required.
	ID string `yaml:"id"`
	// Secret is the base64 key: a literal, "env:NAME" or "file:PATH".
	Secret string `yaml:"secret"`
}

// SourceSpec declares one webhook source as written in the file.
type SourceSpec struct {
	// Name identifies the source; webhooks are posted to /hooks/<name>.
	// Lower-case letters, digits, '.', '_' and '-'. Required.
	Name string `yaml:"name"`
	// Connector names the provider's connector, e.g. "github". Required.
	Connector string `yaml:"connector"`
	// Secrets are the shared secrets deliveries may be signed with, each a
	// literal, "env:NAME" or "file:PATH". Several at once let a secret be
	// rotated without downtime. At least one is required.
	Secrets []string `yaml:"secrets"`
	// MaxBody is the largest delivery the source accepts, e.g. "1MiB".
	// Default: the server's --max-body, which it may only lower.
	MaxBody string `yaml:"max_body"`
	// RateLimit bounds the deliveries this source takes, per replica: a
	// token bucket of per_second and burst (default: a second's worth),
	// checked before the body is read; beyond it the sender gets 429 and
	// Retry-After. Default: the server's --webhook-rate, off unless set.
	RateLimit *ratelimit.Rate `yaml:"rate_limit"`
	// Hooks declares where the source's webhooks must exist at a
	// provider (docs/hooks.md): `reflex hooks plan` and `apply` create
	// and keep them. With hooks and no secret, one is generated and kept
	// sealed in live state. Default: none.
	Hooks *SourceHooksSpec `yaml:"hooks"`
	// ConfirmPassword is the password or token a connector that confirms
	// events with its provider (settings.confirm: a registry, Jenkins)
	// authenticates with: a literal, "env:NAME" or "file:PATH". Default:
	// none (anonymous access).
	ConfirmPassword string `yaml:"confirm_password"`
	// Settings are the connector's own settings (header names,
	// tolerances, public keys, normalization paths); `reflex connectors
	// NAME` shows which a connector takes. Default: none.
	Settings map[string]any `yaml:"settings"`
}

// Source is a validated source, ready for the intake.
type Source struct {
	// Name identifies the source.
	Name string
	// Connector verifies and normalizes the source's deliveries.
	Connector connectors.Connector
	// Secrets are the resolved secrets, none of them empty.
	Secrets [][]byte
	// MaxBody is the source's own body limit; 0 leaves the server's.
	MaxBody int64
	// RateLimit is the source's own rate limit; a zero Rate leaves the
	// server's.
	RateLimit ratelimit.Rate
	// Confirm is what the connector confirms events with, when it is a
	// connectors.Confirmer: the confirmation password (the connector's
	// settings name the user).
	Confirm connectors.Credential
}

var sourceName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Load reads, decodes and validates a configuration file and resolves its
// secrets. Unknown fields are errors that name the field.
func Load(path string) (*Config, []Source, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("config %s: %w", path, err)
	}
	sources, err := cfg.ResolveSources()
	if err != nil {
		return nil, nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, sources, nil
}

// Parse decodes a configuration document strictly and checks its shape.
// Secrets are not resolved.
func Parse(raw []byte) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, oneLine(err)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (c *Config) validate() error {
	if err := c.Encryption.validate(); err != nil {
		return fmt.Errorf("encryption: %w", err)
	}
	if err := c.Hooks.validate(); err != nil {
		return fmt.Errorf("hooks: %w", err)
	}
	if d := c.Delivery; d != nil {
		if err := d.Signing.validate(); err != nil {
			return fmt.Errorf("delivery.signing: %w", err)
		}
		if d.GitHub != nil && d.GitHub.Token == "" {
			return errors.New("delivery.github: token is required")
		}
	}
	seen := map[string]bool{}
	for i, s := range c.Sources {
		where := fmt.Sprintf("sources[%d]", i)
		if s.Name != "" {
			where = fmt.Sprintf("source %q", s.Name)
		}
		switch {
		case s.Name == "":
			return fmt.Errorf("%s: name is required", where)
		case !sourceName.MatchString(s.Name):
			return fmt.Errorf("%s: name must be 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", where)
		case seen[s.Name]:
			return fmt.Errorf("%s: declared twice", where)
		case s.Connector == "":
			return fmt.Errorf("%s: connector is required (known: %s)", where, strings.Join(registry.Names(), ", "))
		}
		conn, err := registry.Configure(s.Connector, s.Settings)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if s.Hooks != nil {
			if err := s.Hooks.validate(); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
		if len(s.Secrets) == 0 && !HoldsKeys(conn) && s.Hooks == nil {
			return fmt.Errorf("%s: at least one secret is required (or hooks, for which one is generated); an unsigned source would accept anyone's webhooks", where)
		}
		if _, ok := conn.(connectors.Confirmer); s.ConfirmPassword != "" && !ok {
			return fmt.Errorf("%s: confirm_password: the %s connector confirms nothing with its provider", where, s.Connector)
		}
		if s.MaxBody != "" {
			if _, err := ParseSize(s.MaxBody); err != nil {
				return fmt.Errorf("%s: max_body: %w", where, err)
			}
		}
		if s.RateLimit != nil {
			if err := s.RateLimit.Validate(); err != nil {
				return fmt.Errorf("%s: rate_limit: %w", where, err)
			}
		}
		seen[s.Name] = true
	}
	return nil
}

func (e *EncryptionSpec) validate() error {
	if e == nil {
		return nil
	}
	if len(e.Keys) == 0 {
		return errors.New("at least one key is required")
	}
	ids := map[string]bool{}
	for i, k := range e.Keys {
		switch {
		case k.ID == "":
			return fmt.Errorf("keys[%d]: id is required", i)
		case ids[k.ID]:
			return fmt.Errorf("keys[%d]: id %q declared twice", i, k.ID)
		case k.Secret == "":
			return fmt.Errorf("key %q: secret is required", k.ID)
		}
		ids[k.ID] = true
	}
	switch {
	case e.Primary == "" && len(e.Keys) > 1:
		return errors.New("primary is required with more than one key: name the key new writes use")
	case e.Primary != "" && !ids[e.Primary]:
		return fmt.Errorf("primary %q is not among the keys", e.Primary)
	}
	return nil
}

// SigningKey resolves the primary delivery signing key: its id and base64
// seed; "" when none is configured.
func (c *Config) SigningKey() (id, seed string, err error) {
	if c.Delivery == nil || c.Delivery.Signing == nil {
		return "", "", nil
	}
	s := c.Delivery.Signing
	id = s.Primary
	if id == "" {
		id = s.Keys[0].ID
	}
	for _, k := range s.Keys {
		if k.ID == id {
			raw, err := ResolveSecret(k.Secret)
			if err != nil {
				return "", "", fmt.Errorf("delivery signing key %q: %w", k.ID, err)
			}
			return id, string(raw), nil
		}
	}
	return "", "", fmt.Errorf("delivery signing key %q is not declared", id)
}

// OwnSecretRefs returns the secret references of the server's own keys:
// encryption, delivery signing and the GitHub token. No source may use
// them.
func (c *Config) OwnSecretRefs() []string {
	var out []string
	if c.Encryption != nil {
		for _, k := range c.Encryption.Keys {
			out = append(out, k.Secret)
		}
	}
	if d := c.Delivery; d != nil {
		if d.Signing != nil {
			for _, k := range d.Signing.Keys {
				out = append(out, k.Secret)
			}
		}
		if d.GitHub != nil {
			out = append(out, d.GitHub.Token)
		}
	}
	return out
}

// KeyRing resolves the encryption keys; nil when none are configured.
func (c *Config) KeyRing() (*state.KeyRing, error) {
	e := c.Encryption
	if e == nil {
		return nil, nil
	}
	keys := make([]state.Key, 0, len(e.Keys))
	for _, k := range e.Keys {
		raw, err := ResolveSecret(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("encryption key %q: %w", k.ID, err)
		}
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(secret) != 32 {
			return nil, fmt.Errorf("encryption key %q: want 32 bytes in base64 (openssl rand -base64 32)", k.ID)
		}
		keys = append(keys, state.Key{ID: k.ID, Secret: secret})
	}
	primary := e.Primary
	if primary == "" {
		primary = e.Keys[0].ID
	}
	return state.NewKeyRing(keys, primary)
}

// ResolveSources resolves every source's secrets and connector. An empty or
// missing secret is an error, never an open door.
func (c *Config) ResolveSources() ([]Source, error) {
	out := make([]Source, 0, len(c.Sources))
	for _, s := range c.Sources {
		conn, err := registry.Configure(s.Connector, s.Settings)
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", s.Name, err)
		}
		src := Source{Name: s.Name, Connector: conn}
		if s.MaxBody != "" {
			if src.MaxBody, err = ParseSize(s.MaxBody); err != nil {
				return nil, fmt.Errorf("source %q: max_body: %w", s.Name, err)
			}
		}
		if s.RateLimit != nil {
			src.RateLimit = *s.RateLimit
		}
		for i, ref := range s.Secrets {
			secret, err := ResolveSecret(ref)
			if err != nil {
				return nil, fmt.Errorf("source %q: secrets[%d]: %w", s.Name, i, err)
			}
			src.Secrets = append(src.Secrets, secret)
		}
		if s.ConfirmPassword != "" {
			pw, err := ResolveSecret(s.ConfirmPassword)
			if err != nil {
				return nil, fmt.Errorf("source %q: confirm_password: %w", s.Name, err)
			}
			src.Confirm.Password = string(pw)
		}
		out = append(out, src)
	}
	return out, nil
}

// HoldsKeys reports whether a configured connector verifies with keys of
// its own settings (public keys), so its source needs no shared secret.
func HoldsKeys(conn connectors.Connector) bool {
	kh, ok := conn.(connectors.KeyHolder)
	return ok && kh.HasKeys()
}

// ResolveSecret returns the value of a secret reference: "env:NAME" reads an
// environment variable, "file:PATH" a file (without its trailing newline),
// anything else is the secret itself. Errors never contain the value.
func ResolveSecret(ref string) ([]byte, error) {
	var value string
	switch {
	case strings.HasPrefix(ref, "env:"):
		name := strings.TrimPrefix(ref, "env:")
		if name == "" {
			return nil, errors.New(`"env:" needs a variable name`)
		}
		value = os.Getenv(name)
		if value == "" {
			return nil, fmt.Errorf("environment variable %s is empty or not set", name)
		}
	case strings.HasPrefix(ref, "file:"):
		path := strings.TrimPrefix(ref, "file:")
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read secret file: %w", err)
		}
		value = strings.TrimRight(string(raw), "\r\n")
		if value == "" {
			return nil, fmt.Errorf("secret file %s is empty", path)
		}
	default:
		value = ref
		if value == "" {
			return nil, errors.New("secret is empty")
		}
	}
	return []byte(value), nil
}

// oneLine folds yaml.v3's multi-line error lists into one line, and
// writes a line break the error quotes from the document as \n.
func oneLine(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	msg = strings.ReplaceAll(msg, "\n", `\n`)
	return errors.New(msg)
}
