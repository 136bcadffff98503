package state

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/internal/fuzzseed"
)

// FuzzMergePatch checks mergePatch against RFC 7386 on two JSON
// documents, a target and a patch: the target is left as it was; the
// result is JSON; a null member of an object patch deletes, and any other
// member that is not an object is taken whole; applying the same patch
// again changes nothing; and patching a document with its difference to
// another (diffPatch) gives that other one.
func FuzzMergePatch(f *testing.F) {
	// RFC 7386's appendix A, then pairs of the shipped configurations
	// and fixtures' golden events, as JSON.
	rfc := [][2]string{
		{`{"a":"b"}`, `{"a":"c"}`}, {`{"a":"b"}`, `{"b":"c"}`}, {`{"a":"b"}`, `{"a":null}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`}, {`{"a":["b"]}`, `{"a":"c"}`}, {`{"a":"c"}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`}, {`{"a":[{"b":"c"}]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`}, {`{"a":"b"}`, `["c"]`}, {`{"a":"foo"}`, `null`}, {`{"a":"foo"}`, `"bar"`},
		{`{"e":null}`, `{"a":1}`}, {`[1,2]`, `{"a":"b","c":null}`}, {`{}`, `{"a":{"bb":{"ccc":null}}}`},
	}
	for _, p := range rfc {
		f.Add([]byte(p[0]), []byte(p[1]))
	}
	var docs [][]byte
	for _, ev := range fuzzseed.Events(f) {
		raw, err := json.Marshal(ev)
		if err != nil {
			f.Fatal(err)
		}
		docs = append(docs, raw)
	}
	for i := range docs {
		f.Add(docs[i], docs[(i+1)%len(docs)])
	}
	f.Fuzz(func(t *testing.T, targetJSON, patchJSON []byte) {
		var target, patch any
		if json.Unmarshal(targetJSON, &target) != nil || json.Unmarshal(patchJSON, &patch) != nil {
			return
		}
		before := clone(t, target)
		got := mergePatch(target, patch)
		if diff := cmp.Diff(before, target); diff != "" {
			t.Fatalf("mergePatch changed its target (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(got, clone(t, got)); diff != "" {
			t.Fatalf("the result does not survive JSON (-result +through JSON):\n%s", diff)
		}
		if p, ok := patch.(map[string]any); ok {
			res, ok := got.(map[string]any)
			if !ok {
				t.Fatalf("an object patch gave %T, want an object", got)
			}
			for k, v := range p {
				_, kept := res[k]
				switch v.(type) {
				case nil:
					if kept {
						t.Errorf("member %q patched with null is still there: %v", k, res[k])
					}
				case map[string]any:
				default:
					if diff := cmp.Diff(v, res[k]); diff != "" {
						t.Errorf("member %q is not the patch's (-patch +result):\n%s", k, diff)
					}
				}
			}
		}
		if diff := cmp.Diff(got, mergePatch(got, patch)); diff != "" {
			t.Fatalf("the same patch applied again changed the result (-once +twice):\n%s", diff)
		}
		want := withoutNulls(clone(t, patch))
		if diff := cmp.Diff(want, mergePatch(target, diffPatch(target, want))); diff != "" {
			t.Fatalf("patching with the difference did not give the other document (-want +got):\n%s", diff)
		}
	})
}

// diffPatch returns the merge patch that turns from into to (whose
// objects hold no null member, which no merge patch can write).
func diffPatch(from, to any) any {
	t, ok := to.(map[string]any)
	if !ok {
		return to
	}
	f, _ := from.(map[string]any) // not an object: the patch writes every member
	p := map[string]any{}
	for k := range f {
		if _, ok := t[k]; !ok {
			p[k] = nil
		}
	}
	for k, v := range t {
		old, ok := f[k]
		if ok && cmp.Equal(old, v) {
			continue
		}
		p[k] = diffPatch(old, v)
	}
	return p
}

// withoutNulls removes the null members of objects, through objects
// (an array is a value, taken whole).
func withoutNulls(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, e := range m {
		if e == nil {
			delete(m, k)
			continue
		}
		m[k] = withoutNulls(e)
	}
	return m
}

// clone copies a JSON value through JSON.
func clone(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %v: %v", v, err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return out
}
