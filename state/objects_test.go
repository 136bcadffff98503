package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

func doc(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidation(t *testing.T) {
	s := state.New(redistest.New(t).Client, state.Options{})
	tests := []struct {
		typ, doc, want string // want: "" for valid, else part of the error
	}{
		{"pipeline", `{"name":"bct","services":["bct-test","bct-prod"]}`, ""},
		{"service", `{"name":"bct-test","pipeline":"bct","status":{"deploying":true}}`, ""},
		{"service", `{"name":"bct-test"}`, "field pipeline: is required"},
		{"service", `{"name":"bct-test","pipeline":"bct","status":{"deploying":"yes"}}`, "field status.deploying: got string, want boolean"},
		{"instance", `{"name":"i1","service":"s","address":"10.0.0.1","port":70000}`, "field port: "},
		{"build", `{"name":"b1","application":"a","version":"1","state":"done"}`, "field state: "},
		{"state", `{"name":"anything","goes":{"here":[1,2]}}`, ""},
		{"state", `{"name":"has/slash"}`, "field name: must be"},
		{"apikey", `{"name":"ci","extra":1}`, "field extra: is not a field of this type"},
		{"nope", `{"name":"x"}`, `unknown type "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.want, func(t *testing.T) {
			_, err := s.Create(context.Background(), state.NewObject(tt.typ, doc(t, tt.doc)), "test")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				return
			}
			if !errors.Is(err, state.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Create = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestRevisionsAndHistory(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{ObjectHistory: 3})
	o, err := s.Create(ctx, state.NewObject("state", doc(t, `{"name":"x","n":0}`)), "alice")
	if err != nil || o.Version != 1 || o.ID == "" {
		t.Fatalf("Create = %+v, %v", o, err)
	}
	for i := 1; i <= 4; i++ {
		o, changed, err := s.Replace(ctx, state.NewObject("state", doc(t, fmt.Sprintf(`{"name":"x","n":%d}`, i))), 0, "bob")
		if err != nil || !changed || o.Version != int64(i+1) {
			t.Fatalf("Replace %d = %+v, %v, %v", i, o, changed, err)
		}
	}
	_, changed, err := s.Replace(ctx, state.NewObject("state", doc(t, `{"name":"x","n":4}`)), 0, "bob")
	if err != nil || changed {
		t.Fatalf("identical Replace changed = %v, %v; want no change", changed, err)
	}
	versions, err := s.Versions(ctx, "state", "x")
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, v := range versions {
		got = append(got, v.Version)
	}
	if !cmp.Equal(got, []int64{5, 4, 3}) {
		t.Fatalf("kept versions = %v, want the 3 newest", got)
	}
	old, err := s.Object(ctx, "state", "x", 3)
	if err != nil || old.Content["n"] != float64(2) || old.UpdatedBy != "bob" {
		t.Fatalf("version 3 = %+v, %v", old, err)
	}
	if _, err := s.Object(ctx, "state", "x", 1); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("version 1 beyond the history = %v, want ErrNotFound", err)
	}
	cur, _ := s.Object(ctx, "state", "x", 0)
	if cur.CreatedAt != o.CreatedAt || cur.ID != o.ID {
		t.Errorf("id or creation time changed across versions")
	}
}

func TestStaleWrite(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{})
	if _, err := s.Create(ctx, state.NewObject("state", doc(t, `{"name":"x"}`)), "a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Merge(ctx, "state", "x", doc(t, `{"a":1}`), 1, "a"); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Merge(ctx, "state", "x", doc(t, `{"b":1}`), 1, "b")
	var stale *state.StaleError
	if !errors.As(err, &stale) || stale.Current != 2 || stale.Expected != 1 {
		t.Fatalf("Merge on revision 1 = %v, want a StaleError at 2", err)
	}
	if err := s.Delete(ctx, "state", "x", 1); !errors.Is(err, state.ErrStale) {
		t.Fatalf("Delete on revision 1 = %v, want ErrStale", err)
	}
	if _, err := s.Create(ctx, state.NewObject("state", doc(t, `{"name":"x"}`)), "a"); !errors.Is(err, state.ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}
}

// TestMergePatch checks RFC 7386's own examples (appendix A).
func TestMergePatch(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{})
	tests := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	}
	for i, tt := range tests {
		name := fmt.Sprintf("o%d", i)
		target := doc(t, tt.target)
		target["name"] = name
		if _, err := s.Create(ctx, state.NewObject("state", target), "t"); err != nil {
			t.Fatal(err)
		}
		o, _, err := s.Merge(ctx, "state", name, doc(t, tt.patch), 0, "t")
		if err != nil {
			t.Fatal(err)
		}
		want := doc(t, tt.want)
		want["name"] = name
		if diff := cmp.Diff(want, o.Content); diff != "" {
			t.Errorf("%s + %s (-want +got):\n%s", tt.target, tt.patch, diff)
		}
	}
}

func TestUpsertRace(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{})
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			_, _, err := s.Upsert(ctx, "state", "shared", "t", func(cur *state.Object) (*state.Object, error) {
				next := state.NewObject("state", cur.Content)
				next.Content[fmt.Sprintf("w%d", i)] = true
				return next, nil
			})
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	o, err := s.Object(ctx, "state", "shared", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Content) != 21 || o.Version != 20 {
		t.Fatalf("after 20 concurrent upserts: %d fields at revision %d, want 21 at 20 (no update lost)", len(o.Content), o.Version)
	}
}

// TestTransactIsAtomic: when one object of a transaction is not at its
// expected revision, nothing of it is written.
func TestTransactIsAtomic(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{})
	if _, err := s.Create(ctx, state.NewObject("group", doc(t, `{"name":"taken"}`)), "t"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Merge(ctx, "group", "taken", doc(t, `{"members":["x"]}`), 0, "t"); err != nil {
		t.Fatal(err)
	}
	err := s.Transact(ctx, []state.Op{
		{Kind: "create", Object: state.NewObject("group", doc(t, `{"name":"brand-new"}`))},
		{Kind: "update", Object: state.NewObject("group", doc(t, `{"name":"taken"}`)), Expected: 1},
	}, "t")
	var stale *state.StaleError
	if !errors.As(err, &stale) || stale.Name != "taken" || stale.Current != 2 {
		t.Fatalf("Transact = %v, want a StaleError on taken", err)
	}
	if _, err := s.Object(ctx, "group", "brand-new", 0); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("half of a refused transaction was written: %v", err)
	}
	err = s.Transact(ctx, []state.Op{
		{Kind: "create", Object: state.NewObject("group", doc(t, `{"name":"brand-new"}`))},
		{Kind: "update", Object: state.NewObject("group", doc(t, `{"name":"taken","members":["y"]}`)), Expected: 2},
		{Kind: "delete", Object: &state.Object{Type: "group", Name: "taken"}, Expected: 3},
	}, "t")
	if err == nil {
		t.Fatal("a transaction deleting at a revision it does not find was applied")
	}
	if err := s.Transact(ctx, []state.Op{
		{Kind: "create", Object: state.NewObject("group", doc(t, `{"name":"brand-new"}`))},
		{Kind: "update", Object: state.NewObject("group", doc(t, `{"name":"taken","members":["y"]}`)), Expected: 2},
	}, "t"); err != nil {
		t.Fatal(err)
	}
	o, err := s.Object(ctx, "group", "taken", 0)
	if err != nil || o.Version != 3 || o.UpdatedBy != "t" {
		t.Fatalf("taken after the transaction = %+v, %v", o, err)
	}
}
