package pathnorm

import (
	"encoding/json"

	"github.com/reflexops/reflex/event"
)

// NormalizeSchema returns the JSON Schema of a normalize setting, with
// description: an object from field names (Fields) to paths.
func NormalizeSchema(description string) string {
	props := make(map[string]any, len(fields))
	for _, f := range fields {
		props[f.Name] = map[string]any{"type": "string", "minLength": 1, "description": f.Description}
	}
	return mustJSON(map[string]any{
		"type":                 "object",
		"description":          description,
		"properties":           props,
		"additionalProperties": false,
	})
}

// KindsSchema returns the JSON Schema of a kinds setting, with
// description: an object from event types to kinds.
func KindsSchema(description string) string {
	kinds := event.Kinds()
	return mustJSON(map[string]any{
		"type":                 "object",
		"description":          description,
		"propertyNames":        map[string]any{"pattern": "^[A-Za-z0-9._:-]{1,128}$"},
		"additionalProperties": map[string]any{"enum": kinds},
	})
}

// TypeSchema returns the JSON Schema of a type path setting, with
// description.
func TypeSchema(description string) string {
	return mustJSON(map[string]any{"type": "string", "minLength": 1, "description": description})
}

// mustJSON encodes a schema built from literals, which cannot fail.
func mustJSON(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(out)
}
