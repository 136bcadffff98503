package state

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/reflexops/reflex/internal/schemacheck"
)

// ErrInvalid wraps a document that does not match its type's schema; the
// message names the field.
var ErrInvalid = errors.New("invalid object")

//go:embed schemas/*.json
var schemaFiles embed.FS

// The object types. Each has a JSON Schema in schemas/<type>.json.
const (
	TypePipeline = "pipeline"
	TypeService  = "service"
	TypeInstance = "instance"
	TypeBuild    = "build"
	TypeRelease  = "release"
	TypeState    = "state"
	TypeAPIKey   = "apikey"
	TypePolicy   = "policy"
	TypeScope    = "scope"
	TypeGroup    = "group"
	TypeSource   = "source"
	TypeTrigger  = "trigger"
	TypeDeploy   = "deployment"
	TypeAgent    = "agent"
)

// listFilters are the fields of each type a list may be filtered on, by
// equality: the ones operators look objects up by.
var listFilters = map[string][]string{
	TypeDeploy:   {"action", "service", "status", "trigger", "zone"},
	TypeService:  {"pipeline", "zone"},
	TypeInstance: {"service"},
	TypeBuild:    {"application", "branch", "commit", "state"},
	TypeRelease:  {"service"},
	TypeSource:   {"connector"},
	TypeAgent:    {"status", "zone"},
}

// ListFilters returns the fields a list of type typ may be filtered on.
func ListFilters(typ string) []string { return listFilters[typ] }

// NewestFirst reports whether a type is listed newest first by default:
// records of what happened (deliveries), rather than things by name.
func NewestFirst(typ string) bool { return typ == TypeDeploy }

// Types lists every object type, sorted.
func Types() []string {
	return slices.Sorted(maps.Keys(schemas()))
}

// KnownType reports whether typ is an object type.
func KnownType(typ string) bool {
	_, ok := schemas()[typ]
	return ok
}

// schemas compiles every type's schema once.
var schemas = sync.OnceValue(func() map[string]*jsonschema.Schema {
	entries, err := schemaFiles.ReadDir("schemas")
	if err != nil {
		panic(err) // embedded at build time
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for _, e := range entries {
		typ := strings.TrimSuffix(e.Name(), ".json")
		raw, _ := schemaFiles.ReadFile("schemas/" + e.Name())
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
		if err != nil {
			panic(fmt.Sprintf("schema %s: %v", typ, err))
		}
		url := "reflex:" + typ + ".json"
		if err := c.AddResource(url, doc); err != nil {
			panic(fmt.Sprintf("schema %s: %v", typ, err))
		}
		if out[typ], err = c.Compile(url); err != nil {
			panic(fmt.Sprintf("schema %s: %v", typ, err))
		}
	}
	return out
})

// objectName is the pattern every object name follows: it appears in
// URLs, so no slash.
var objectName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$`)

// ObjectName joins parts into an object name, with a repository's "/" as
// ":", e.g. acme-github:acme:widget.
func ObjectName(parts ...string) string {
	return strings.ReplaceAll(strings.Join(parts, ":"), "/", ":")
}

// BuildName is the name of the build object of a repository's commit, as
// the worker writes it: <source>:<owner>:<repo>:<first 12 of the sha>.
func BuildName(source, repository, commit string) string {
	return ObjectName(source, repository, commit[:min(len(commit), 12)])
}

// ValidName reports whether name may name an object.
func ValidName(name string) bool { return objectName.MatchString(name) }

// Validate checks an object's content against its type's schema, as a
// write would.
func Validate(typ string, content map[string]any) error { return validate(typ, content) }

// validate checks an object's content (name included, metadata and the
// sensitive part excluded) against its type's schema.
func validate(typ string, content map[string]any) error {
	sch, ok := schemas()[typ]
	if !ok {
		return fmt.Errorf("%w: unknown type %q (known: %s)", ErrInvalid, typ, strings.Join(Types(), ", "))
	}
	name, _ := content["name"].(string)
	if !ValidName(name) {
		return fmt.Errorf("%w: field name: must be 1-200 letters, digits, '.', '_', ':', '@' or '-', starting with a letter or digit", ErrInvalid)
	}
	// The schema library wants the generic JSON form, which content
	// decoded from JSON is in; anything else a caller built gets there by
	// a round trip.
	var inst any = content
	if !isGeneric(content) {
		raw, err := json.Marshal(content)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if inst, err = jsonschema.UnmarshalJSON(strings.NewReader(string(raw))); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("%w: %s", ErrInvalid, schemacheck.Describe(ve, ""))
		}
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// isGeneric reports whether v holds only what decoding JSON gives: maps
// of strings to values, slices of values, strings, booleans, nil and
// numbers (float64, json.Number, or the integers the schema library takes
// too), with every float finite.
func isGeneric(v any) bool {
	switch v := v.(type) {
	case nil, string, bool, json.Number, int, int64:
		return true
	case float64:
		return !math.IsNaN(v) && !math.IsInf(v, 0)
	case map[string]any:
		for _, x := range v {
			if !isGeneric(x) {
				return false
			}
		}
		return true
	case []any:
		for _, x := range v {
			if !isGeneric(x) {
				return false
			}
		}
		return true
	}
	return false
}
