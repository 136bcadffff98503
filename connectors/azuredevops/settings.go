package azuredevops

import (
	"fmt"
	"net/textproto"

	"github.com/reflexops/reflex/connectors"
)

// settings are a source's settings.
type settings struct {
	// Header names the custom HTTP header of the subscription that holds
	// the secret. Default: none, Basic authentication is required.
	Header string `json:"header"`
}

// maxHeaderName bounds the header setting.
const maxHeaderName = 128

// settingsSchema is the JSON Schema of the settings.
const settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "header": {
      "type": "string",
      "pattern": "^[A-Za-z0-9!#$%&'*+.^_|~-]{1,128}$",
      "description": "A custom HTTP header of the service hook subscription (e.g. X-Reflex-Token) whose value is the source's secret. When set, this header is checked instead of Basic authentication; Azure DevOps shows such headers to whoever can view the subscription. It may not be a header policies are shown (User-Agent, X-Request-Id, X-Forwarded-For) nor one HTTP gives a meaning (Authorization, Content-*, Host, Cookie). Default: Basic authentication, with the secret user:password."
    }
  }
}`

// SettingsSchema returns the JSON Schema of the connector's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// Configure applies a source's settings; nil settings keep Basic
// authentication.
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	if s.Header == "" {
		c.header = ""
		return nil
	}
	if err := checkHeaderName(s.Header); err != nil {
		return fmt.Errorf("settings.header: %w", err)
	}
	// The header carries the secret: none that policies are shown (and
	// logs hold) nor one HTTP gives a meaning of its own.
	if err := connectors.CheckCredentialHeader("header", s.Header); err != nil {
		return err
	}
	c.header = textproto.CanonicalMIMEHeaderKey(s.Header)
	return nil
}

// checkHeaderName accepts an HTTP header name (an RFC 9110 token) other
// than Authorization, which Basic authentication already covers.
func checkHeaderName(name string) error {
	if len(name) > maxHeaderName {
		return fmt.Errorf("is longer than %d characters", maxHeaderName)
	}
	for _, r := range name {
		if !isTokenChar(r) {
			return fmt.Errorf("%q is not an HTTP header name", name)
		}
	}
	if textproto.CanonicalMIMEHeaderKey(name) == "Authorization" {
		return fmt.Errorf("leave it unset to use the Authorization header's Basic credentials")
	}
	return nil
}

// isTokenChar reports whether r may appear in an HTTP header name: the
// RFC 9110 token characters but '`', which the schema's pattern (a Go raw
// string) leaves out too.
func isTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	switch r {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '|', '~':
		return true
	}
	return false
}

var _ connectors.Configurable = (*Connector)(nil)
