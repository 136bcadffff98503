package hmac

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/pathnorm"
	"github.com/reflexops/reflex/connectors/schemes"
)

// The scheme without settings.header: GitHub's, the most common.
const (
	DefaultHeader = "X-Hub-Signature-256"
	DefaultPrefix = "sha256="
)

// DefaultEventType is the path of the event type in the payload when
// neither settings.event_type nor settings.event_type_header is set.
const DefaultEventType = "type"

// maxPrefix bounds settings.prefix.
const maxPrefix = 32

// settingsSchema is the JSON Schema of a source's settings.
var settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "header": {
      "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9-]+$",
      "description": "The header that carries the signature. Without it, GitHub's scheme: X-Hub-Signature-256 holding \"sha256=\" and the hex HMAC-SHA256 of the body; with it, the scheme the other settings describe."
    },
    "algorithm": {
      "enum": ["sha256", "sha512", "sha1"],
      "description": "The HMAC's digest. Default sha256; sha1 requires allow_sha1."
    },
    "allow_sha1": {
      "type": "boolean",
      "description": "Accept algorithm sha1, which is weak, for a sender that offers nothing better. Default false."
    },
    "encoding": {
      "enum": ["hex", "base64"],
      "description": "How the HMAC is written in the header. Default hex."
    },
    "prefix": {
      "type": "string", "maxLength": ` + fmt.Sprint(maxPrefix) + `,
      "description": "What precedes the encoded HMAC in the header, e.g. \"sha256=\". Default none."
    },
    "timestamp_header": {
      "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9-]+$",
      "description": "A header holding the Unix seconds of the delivery, signed with the body and refused outside the tolerance. Default none."
    },
    "signed_template": {
      "type": "string", "minLength": 1, "maxLength": 128,
      "description": "What is signed: {body} with {timestamp} (the timestamp header's value) and {id} (the delivery id header's value) around it. Default \"{timestamp}.{body}\" with a timestamp header, \"{body}\" without."
    },
    "tolerance": {
      "description": "How far the timestamp may lie from the receive time, either way, as a Go duration. Default \"5m\".",
      "default": "5m",
      "allOf": [` + connectors.DurationSchema + `]
    },
    "delivery_id_header": {
      "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9-]+$",
      "description": "The header holding the delivery id, which a resend keeps. Unless signed_template holds {id}, the signature does not cover it, and whoever captured a delivery could resend it under a new id; the default is safer. Default none: the SHA-256 of the body."
    },
    "event_type_header": {
      "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9-]+$",
      "description": "The header holding the event type, instead of event_type."
    },
    "event_type": ` + pathnorm.TypeSchema(`The JSON path of the event type in the payload, e.g. "type" (the default) or "meta.event"; '|' separates alternatives.`) + `,
    "normalize": ` + pathnorm.NormalizeSchema(`The JSON path of each event field in the payload, e.g. {"commit": "after", "branch": "push.changes[0].new.name"}. Absent: common paths are tried. Given: only these paths are read.`) + `,
    "kinds": ` + pathnorm.KindsSchema(`The Reflex kind of each event type, e.g. {"pipeline.completed": "build.finished"}; other types are unnormalized.`) + `
  },
  "dependentRequired": {
    "algorithm": ["header"],
    "allow_sha1": ["header"],
    "encoding": ["header"],
    "prefix": ["header"],
    "timestamp_header": ["header"],
    "signed_template": ["header"],
    "tolerance": ["timestamp_header"]
  }
}`

// SettingsSchema returns the JSON Schema of a source's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// settings are a source's settings; pointers tell an absent field from an
// empty one. Tolerance is decoded apart, so its errors name it.
type settings struct {
	Header           string            `json:"header"`
	Algorithm        string            `json:"algorithm"`
	AllowSHA1        *bool             `json:"allow_sha1"`
	Encoding         string            `json:"encoding"`
	Prefix           *string           `json:"prefix"`
	TimestampHeader  string            `json:"timestamp_header"`
	SignedTemplate   string            `json:"signed_template"`
	Tolerance        json.RawMessage   `json:"tolerance"`
	DeliveryIDHeader string            `json:"delivery_id_header"`
	EventTypeHeader  string            `json:"event_type_header"`
	EventType        string            `json:"event_type"`
	Normalize        map[string]string `json:"normalize"`
	Kinds            map[string]string `json:"kinds"`
}

// Configure applies a source's settings; nil settings take the defaults.
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	n := Connector{tolerance: schemes.DefaultTolerance}
	if err := n.configureScheme(&s); err != nil {
		return err
	}
	if err := n.configureTimestamp(&s); err != nil {
		return err
	}
	if err := n.configureEvent(&s); err != nil {
		return err
	}
	if err := checkDistinct(&n); err != nil {
		return err
	}
	for _, h := range []string{n.idHeader, n.typeHeader, n.timestampHeader} {
		if h != "" {
			n.policyHeaders = append(n.policyHeaders, h)
		}
	}
	*c = n
	return nil
}

// configureScheme reads the signature's header, algorithm, encoding and
// prefix.
func (c *Connector) configureScheme(s *settings) error {
	if s.Header == "" {
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"algorithm", s.Algorithm != ""}, {"allow_sha1", s.AllowSHA1 != nil}, {"encoding", s.Encoding != ""},
			{"prefix", s.Prefix != nil}, {"timestamp_header", s.TimestampHeader != ""}, {"signed_template", s.SignedTemplate != ""},
		} {
			if f.set {
				return fmt.Errorf("settings.%s: requires settings.header: without it the scheme is GitHub's (%s: %s<hex HMAC-SHA256>)", f.name, DefaultHeader, DefaultPrefix)
			}
		}
		c.header, c.scheme = DefaultHeader, schemes.HMAC{Algorithm: schemes.SHA256, Encoding: schemes.Hex, Prefix: DefaultPrefix}
		return nil
	}
	header, err := headerName("header", s.Header)
	if err != nil {
		return err
	}
	if err := connectors.CheckCredentialHeader("header", header); err != nil {
		return err
	}
	c.header = header
	c.scheme = schemes.HMAC{Algorithm: schemes.SHA256, Encoding: schemes.Hex}
	switch s.Algorithm {
	case "", schemes.SHA256:
	case schemes.SHA512:
		c.scheme.Algorithm = schemes.SHA512
	case schemes.SHA1:
		if s.AllowSHA1 == nil || !*s.AllowSHA1 {
			return fmt.Errorf("settings.algorithm: sha1 is weak and refused unless settings.allow_sha1 is true; ask the sender for sha256")
		}
		c.scheme.Algorithm = schemes.SHA1
	default:
		return fmt.Errorf("settings.algorithm: %q is not a digest (known: sha256, sha512, sha1)", s.Algorithm)
	}
	switch s.Encoding {
	case "", schemes.Hex:
	case schemes.Base64:
		c.scheme.Encoding = schemes.Base64
	default:
		return fmt.Errorf("settings.encoding: %q is not an encoding (known: hex, base64)", s.Encoding)
	}
	if s.Prefix != nil {
		if len(*s.Prefix) > maxPrefix {
			return fmt.Errorf("settings.prefix: longer than %d characters", maxPrefix)
		}
		c.scheme.Prefix = *s.Prefix
	}
	return nil
}

// configureTimestamp reads the timestamp header, its tolerance and the
// signed template.
func (c *Connector) configureTimestamp(s *settings) error {
	if s.TimestampHeader != "" {
		h, err := headerName("timestamp_header", s.TimestampHeader)
		if err != nil {
			return err
		}
		c.timestampHeader = h
	}
	if len(s.Tolerance) > 0 {
		if c.timestampHeader == "" {
			return fmt.Errorf("settings.tolerance: applies only with settings.timestamp_header")
		}
		var d connectors.Duration
		if err := json.Unmarshal(s.Tolerance, &d); err != nil {
			return fmt.Errorf("settings.tolerance: %w", err)
		}
		if err := connectors.CheckTolerance("tolerance", time.Duration(d)); err != nil {
			return err
		}
		c.tolerance = time.Duration(d)
	}
	text := s.SignedTemplate
	if text == "" && c.timestampHeader != "" {
		text = defaultTimestampTemplate
	}
	if text == "" {
		return nil
	}
	t, err := parseTemplate(text)
	if err != nil {
		return fmt.Errorf("settings.signed_template: %w", err)
	}
	switch {
	case t.uses(placeTimestamp) != (c.timestampHeader != ""):
		if c.timestampHeader == "" {
			return fmt.Errorf("settings.signed_template: {timestamp} requires settings.timestamp_header")
		}
		return fmt.Errorf("settings.signed_template: must hold {timestamp}, or the timestamp header proves nothing")
	case t.uses(placeID) && s.DeliveryIDHeader == "":
		return fmt.Errorf("settings.signed_template: {id} requires settings.delivery_id_header")
	}
	if !t.bodyOnly() {
		c.signed, c.signsID = t, t.uses(placeID)
	}
	return nil
}

// configureEvent reads where the delivery id, the type and the fields
// are.
func (c *Connector) configureEvent(s *settings) error {
	var err error
	if s.DeliveryIDHeader != "" {
		if c.idHeader, err = headerName("delivery_id_header", s.DeliveryIDHeader); err != nil {
			return err
		}
		c.idWhat = "the " + c.idHeader + " header"
	}
	typePath := s.EventType
	if s.EventTypeHeader != "" {
		if s.EventType != "" {
			return fmt.Errorf("settings.event_type_header: give either event_type_header or event_type, not both")
		}
		if c.typeHeader, err = headerName("event_type_header", s.EventTypeHeader); err != nil {
			return err
		}
		c.typeWhat = "the " + c.typeHeader + " header"
	} else if typePath == "" {
		typePath = DefaultEventType
	}
	spec, err := pathnorm.Compile(pathnorm.Config{Type: typePath, Normalize: s.Normalize, Kinds: s.Kinds})
	if err != nil {
		return fmt.Errorf("settings.%w", err)
	}
	c.spec = spec
	return nil
}

// headerName checks and canonicalizes the header name of a setting.
func headerName(field, name string) (string, error) {
	if name == "" || len(name) > 64 || strings.ContainsFunc(name, func(r rune) bool {
		return !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return "", fmt.Errorf("settings.%s: %q is not a header name (letters, digits and '-')", field, name)
	}
	h := http.CanonicalHeaderKey(name)
	switch h {
	case "Content-Type", "Content-Length", "Host", "User-Agent":
		return "", fmt.Errorf("settings.%s: %s is not a header a sender can put this in", field, h)
	}
	return h, nil
}

// checkDistinct refuses one header named for two purposes.
func checkDistinct(c *Connector) error {
	seen := map[string]string{c.header: "header"}
	for _, h := range []struct{ field, name string }{
		{"timestamp_header", c.timestampHeader}, {"delivery_id_header", c.idHeader}, {"event_type_header", c.typeHeader},
	} {
		if h.name == "" {
			continue
		}
		if other, ok := seen[h.name]; ok {
			return fmt.Errorf("settings.%s: %s is already settings.%s", h.field, h.name, other)
		}
		seen[h.name] = h.field
	}
	return nil
}

var _ connectors.Configurable = (*Connector)(nil)
