package acr

import (
	"fmt"
	"net/textproto"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/imageref"
	"github.com/reflexops/reflex/connectors/registryv2"
)

// settings are a source's settings.
type settings struct {
	// Header names the custom header of the webhook whose whole value is
	// the source's secret. Default: Authorization.
	Header string `json:"header"`
	// LoginServer is the registry's login server, e.g.
	// "myregistry.azurecr.io": it names the registry of the events whose
	// payload does not (chart_push, chart_delete). Default: none.
	LoginServer string `json:"login_server"`
	// Confirm, when present, asks the registry whether each pushed image
	// exists before the event counts. Default: absent, no confirmation.
	Confirm *registryv2.Settings `json:"confirm"`
}

// Bounds of the settings.
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
      "description": "The custom header of the webhook whose whole value is the source's secret, e.g. X-Reflex-Token. Default: Authorization (--headers \"Authorization=Bearer <token>\" makes the secret \"Bearer <token>\"). It may not be a header policies are shown (User-Agent, X-Request-Id, X-Forwarded-For) nor one HTTP gives a meaning (Content-*, Host, Cookie)."
    },
    "login_server": {
      "type": "string",
      "pattern": "^[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
      "maxLength": 255,
      "description": "The registry's login server, e.g. myregistry.azurecr.io: it names the registry of the events whose payload does not (chart_push, chart_delete). Default: none, and such events are refused."
    },
    "confirm": {
      "type": "object",
      "additionalProperties": false,
      "required": ["registry"],
      "description": "Ask the registry, before an event counts, whether the pushed image exists with the digest the event names (the answer is recorded on the event, and an event the registry does not confirm changes nothing). The password or token comes from the source's confirmation credential. Default: absent, no confirmation.",
      "properties": {
        "registry": {
          "type": "string",
          "pattern": "^https://[^/?#@]+/?$",
          "description": "Base URL of the registry asked, https, e.g. https://myregistry.azurecr.io. Required."
        },
        "username": {
          "type": "string",
          "maxLength": 256,
          "description": "The user the confirmation authenticates as when the confirmation credential names none: a repository-scoped token's name, a service principal's application id, or 00000000-0000-0000-0000-000000000000 with an access token. Default: none."
        }
      }
    }
  }
}`

// SettingsSchema returns the JSON Schema of the connector's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// Configure applies a source's settings; nil settings take the defaults.
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	header, err := checkHeader(s.Header)
	if err != nil {
		return err
	}
	if s.LoginServer != "" && !imageref.ValidHost(s.LoginServer) {
		return fmt.Errorf("settings.login_server: %q is not a host name, e.g. myregistry.azurecr.io", s.LoginServer)
	}
	conf := s.Confirm
	if conf != nil {
		// Azure names no default registry: each has its own login server.
		if err := conf.Check(""); err != nil {
			return err
		}
	}
	c.header, c.loginServer, c.confirm = header, strings.ToLower(s.LoginServer), conf
	return nil
}

// checkHeader returns the canonical name of settings.header: Authorization
// (the default), or a header of its own that carries the secret, as
// connectors.CheckCredentialHeader accepts.
func checkHeader(name string) (string, error) {
	if name == "" {
		return "", nil
	}
	if len(name) > maxHeaderName {
		return "", fmt.Errorf("settings.header: is longer than %d characters", maxHeaderName)
	}
	canonical := textproto.CanonicalMIMEHeaderKey(name)
	if canonical == DefaultHeader {
		return "", nil
	}
	if err := connectors.CheckCredentialHeader("header", name); err != nil {
		return "", err
	}
	return canonical, nil
}

var _ connectors.Configurable = (*Connector)(nil)
