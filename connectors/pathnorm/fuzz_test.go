package pathnorm

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// fuzzPaths are the paths FuzzRead reads.
var fuzzPaths = []string{"a", "a.b", "a[0]", "a[1].b", "b", "[0]", "[1].a", "a.a.a", "c"}

// FuzzRead checks the reader against encoding/json: on any valid JSON
// document in UTF-8, every path finds the scalar a full decoding finds
// there, or nothing where that is not a scalar; on anything else, the
// reader fails or finds values without panicking.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		`{"a":{"b":"x","a":{"a":1}},"b":[true,false,null]}`,
		`[{"a":"\u00e9\"\\"},{"a":-1.5e3}]`,
		`{"a":[{"b":1},{"b":"two"}],"a":"dup"}`,
		`{"\u0061":"escaped key","c":{}}`,
		`  {"a" : [ 0 , { "b" : "}" } ] }  `,
		`{"a":`,
		`{"c":"0123456789abcdefghij\"k\\","a":{"b":"0123456789abcdef\\\"q\u00e9 long enough"}}`,
	} {
		f.Add([]byte(seed))
	}
	s := &Spec{}
	for _, text := range fuzzPaths {
		p, err := parsePath(text)
		if err != nil {
			f.Fatal(err)
		}
		s.addSlots([]path{p})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var buf [maxStackSlots]value
		vals, err := s.read(data, &buf)
		if !json.Valid(data) || !utf8.Valid(data) {
			return
		}
		if err != nil {
			t.Fatalf("read failed on valid JSON: %v", err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		for i, text := range fuzzPaths {
			p, _ := parsePath(text)
			want, ok := walk(doc, p.steps)
			got := vals[i].text(data)
			if ok != (vals[i].kind != kindNone) || got != want {
				t.Errorf("%s: read %q (found %v), encoding/json %q (found %v)", text, got, vals[i].kind != kindNone, want, ok)
			}
		}
	})
}

// walk follows steps through a decoded document to a scalar.
func walk(v any, steps []step) (string, bool) {
	for _, st := range steps {
		switch cur := v.(type) {
		case map[string]any:
			if st.index >= 0 {
				return "", false
			}
			v = cur[st.name]
		case []any:
			if st.index < 0 || st.index >= len(cur) {
				return "", false
			}
			v = cur[st.index]
		default:
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}
