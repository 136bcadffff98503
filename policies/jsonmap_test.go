package policies

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/reflexops/reflex/fixtures"
)

// roundTrip is what expressions saw before the direct walk: the value
// through encoding/json and back.
func roundTrip(t testing.TB, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestJSONMapMatchesEncoder: for every golden event and for values that
// exercise each rule of encoding/json, the direct walk gives exactly what
// the encoder's round trip gives.
func TestJSONMapMatchesEncoder(t *testing.T) {
	cases := map[string]any{}
	for _, provider := range fixtures.Providers() {
		all, err := fixtures.Load(provider)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range all {
			evs, err := f.Events()
			if err != nil {
				t.Fatal(err)
			}
			for i := range evs {
				ev := &evs[i]
				processed := time.Date(2026, 11, 26, 3, 4, 5, 600, time.FixedZone("x", 3600))
				ev.ProcessedAt, ev.Attempts = &processed, 2
				cases[fmt.Sprintf("%s/%s/%d", provider, f.Name, i)] = ev
			}
		}
	}
	if len(cases) < 10 {
		t.Fatalf("only %d golden events", len(cases))
	}
	type inner struct {
		N    uint8   `json:"n"`
		F    float32 `json:"f,omitempty"`
		Skip string  `json:"-"`
		Bare string
	}
	type text struct{ At time.Time }
	cases["object document"] = map[string]any{
		"name": "web", "revision": 3, "nested": map[string]any{"list": []any{1, "two", nil, true}},
		"empty": map[string]any{}, "none": nil, "at": time.Unix(1700000000, 5).UTC(),
	}
	cases["struct rules"] = struct {
		Inner      inner            `json:"inner"`
		Ptr        *inner           `json:"ptr,omitempty"`
		NilPtr     *inner           `json:"nil_ptr"`
		Map        map[string]int   `json:"map,omitempty"`
		EmptyMap   map[string]int   `json:"empty_map,omitempty"`
		NilSlice   []string         `json:"nil_slice"`
		Slice      []inner          `json:"slice"`
		Array      [2]int           `json:"array"`
		Zero       int              `json:"zero,omitempty"`
		Any        any              `json:"any"`
		Texts      []text           `json:"texts"`
		Big        int64            `json:"big"`
		Maps       []map[string]any `json:"maps"`
		unexported string
	}{
		Inner: inner{N: 7, Skip: "no", Bare: "yes"}, Ptr: &inner{F: 1.5}, Map: map[string]int{"a": 1},
		EmptyMap: map[string]int{}, Slice: []inner{{N: 1}}, Array: [2]int{3, 4}, Any: []int{1},
		Texts: []text{{At: time.Unix(1, 2)}}, Big: 1<<53 + 1, Maps: []map[string]any{{"x": 1}}, unexported: "hidden",
	}
	// What the walk leaves to the encoder.
	type embedded struct{ inner }
	encoded := map[string]any{
		"bytes":         map[string]any{"b": []byte("hi")},
		"int keys":      map[string]any{"m": map[int]string{1: "x"}},
		"marshaler":     map[string]any{"raw": json.RawMessage(`{"k":[1]}`)},
		"invalid utf-8": map[string]any{"s": "a\xffb"},
		"string option": struct {
			N int `json:"n,string"`
		}{5},
		"embedded struct": embedded{inner{N: 1}},
	}
	for name, v := range encoded {
		cases[name] = v
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			_, walked := toJSON(reflect.ValueOf(v))
			if _, fallback := encoded[name]; walked == fallback {
				t.Fatalf("walked = %v, want %v", walked, !fallback)
			}
			got, want := jsonMap(v), roundTrip(t, v)
			if !reflect.DeepEqual(got, want) {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(want)
				t.Fatalf("jsonMap\n got %s\nwant %s", gj, wj)
			}
		})
	}
}
