package quay

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/reflexops/reflex/connectors"
)

// DefaultRegistry is the registry a confirmation asks unless
// settings.confirm.registry names another: Quay.io's. A Red Hat Quay
// installation names its own.
const DefaultRegistry = "https://quay.io"

// settings are a source's settings.
type settings struct {
	// Confirm, when present, asks the registry whether each
	// pushed tag exists before the event counts. Default: absent, no
	// confirmation.
	Confirm *confirmSettings `json:"confirm"`
}

// confirmSettings are settings.confirm.
type confirmSettings struct {
	// Registry is the base URL of the registry asked. Default:
	// DefaultRegistry.
	Registry string `json:"registry"`
	// Username is the account the confirmation authenticates as when the
	// credential names none. Default: none (anonymous, or the
	// credential's).
	Username string `json:"username"`
}

// maxUsername bounds settings.confirm.username.
const maxUsername = 256

// settingsSchema is the JSON Schema of the settings.
const settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "confirm": {
      "type": "object",
      "additionalProperties": false,
      "description": "Ask the registry, before an event counts, whether the pushed tag exists (Quay signs nothing; the answer is recorded on the event, and an event the registry does not confirm changes nothing). The password or access token comes from the source's confirmation credential. Default: absent, no confirmation.",
      "properties": {
        "registry": {
          "type": "string",
          "pattern": "^https://[^/?#@]+/?$",
          "description": "Base URL of the registry API asked, https. Default: https://quay.io; a Red Hat Quay installation names its own, e.g. https://quay.example.com."
        },
        "username": {
          "type": "string",
          "maxLength": 256,
          "description": "Quay account or robot account (namespace+robot) to authenticate as, when the confirmation credential names none; a private repository needs one. Default: none."
        }
      }
    }
  }
}`

// SettingsSchema returns the JSON Schema of the connector's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// Configure applies a source's settings; nil settings confirm nothing.
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	c.confirm = nil
	if s.Confirm == nil {
		return nil
	}
	conf := *s.Confirm
	if conf.Registry == "" {
		conf.Registry = DefaultRegistry
	}
	if err := checkRegistry(conf.Registry); err != nil {
		return fmt.Errorf("settings.confirm.registry: %w", err)
	}
	if err := checkUsername(conf.Username); err != nil {
		return fmt.Errorf("settings.confirm.username: %w", err)
	}
	c.confirm = &conf
	return nil
}

// checkRegistry accepts the base URL of a registry: https, a host and
// nothing after it.
func checkRegistry(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("cannot read the URL")
	}
	if u.Scheme != "https" || u.Host == "" {
		return errors.New("is not an https URL; the registry is asked over https only")
	}
	if u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("name the registry by its base URL alone, e.g. %s, without a user, path or query", DefaultRegistry)
	}
	return nil
}

// checkUsername accepts a user name without control characters.
func checkUsername(name string) error {
	if len(name) > maxUsername {
		return fmt.Errorf("is longer than %d characters", maxUsername)
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return errors.New("holds a control character")
	}
	return nil
}

var _ connectors.Configurable = (*Connector)(nil)
