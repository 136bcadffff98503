package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/internal/keyspace"
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
	versions, err := s.Versions(ctx, "state", "x", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, v := range versions.Versions {
		got = append(got, v.Version)
	}
	if !cmp.Equal(got, []int64{5, 4, 3}) {
		t.Fatalf("kept versions = %v, want the 3 newest", got)
	}
	first, err := s.Versions(ctx, "state", "x", "", 2)
	if err != nil || len(first.Versions) != 2 || first.Next == "" {
		t.Fatalf("first page of 2 = %+v, %v", first, err)
	}
	second, err := s.Versions(ctx, "state", "x", first.Next, 2)
	if err != nil || len(second.Versions) != 1 || second.Versions[0].Version != 3 || second.Next != "" {
		t.Fatalf("second page = %+v, %v; want revision 3 and no next", second, err)
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
			_, err := s.Upsert(ctx, "state", "shared", "t", func(cur *state.Object) (*state.Object, error) {
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

// TestUpsertAll: objects edited together are created or updated in one
// write, an edit that changes nothing leaves its object, and concurrent
// writers of the same objects lose no update.
func TestUpsertAll(t *testing.T) {
	ctx := context.Background()
	s := state.New(redistest.New(t).Client, state.Options{})
	if _, err := s.Create(ctx, state.NewObject("state", doc(t, `{"name":"old","n":1}`)), "t"); err != nil {
		t.Fatal(err)
	}
	set := func(field string) state.Edit {
		return func(cur *state.Object) (*state.Object, error) {
			next := cur.Copy()
			next.Content[field] = true
			return next, nil
		}
	}
	unchanged := func(*state.Object) (*state.Object, error) { return nil, state.ErrNoChange }
	changed, err := s.UpsertAll(ctx, "t",
		state.Upsertion{Type: "state", Name: "old", Edit: set("a")},
		state.Upsertion{Type: "state", Name: "new", Edit: set("b")},
		state.Upsertion{Type: "state", Name: "untouched", Edit: unchanged})
	if err != nil || !changed {
		t.Fatalf("UpsertAll = %v, %v; want a change", changed, err)
	}
	for _, w := range []struct {
		typ, name string
		version   int64
		field     string
	}{{"state", "old", 2, "a"}, {"state", "new", 1, "b"}} {
		o, err := s.Object(ctx, w.typ, w.name, 0)
		if err != nil || o.Version != w.version || o.Content[w.field] != true {
			t.Fatalf("%s/%s = %+v, %v; want revision %d with %s set", w.typ, w.name, o, err, w.version, w.field)
		}
	}
	if _, err := s.Object(ctx, "state", "untouched", 0); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("an edit that changed nothing created its object: %v", err)
	}
	if changed, err := s.UpsertAll(ctx, "t", state.Upsertion{Type: "state", Name: "old", Edit: set("a")}); err != nil || changed {
		t.Fatalf("setting what is set = %v, %v; want no change", changed, err)
	}

	errs := make(chan error, 10)
	for i := range 10 {
		go func() {
			_, err := s.UpsertAll(ctx, "t",
				state.Upsertion{Type: "state", Name: "race-1", Edit: set(fmt.Sprintf("w%d", i))},
				state.Upsertion{Type: "state", Name: "race-2", Edit: set(fmt.Sprintf("w%d", i))})
			errs <- err
		}()
	}
	for range 10 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"race-1", "race-2"} {
		o, err := s.Object(ctx, "state", name, 0)
		if err != nil || len(o.Content) != 11 || o.Version != 10 {
			t.Fatalf("state/%s after 10 concurrent writers: %v, %v; want 11 fields at revision 10", name, o, err)
		}
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

// TestListObjectsPaging pages through a type by name and newest first,
// with objects that share a creation time, and checks each order is exact.
func TestListObjectsPaging(t *testing.T) {
	ctx := context.Background()
	tick := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	n := 0
	clock := func() time.Time {
		n++
		return tick.Add(time.Duration(n/10) * time.Millisecond) // ten objects per millisecond
	}
	s := state.New(redistest.New(t).Client, state.Options{Now: clock})
	var byName []string
	for i := range 230 {
		name := fmt.Sprintf("svc-%03d", (i*37)%230) // created out of name order
		if _, err := s.Create(ctx, state.NewObject("state", map[string]any{"name": name, "odd": i%2 == 1}), "test"); err != nil {
			t.Fatal(err)
		}
		byName = append(byName, name)
	}
	newest := slices.Clone(byName)
	slices.Reverse(newest) // creation order, newest first; ties fall back to name, descending
	sortTies(newest, func(name string) int { return (slices.Index(byName, name) + 1) / 10 })
	slices.Sort(byName)
	tests := []struct {
		name string
		q    state.ObjectQuery
		want []string
	}{
		{"by name", state.ObjectQuery{Limit: 7}, byName},
		{"newest first", state.ObjectQuery{Newest: true, Limit: 7}, newest},
		{"one page", state.ObjectQuery{Limit: 1000}, byName},
		{"glob", state.ObjectQuery{Match: "svc-1*", Limit: 9}, filter(byName, func(n string) bool { return strings.HasPrefix(n, "svc-1") })},
		{"kept only", state.ObjectQuery{Newest: true, Limit: 4, Keep: func(o *state.Object) bool { return o.Content["odd"] == true }},
			filter(newest, func(n string) bool { return slices.Index(byName, n) >= 0 && isOdd(t, s, n) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Type = "state"
			var got []string
			for pages := 0; ; pages++ {
				page, err := s.ListObjects(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Objects) > max(q.Limit, 1) {
					t.Fatalf("page of %d objects, limit %d", len(page.Objects), q.Limit)
				}
				for _, o := range page.Objects {
					got = append(got, o.Name)
				}
				if page.Next == "" {
					break
				}
				if pages > 1000 {
					t.Fatal("paging does not end")
				}
				q.Cursor = page.Next
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("listing (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMigrateLegacyIndex: names kept in the earlier plain set are listed
// once Migrate has run, in both orders.
func TestMigrateLegacyIndex(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := state.New(r.Client, state.Options{Now: func() time.Time { at = at.Add(time.Millisecond); return at }})
	for _, name := range []string{"b", "a", "c"} {
		if _, err := s.Create(ctx, state.NewObject("pipeline", map[string]any{"name": name}), "test"); err != nil {
			t.Fatal(err)
		}
	}
	// The layout of earlier versions: untagged keys, a plain set of names,
	// no indexes.
	for _, name := range []string{"a", "b", "c"} {
		if err := r.Client.Rename(ctx, keyspace.Object("pipeline", name), keyspace.Legacy.Object("pipeline", name)).Err(); err != nil {
			t.Fatal(err)
		}
		if err := r.Client.Rename(ctx, keyspace.ObjectVersions("pipeline", name), keyspace.Legacy.ObjectVersions("pipeline", name)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Client.Del(ctx, keyspace.ObjectNames("pipeline"), keyspace.ObjectTimes("pipeline")).Err(); err != nil {
		t.Fatal(err)
	}
	r.Client.SAdd(ctx, keyspace.Legacy.ObjectSet("pipeline"), "a", "b", "c", "gone")
	if got, _ := s.Objects(ctx, "pipeline", ""); len(got) != 0 {
		t.Fatalf("before migrating, %d objects listed", len(got))
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	for _, newest := range []bool{false, true} {
		page, err := s.ListObjects(ctx, state.ObjectQuery{Type: "pipeline", Newest: newest})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range page.Objects {
			got = append(got, o.Name)
		}
		want := []string{"a", "b", "c"}
		if newest {
			want = []string{"c", "a", "b"}
		}
		if !cmp.Equal(want, got) {
			t.Errorf("newest=%v: %v, want %v", newest, got, want)
		}
	}
	// Replicas of the earlier layout cannot share the store any more (they
	// read the untagged keys): the plain set is gone, and writes leave it
	// so.
	if _, err := s.Create(ctx, state.NewObject("pipeline", map[string]any{"name": "d"}), "test"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "pipeline", "a", 0); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.Client.Exists(ctx, keyspace.Legacy.ObjectSet("pipeline")).Result(); n != 0 {
		t.Errorf("the earlier versions' set is still there")
	}
}

func filter(list []string, keep func(string) bool) []string {
	var out []string
	for _, s := range list {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

func isOdd(t *testing.T, s *state.Store, name string) bool {
	o, err := s.Object(context.Background(), "state", name, 0)
	if err != nil {
		t.Fatal(err)
	}
	return o.Content["odd"] == true
}

// sortTies orders names that share a group (a creation millisecond) by
// name, descending, as a newest-first listing does, keeping groups in
// place.
func sortTies(names []string, group func(string) int) {
	slices.SortStableFunc(names, func(a, b string) int {
		if ga, gb := group(a), group(b); ga != gb {
			return gb - ga
		}
		return strings.Compare(b, a)
	})
}

// TestUpsertAllRemembersWhatItWrote: an edit of an object the store wrote
// last is written without reading it back (one command: the write), and
// still lands on what another writer made of it meanwhile: an update, or
// a delete and a new object that reached the same revision.
func TestUpsertAllRemembersWhatItWrote(t *testing.T) {
	set := func(field string, value any) state.Edit {
		return func(cur *state.Object) (*state.Object, error) {
			next := cur.Copy()
			next.Content[field] = value
			return next, nil
		}
	}
	tests := []struct {
		name      string
		meanwhile func(context.Context, *state.Store) error // by another replica
		commands  int64                                     // at most, for the edit
		want      map[string]any
	}{
		{"nothing", func(context.Context, *state.Store) error { return nil }, 1,
			map[string]any{"name": "repo", "mine": "old", "edit": true}},
		{"an update", func(ctx context.Context, other *state.Store) error {
			_, err := other.Upsert(ctx, "state", "repo", "other", set("theirs", true))
			return err
		}, 4, map[string]any{"name": "repo", "mine": "old", "theirs": true, "edit": true}},
		{"a delete and a new object at the same revision", func(ctx context.Context, other *state.Store) error {
			if err := other.Delete(ctx, "state", "repo", 0); err != nil {
				return err
			}
			_, err := other.Create(ctx, state.NewObject("state", map[string]any{"name": "repo", "theirs": true}), "other")
			return err
		}, 4, map[string]any{"name": "repo", "theirs": true, "edit": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := redistest.New(t)
			mine, other := state.New(r.Client, state.Options{}), state.New(r.Client, state.Options{})
			if _, err := mine.Upsert(ctx, "state", "repo", "me", set("mine", "old")); err != nil {
				t.Fatal(err)
			}
			if err := tt.meanwhile(ctx, other); err != nil {
				t.Fatal(err)
			}
			counter := &commandCounter{}
			r.Client.AddHook(counter)
			changed, err := mine.Upsert(ctx, "state", "repo", "me", set("edit", true))
			if sent := counter.n.Load(); err != nil || !changed || sent > tt.commands {
				t.Fatalf("edit: changed %v, %v, after %d commands; want a change after at most %d", changed, err, sent, tt.commands)
			}
			o, err := mine.Object(ctx, "state", "repo", 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, o.Content); diff != "" {
				t.Errorf("content after the edit (-want +got):\n%s", diff)
			}
		})
	}
}
