package buildkite

import (
	"time"

	"github.com/reflexops/reflex/connectors"
)

// settingsSchema is the JSON Schema of a Buildkite source's settings.
const settingsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "tolerance": {
      "description": "How far the timestamp of X-Buildkite-Signature (the time Buildkite dispatched the delivery) may lie from the receive time, either way, as a Go duration from 1s to 1h. Default \"5m\".",
      "default": "5m",
      "allOf": [` + connectors.DurationSchema + `]
    },
    "require_signature": {
      "description": "Refuse deliveries that carry X-Buildkite-Token instead of X-Buildkite-Signature, so only a webhook whose Token is sent as a signature is accepted: the token then never travels in clear text, and every delivery is bound to its body and to a time. Set it once the webhook's Token setting in Buildkite sends X-Buildkite-Signature. Default false, since Buildkite sends X-Buildkite-Token unless told otherwise.",
      "default": false,
      "type": "boolean"
    }
  }
}`

// settings are a Buildkite source's settings.
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
	c.tolerance = DefaultTolerance
	if s.Tolerance != nil {
		if err := connectors.CheckTolerance("tolerance", time.Duration(*s.Tolerance)); err != nil {
			return err
		}
		c.tolerance = time.Duration(*s.Tolerance)
	}
	c.requireSignature = s.RequireSignature
	return nil
}
