package pathnorm

import (
	"bytes"
	"encoding/json"
)

// WithType returns payload with typ written where the type path (its
// first alternative) points, for a simulated delivery. A payload that
// already holds typ there is returned as it is, and so is one that is not
// a JSON object or whose path runs through a value that cannot hold it.
// Members the path lacks are added; the result is compact JSON.
func (s *Spec) WithType(payload []byte, typ string) []byte {
	if len(s.typ) == 0 || s.Type(payload) == typ {
		return payload
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return payload
	}
	if _, ok := setAt(doc, s.typePath.steps, typ); !ok {
		return payload
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return payload
	}
	return out
}

// setAt returns v with val written at the end of steps, and false when a
// value on the way cannot hold the next step.
func setAt(v any, steps []step, val string) (any, bool) {
	if len(steps) == 0 {
		return val, true
	}
	st := steps[0]
	switch cur := v.(type) {
	case map[string]any:
		if st.index >= 0 {
			return nil, false
		}
		next, ok := setAt(cur[st.name], steps[1:], val)
		if ok {
			cur[st.name] = next
		}
		return cur, ok
	case []any:
		if st.index < 0 || st.index >= len(cur) {
			return nil, false
		}
		next, ok := setAt(cur[st.index], steps[1:], val)
		if ok {
			cur[st.index] = next
		}
		return cur, ok
	case nil:
		if st.index >= 0 {
			return nil, false
		}
		return setAt(map[string]any{}, steps, val)
	}
	return nil, false
}
