package quay

import (
	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registryv2"
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
	Confirm *registryv2.Settings `json:"confirm"`
}

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
	if err := conf.Check(DefaultRegistry); err != nil {
		return err
	}
	c.confirm = &conf
	return nil
}

var _ connectors.Configurable = (*Connector)(nil)
