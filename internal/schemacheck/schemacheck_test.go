package schemacheck_test

import (
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/reflexops/reflex/internal/schemacheck"
)

func TestDescribe(t *testing.T) {
	sch, err := schemacheck.Compile("reflex:test.json", `{
		"type": "object", "additionalProperties": false, "required": ["name"],
		"properties": {"name": {"type": "string"}, "tolerance": {"type": "string"}, "header": {"type": "string"}, "n": {"type": "integer"}},
		"dependentRequired": {"tolerance": ["header"]}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ doc, want string }{
		{`{"name": "a"}`, ""},
		{`{}`, "field settings.name: is required"},
		{`{"name": "a", "extra": 1}`, "field settings.extra: is not a field of this type"},
		{`{"name": "a", "tolerance": "5m"}`, "field settings.tolerance: needs settings.header too"},
		{`{"name": "a", "n": "x"}`, "field settings.n: "},
	}
	for _, tt := range tests {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.doc))
		if err != nil {
			t.Fatal(err)
		}
		err = schemacheck.Validate(sch, "settings", inst)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)) {
			t.Errorf("Validate(%s) = %v, want %q", tt.doc, err, tt.want)
		}
	}
}
