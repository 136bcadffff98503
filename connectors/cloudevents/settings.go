package cloudevents

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// The authentication schemes a source may choose with the auth setting.
const (
	// AuthHMAC: a hex HMAC-SHA256 of the raw body in a header.
	AuthHMAC = "hmac"
	// AuthBearer: the webhook profile's bearer token, in Authorization or
	// the access_token query parameter.
	AuthBearer = "bearer"
	// AuthStandardWebhooks: the Standard Webhooks signature.
	AuthStandardWebhooks = "standard-webhooks"
)

// The defaults of the settings.
const (
	DefaultHeader = "X-Signature"
	DefaultPrefix = "sha256="
)

// settingsSchema is the JSON Schema of a source's settings.
var settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "auth": {
      "enum": ["hmac", "bearer", "standard-webhooks"],
      "description": "How deliveries are proven genuine: \"hmac\" (default), a hex HMAC-SHA256 of the body in the header setting; \"bearer\", the webhook profile's token in Authorization: Bearer or the access_token query parameter; \"standard-webhooks\", the webhook-signature header."
    },
    "header": {
      "type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9-]+$",
      "description": "With auth hmac: the header holding the signature. Default X-Signature."
    },
    "prefix": {
      "type": "string", "maxLength": 32,
      "description": "With auth hmac: what precedes the hex signature in the header; \"\" for bare hex. Default \"sha256=\"."
    },
    "tolerance": ` + strings.Replace(connectors.DurationSchema, "{", `{"description": "With auth standard-webhooks: how far the signed timestamp may lie from the receive time, either way. Default 5m.", `, 1) + `,
    "allowed_origins": {
      "type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 253, "pattern": "^[A-Za-z0-9._:-]+$"},
      "description": "The WebHook-Request-Origin values the validation handshake (OPTIONS) accepts. It gates the handshake only, not deliveries, which auth alone decides. Default: any, as every delivery must still pass auth."
    },
    "allowed_rate": {
      "type": "integer", "minimum": 1,
      "description": "The requests per minute granted in the validation handshake's WebHook-Allowed-Rate: what the sender is told, not a limit Reflex enforces. Default: no limit (\"*\")."
    }
  }
}`

// SettingsSchema returns the JSON Schema of a source's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// settings is the decoded form of a source's settings; pointers tell an
// absent field from an empty one. Tolerance is read here rather than as a
// connectors.Duration so that its error names the field.
type settings struct {
	Auth           string   `json:"auth"`
	Header         *string  `json:"header"`
	Prefix         *string  `json:"prefix"`
	Tolerance      *string  `json:"tolerance"`
	AllowedOrigins []string `json:"allowed_origins"`
	AllowedRate    int      `json:"allowed_rate"`
}

// setDefaults gives c the default settings.
func (c *Connector) setDefaults() {
	*c = Connector{auth: AuthHMAC, header: DefaultHeader, hmac: schemes.HMAC{Prefix: DefaultPrefix}}
}

// Configure applies a source's settings; errors name the field.
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	c.setDefaults()
	switch s.Auth {
	case "", AuthHMAC, AuthBearer, AuthStandardWebhooks:
		if s.Auth != "" {
			c.auth = s.Auth
		}
	default:
		return fmt.Errorf("settings.auth: %q is not a scheme (known: hmac, bearer, standard-webhooks)", s.Auth)
	}
	if err := c.configureAuth(&s); err != nil {
		return err
	}
	for i, o := range s.AllowedOrigins {
		if !validOrigin(o) {
			return fmt.Errorf("settings.allowed_origins[%d]: %q is not an origin; give a DNS name such as eventemitter.example.com", i, o)
		}
		c.origins = append(c.origins, o)
	}
	if s.AllowedRate < 0 {
		return fmt.Errorf("settings.allowed_rate: must be at least 1")
	}
	c.rate = s.AllowedRate
	return nil
}

// configureAuth applies the settings of the chosen scheme, refusing those
// of another, which would have no effect.
func (c *Connector) configureAuth(s *settings) error {
	if c.auth != AuthHMAC {
		if s.Header != nil {
			return fmt.Errorf("settings.header: applies only with auth \"hmac\", not %q", c.auth)
		}
		if s.Prefix != nil {
			return fmt.Errorf("settings.prefix: applies only with auth \"hmac\", not %q", c.auth)
		}
	}
	if c.auth != AuthStandardWebhooks && s.Tolerance != nil {
		return fmt.Errorf("settings.tolerance: applies only with auth \"standard-webhooks\", not %q", c.auth)
	}
	if s.Header != nil {
		h := http.CanonicalHeaderKey(*s.Header)
		switch {
		case h == "" || strings.ContainsFunc(h, func(r rune) bool {
			return !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}):
			return fmt.Errorf("settings.header: %q is not a header name (letters, digits and '-')", *s.Header)
		case strings.HasPrefix(strings.ToLower(h), "ce-"):
			return fmt.Errorf("settings.header: %s is a CloudEvents attribute header, not a place for a signature", h)
		}
		if err := connectors.CheckCredentialHeader("header", h); err != nil {
			return err
		}
		c.header = h
	}
	if s.Prefix != nil {
		c.hmac.Prefix = *s.Prefix
	}
	if s.Tolerance != nil {
		d, err := time.ParseDuration(*s.Tolerance)
		switch {
		case err != nil:
			return fmt.Errorf("settings.tolerance: %q is not a duration such as \"5m\"", *s.Tolerance)
		}
		if err := connectors.CheckTolerance("tolerance", d); err != nil {
			return err
		}
		c.standard.Tolerance = d
	}
	return nil
}

var _ connectors.Configurable = (*Connector)(nil)
