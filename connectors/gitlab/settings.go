package gitlab

import (
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/schemes"
)

// settingsSchema is the JSON Schema of a GitLab source's settings.
const settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "tolerance": {
      "description": "How far the webhook-timestamp of a delivery signed with a signing token may lie from the receive time, either way, as a Go duration from 1s to 1h. Default \"5m\".",
      "default": "5m",
      "allOf": [` + connectors.DurationSchema + `]
    },
    "require_signature": {
      "description": "Refuse deliveries that carry no webhook-signature, so only a webhook with a signing token (\"whsec_…\") is accepted and X-Gitlab-Token alone is not. With it set, the source's secrets must include the webhook's signing token (\"whsec_…\"), else every delivery is refused. Default false.",
      "default": false,
      "type": "boolean"
    }
  }
}`

// settings are a GitLab source's settings.
type settings struct {
	Tolerance        *connectors.Duration `json:"tolerance"`
	RequireSignature bool                 `json:"require_signature"`
}

var _ connectors.Configurable = (*Connector)(nil)

// SettingsSchema returns the JSON Schema of the connector's settings.
func (*Connector) SettingsSchema() string { return settingsSchema }

// Configure applies a source's settings; nil settings keep the defaults.
func (c *Connector) Configure(raw map[string]any) error {
	var s settings
	if err := connectors.DecodeSettings(raw, &s); err != nil {
		return err
	}
	c.tolerance = schemes.DefaultTolerance
	if s.Tolerance != nil {
		if err := connectors.CheckTolerance("tolerance", time.Duration(*s.Tolerance)); err != nil {
			return err
		}
		c.tolerance = time.Duration(*s.Tolerance)
	}
	c.requireSignature = s.RequireSignature
	return nil
}
