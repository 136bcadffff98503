package eventbridge

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/reflexops/reflex/connectors"
)

// DefaultAPIKeyHeader is the API key header when settings.api_key_header
// is not set.
const DefaultAPIKeyHeader = "X-Api-Key"

// The values of settings.auth.
const (
	authAPIKey = "api_key"
	authBasic  = "basic"
)

// maxUsername bounds settings.username.
const maxUsername = 512

// settings are a source's settings.
type settings struct {
	// Auth is how the connection authorizes: "api_key" (the default) or
	// "basic".
	Auth string `json:"auth"`
	// APIKeyHeader names the API key header, with api_key. Default
	// X-Api-Key.
	APIKeyHeader string `json:"api_key_header"`
	// Username is the Basic user name, required with basic.
	Username string `json:"username"`
}

// settingsSchema is the JSON Schema of the settings.
const settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "auth": {
      "type": "string",
      "enum": ["api_key", "basic"],
      "default": "api_key",
      "description": "How the API destination's connection authorizes: api_key (a header holding the source's secret) or basic (settings.username, and the source's secret as the password). OAuth client credentials are not supported: Reflex cannot check the token EventBridge gets."
    },
    "api_key_header": {
      "type": "string",
      "pattern": "^[A-Za-z0-9!#$%&'*+.^_|~-]{1,128}$",
      "description": "With auth api_key: the connection's API key name, the header that holds the source's secret. Default X-Api-Key. It may not be a header policies are shown (User-Agent, X-Request-Id, X-Forwarded-For) nor one HTTP gives a meaning (Authorization, Content-*, Host, Cookie)."
    },
    "username": {
      "type": "string",
      "minLength": 1,
      "maxLength": 512,
      "pattern": "^[^:]+$",
      "description": "With auth basic (required there): the connection's user name; its password is the source's secret."
    }
  }
}`

// SettingsSchema returns the JSON Schema of the connector's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// Configure applies a source's settings; nil settings keep the API key
// in X-Api-Key.
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	switch s.Auth {
	case "", authAPIKey:
		if s.Username != "" {
			return fmt.Errorf("settings.username: only Basic authentication has a user name; set settings.auth to basic, or remove it")
		}
		header := DefaultAPIKeyHeader
		if s.APIKeyHeader != "" {
			if err := connectors.CheckCredentialHeader("api_key_header", s.APIKeyHeader); err != nil {
				return err
			}
			header = http.CanonicalHeaderKey(s.APIKeyHeader)
		}
		c.header, c.username = header, ""
	case authBasic:
		if s.APIKeyHeader != "" {
			return fmt.Errorf("settings.api_key_header: Basic authentication has no API key header; remove it, or set settings.auth to api_key")
		}
		if s.Username == "" {
			return fmt.Errorf("settings.username: Basic authentication needs the connection's user name")
		}
		if len(s.Username) > maxUsername || strings.ContainsAny(s.Username, ":\r\n") {
			return fmt.Errorf("settings.username: a Basic user name of at most %d characters, without ':'", maxUsername)
		}
		c.header, c.username = "", s.Username
	default:
		return fmt.Errorf("settings.auth: %q is neither api_key nor basic", s.Auth)
	}
	return nil
}

var _ connectors.Configurable = (*Connector)(nil)
