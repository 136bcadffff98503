package connectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Configurable is implemented by connectors that take per-source settings:
// audiences, header names, tolerances, normalization paths. A source's
// settings are checked twice: against SettingsSchema wherever a source is
// written (the API, plan and apply, the configuration file), so a mistake
// is refused with the field it concerns; then by Configure, for what a
// schema cannot say (a key that does not decode).
type Configurable interface {
	// SettingsSchema returns the JSON Schema (2020-12) of the connector's
	// settings object. It must refuse unknown fields.
	SettingsSchema() string
	// Configure applies a source's settings, already valid against the
	// schema; nil or empty settings take the defaults. Errors name the
	// field, as "settings.<field>: …". It is called once, on a new
	// connector, before any request.
	Configure(settings map[string]any) error
}

// KeyHolder is implemented by connectors whose settings may hold the keys
// that verify a delivery (public keys), so a source of theirs needs no
// shared secret.
type KeyHolder interface {
	// HasKeys reports whether the configured settings hold a key.
	HasKeys() bool
}

// DecodeSettings decodes settings into v, a pointer to the connector's
// settings struct, refusing fields v does not have. Errors name the field.
func DecodeSettings(settings map[string]any, v any) error {
	if len(settings) == 0 {
		return nil
	}
	raw, err := json.Marshal(settings)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("settings%s", describeDecodeError(err))
	}
	return nil
}

// describeDecodeError names the field of a settings decoding error.
func describeDecodeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf(".%s: got %s, want %s", te.Field, te.Value, te.Type)
	}
	msg := err.Error()
	if field, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "." + strings.Trim(field, `"`) + ": is not a setting of this connector"
	}
	if i := strings.Index(msg, "settings."); i >= 0 {
		return msg[i+len("settings"):]
	}
	return ": " + msg
}

// Duration is a settings field holding a Go duration string, e.g. "5m".
type Duration time.Duration

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"5m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("cannot read the duration %q: %w", s, err)
	}
	if v < 0 {
		return fmt.Errorf("the duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// DurationSchema is the JSON Schema of a Duration setting.
const DurationSchema = `{"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"}`
