package artifactory

import (
	"fmt"
	"net/textproto"
	"strings"

	"github.com/reflexops/reflex/connectors"
)

// The verification modes of settings.auth.
const (
	authSigned = "signed"
	authToken  = "token"
)

// settings are a source's settings.
type settings struct {
	// Auth is how deliveries are verified: "signed" (default) or
	// "token".
	Auth string `json:"auth"`
	// TokenHeader names the header that holds the secret in token mode.
	// Default: X-JFrog-Event-Auth.
	TokenHeader string `json:"token_header"`
	// RegistryHost is the Docker registry's host (and port), which image
	// names start with. Default: the host of the payload's jpd_origin.
	RegistryHost string `json:"registry_host"`
}

// settingsSchema is the JSON Schema of the settings.
const settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "auth": {
      "enum": ["signed", "token"],
      "description": "How deliveries are verified. signed (default): the webhook handler has a secret and 'Use secret for payload signing' on, and X-JFrog-Event-Auth carries the HMAC-SHA256 of the body in hex. token: a header (token_header) carries the source's secret as it is, which is what X-JFrog-Event-Auth holds when signing is off."
    },
    "token_header": {
      "type": "string",
      "pattern": "^[A-Za-z0-9!#$%&'*+.^_|~-]{1,128}$",
      "description": "With auth token, the header that holds the secret: X-JFrog-Event-Auth (default), or a custom HTTP header of the handler. Not a header policies are shown (User-Agent, X-Request-Id, X-Forwarded-For) nor one HTTP gives a meaning (Authorization, Content-*, Host, Cookie)."
    },
    "registry_host": {
      "type": "string",
      "pattern": "^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$",
      "description": "The host (and port) Docker pulls images from, e.g. docker.acme.example: image names read <registry_host>/<repo_key>/<image_name>. Default: the host of the payload's jpd_origin (the platform URL), else artifactory."
    }
  }
}`

// SettingsSchema returns the JSON Schema of the connector's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// Configure applies a source's settings; nil settings keep the defaults:
// signed deliveries, the registry host from the payload.
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	switch s.Auth {
	case "", authSigned:
		if s.TokenHeader != "" {
			return fmt.Errorf("settings.token_header: is read only with auth %q; signed deliveries carry their signature in %s", authToken, HeaderAuth)
		}
		c.tokenHeader = ""
	case authToken:
		header := s.TokenHeader
		if header == "" {
			header = HeaderAuth
		}
		if err := connectors.CheckCredentialHeader("token_header", header); err != nil {
			return err
		}
		c.tokenHeader = textproto.CanonicalMIMEHeaderKey(header)
	default:
		return fmt.Errorf("settings.auth: %q is not a mode (signed or token)", s.Auth)
	}
	if s.RegistryHost != "" && !validHost(s.RegistryHost) {
		return fmt.Errorf("settings.registry_host: %q is not a host name with an optional port", s.RegistryHost)
	}
	c.registryHost = strings.ToLower(s.RegistryHost)
	return nil
}

var _ connectors.Configurable = (*Connector)(nil)
