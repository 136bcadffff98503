// Package schemacheck compiles JSON Schemas and reports a document's first
// mistake as one line that names the field, the way every Reflex schema
// error reads: "field status.deploying: got string, want boolean".
package schemacheck

import (
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Compile compiles one schema document, named url, with formats asserted.
func Compile(url, text string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	return sch, nil
}

// Validate checks inst, a document in the generic form decoding JSON
// gives, against sch. The error names the first offending field, its path
// starting with prefix (e.g. "settings"), or "(document)".
func Validate(sch *jsonschema.Schema, prefix string, inst any) error {
	err := sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return errors.New(Describe(ve, prefix))
	}
	return err
}

var printer = message.NewPrinter(language.English)

// Describe turns a validation error into one line naming the first
// offending field, under prefix when not empty.
func Describe(ve *jsonschema.ValidationError, prefix string) string {
	leaf := ve
	for len(leaf.Causes) > 0 {
		leaf = leaf.Causes[0]
	}
	at := leaf.InstanceLocation
	if prefix != "" {
		at = append([]string{prefix}, at...)
	}
	switch k := leaf.ErrorKind.(type) {
	case *kind.Required:
		return "field " + strings.Join(append(at, k.Missing[0]), ".") + ": is required"
	case *kind.AdditionalProperties:
		return "field " + strings.Join(append(at, k.Properties[0]), ".") + ": is not a field of this type"
	case *kind.DependentRequired:
		return "field " + strings.Join(append(at, k.Prop), ".") + ": needs " + strings.Join(append(at, k.Missing[0]), ".") + " too"
	}
	field := strings.Join(at, ".")
	if field == "" {
		field = "(document)"
	}
	return "field " + field + ": " + leaf.ErrorKind.LocalizedString(printer)
}
