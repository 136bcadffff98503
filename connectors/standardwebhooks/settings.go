package standardwebhooks

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/pathnorm"
	"github.com/reflexops/reflex/connectors/schemes"
)

// DefaultEventType is the path of the event type when settings.event_type
// is not set: the specification's "type".
const DefaultEventType = "type"

// maxPublicKeys bounds settings.public_keys: each is tried on every v1a
// signature.
const maxPublicKeys = 8

// settingsSchema is the JSON Schema of a source's settings.
var settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "tolerance": {
      "description": "How far webhook-timestamp may lie from the receive time, either way, as a Go duration. Default \"5m\".",
      "default": "5m",
      "allOf": [` + connectors.DurationSchema + `]
    },
    "public_keys": {
      "description": "The Ed25519 public keys (\"whpk_\" and base64) whose v1a signatures are accepted. With one, a source needs no shared secret.",
      "type": "array",
      "maxItems": ` + fmt.Sprint(maxPublicKeys) + `,
      "items": {"type": "string", "minLength": 1}
    },
    "event_type": ` + pathnorm.TypeSchema(`The JSON path of the event type in the payload, e.g. "type" (the default) or "data.event"; '|' separates alternatives.`) + `,
    "normalize": ` + pathnorm.NormalizeSchema(`The JSON path of each event field in the payload, e.g. {"commit": "data.after", "artifact.digest": "data.digest"}. Absent: common paths are tried. Given: only these paths are read.`) + `,
    "kinds": ` + pathnorm.KindsSchema(`The Reflex kind of each event type, e.g. {"image.pushed": "artifact.published"}; other types are unnormalized.`) + `
  }
}`

// SettingsSchema returns the JSON Schema of a source's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// settings are a source's settings. Tolerance is decoded apart, so its
// errors name it.
type settings struct {
	Tolerance  json.RawMessage   `json:"tolerance"`
	PublicKeys []string          `json:"public_keys"`
	EventType  string            `json:"event_type"`
	Normalize  map[string]string `json:"normalize"`
	Kinds      map[string]string `json:"kinds"`
}

// Configure applies a source's settings; nil settings take the defaults.
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	scheme := schemes.StandardWebhooks{Tolerance: schemes.DefaultTolerance}
	if len(s.Tolerance) > 0 {
		var d connectors.Duration
		if err := json.Unmarshal(s.Tolerance, &d); err != nil {
			return fmt.Errorf("settings.tolerance: %w", err)
		}
		if err := connectors.CheckTolerance("tolerance", time.Duration(d)); err != nil {
			return err
		}
		scheme.Tolerance = time.Duration(d)
	}
	if len(s.PublicKeys) > maxPublicKeys {
		return fmt.Errorf("settings.public_keys: at most %d keys", maxPublicKeys)
	}
	for i, k := range s.PublicKeys {
		pub, err := publicKey(k)
		if err != nil {
			return fmt.Errorf("settings.public_keys[%d]: %w", i, err)
		}
		scheme.PublicKeys = append(scheme.PublicKeys, pub)
	}
	if s.EventType == "" {
		s.EventType = DefaultEventType
	}
	spec, err := pathnorm.Compile(pathnorm.Config{Type: s.EventType, Normalize: s.Normalize, Kinds: s.Kinds})
	if err != nil {
		return fmt.Errorf("settings.%w", err)
	}
	c.scheme, c.spec = scheme, spec
	return nil
}

// publicKey reads a "whpk_" key, refusing a secret pasted in its place:
// settings are not secret, and a secret there would be shown.
func publicKey(k string) (ed25519.PublicKey, error) {
	if strings.HasPrefix(k, "whsec_") || strings.HasPrefix(k, "whsk_") {
		return nil, fmt.Errorf("this is a secret, not a public key: remove it from the settings, rotate it, and give the source the \"whpk_\" public key (or the whsec_ secret as the source's secret)")
	}
	pub, err := schemes.ParsePublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("not a \"whpk_\" Ed25519 public key: %w", err)
	}
	return pub, nil
}

// HasKeys reports whether settings.public_keys holds a key, so that a
// source needs no shared secret.
func (c *Connector) HasKeys() bool { return len(c.scheme.PublicKeys) > 0 }

var (
	_ connectors.Configurable = (*Connector)(nil)
	_ connectors.KeyHolder    = (*Connector)(nil)
)
