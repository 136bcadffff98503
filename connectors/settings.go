package connectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
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
// settings struct, one field at a time, so that every error (an unknown
// field, a wrong type, a value a field's own decoder refuses) names the
// field, as "settings.<field>: …". Fields are matched by their JSON names.
func DecodeSettings(settings map[string]any, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("settings: decode into %T, which is not a pointer to a struct", v)
	}
	st := rv.Elem()
	fields := make(map[string]int, st.NumField())
	for i := range st.NumField() {
		f := st.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = i
	}
	for _, key := range slices.Sorted(maps.Keys(settings)) {
		i, ok := fields[key]
		if !ok {
			return fmt.Errorf("settings.%s: is not a setting of this connector", key)
		}
		raw, err := json.Marshal(settings[key])
		if err != nil {
			return fmt.Errorf("settings.%s: %w", key, err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(st.Field(i).Addr().Interface()); err != nil {
			return fmt.Errorf("settings.%s%s", key, describeDecodeError(err))
		}
	}
	return nil
}

// describeDecodeError says what is wrong with one setting's value, naming
// the part of it when the value is an object.
func describeDecodeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		at := ""
		if te.Field != "" {
			at = "." + te.Field
		}
		return fmt.Sprintf("%s: got %s, want %s", at, te.Value, te.Type)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "." + strings.Trim(field, `"`) + ": is not a setting of this connector"
	}
	return ": " + err.Error()
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
