package policies

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// JSONMap turns a value into the JSON-shaped map expressions see.
func JSONMap(v any) map[string]any { return jsonMap(v) }

// jsonMap turns a value into the JSON-shaped map expressions see: what
// encoding/json would give back after a round trip (numbers as float64,
// times as RFC 3339 strings, omitempty honoured). Plain structs, maps and
// slices are walked directly, which costs a fraction of the round trip;
// anything else takes the round trip.
func jsonMap(v any) map[string]any {
	if out, ok := toJSON(reflect.ValueOf(v)); ok {
		if m, ok := out.(map[string]any); ok {
			return m
		}
		return map[string]any{}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return map[string]any{}
	}
	return m
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

// toJSON walks v as encoding/json would; false means v holds something the
// walk does not handle exactly (a custom marshaller, an embedded struct, a
// ",string" option, bytes, a non-string map key), so the caller must fall
// back to the real encoder.
func toJSON(v reflect.Value) (any, bool) {
	if !v.IsValid() {
		return nil, true
	}
	t := v.Type()
	if t == timeType {
		b, err := v.Interface().(time.Time).MarshalJSON()
		if err != nil {
			return nil, false
		}
		return string(b[1 : len(b)-1]), true
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
	default:
		if marshals(t) {
			return nil, false
		}
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, true
		}
		return toJSON(v.Elem())
	case reflect.String:
		// encoding/json replaces invalid UTF-8; leave that to it.
		return v.String(), utf8.ValidString(v.String())
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, false
		}
		if v.IsNil() {
			return nil, true
		}
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			val, ok := toJSON(it.Value())
			if !ok {
				return nil, false
			}
			m[it.Key().String()] = val
		}
		return m, true
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil, false
		}
		if t.Kind() == reflect.Slice && v.IsNil() {
			return nil, true
		}
		s := make([]any, v.Len())
		for i := range s {
			val, ok := toJSON(v.Index(i))
			if !ok {
				return nil, false
			}
			s[i] = val
		}
		return s, true
	case reflect.Struct:
		fields, ok := structFields(t)
		if !ok {
			return nil, false
		}
		m := make(map[string]any, len(fields))
		for _, f := range fields {
			fv := v.Field(f.index)
			if f.omitEmpty && isEmpty(fv) {
				continue
			}
			val, ok := toJSON(fv)
			if !ok {
				return nil, false
			}
			m[f.name] = val
		}
		return m, true
	}
	return nil, false
}

var marshalCache sync.Map // reflect.Type → bool

// marshals reports whether values of t encode themselves.
func marshals(t reflect.Type) bool {
	if m, ok := marshalCache.Load(t); ok {
		return m.(bool)
	}
	p := reflect.PointerTo(t)
	m := t.Implements(marshalerType) || t.Implements(textType) || p.Implements(marshalerType) || p.Implements(textType)
	marshalCache.Store(t, m)
	return m
}

// field is how encoding/json names and treats one struct field.
type field struct {
	name      string
	index     int
	omitEmpty bool
}

// isEmpty is omitempty's idea of empty; a struct never is.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

type fieldsOf struct {
	fields []field
	ok     bool
}

var fieldCache sync.Map // reflect.Type → fieldsOf

func structFields(t reflect.Type) ([]field, bool) {
	if c, ok := fieldCache.Load(t); ok {
		f := c.(fieldsOf)
		return f.fields, f.ok
	}
	var fields []field
	ok := true
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			ok = false
			break
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		f := field{name: name, index: i}
		for opt := range strings.SplitSeq(opts, ",") {
			switch opt {
			case "omitempty":
				f.omitEmpty = true
			case "string", "omitzero":
				ok = false
			}
		}
		fields = append(fields, f)
	}
	fieldCache.Store(t, fieldsOf{fields, ok})
	return fields, ok
}
