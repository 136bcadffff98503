package state

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
)

// Errors of object writes, beside ErrNotFound and ErrInvalid.
var (
	// ErrExists: an object of that type and name exists already.
	ErrExists = errors.New("already exists")
	// ErrStale: the write was made on a version that is no longer current.
	ErrStale = errors.New("stale version")
)

// Defaults of the object store.
const (
	DefaultObjectHistory = 20
	DefaultChangeHistory = 10000
	// maxWriteRetries bounds how often an unconditional write is retried
	// when other writers keep landing first.
	maxWriteRetries = 50
)

// Metadata field names, set by Reflex and ignored when a client sends them.
// An object's version number is called "revision" in its document, since
// "version" is a field of some types' content (a build's version).
var metaFields = []string{"id", "revision", "created_at", "updated_at", "updated_by"}

// Object is a typed, named, versioned live-state document.
type Object struct {
	Type      string
	ID        string
	Name      string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
	// Content holds every field but the metadata and the sensitive part;
	// its "name" is Name.
	Content map[string]any
	// Sensitive is the sensitive part in clear: as written, or after
	// Store.Reveal. nil when the object has none or it is still sealed.
	Sensitive any

	sealed *sealed
}

// HasSensitive reports whether the object carries a sensitive part.
func (o *Object) HasSensitive() bool { return o.sealed != nil || o.Sensitive != nil }

// MaskedSensitive is what a caller not allowed to see a sensitive part gets
// in its place. Sending it back unchanged keeps the stored part.
var MaskedSensitive = map[string]any{"masked": true}

// Document returns the object as its API form: metadata, content and, when
// reveal is true and the part was revealed, the sensitive part in clear;
// otherwise MaskedSensitive stands in for it.
func (o *Object) Document(reveal bool) map[string]any {
	doc := make(map[string]any, len(o.Content)+7)
	for k, v := range o.Content {
		doc[k] = v
	}
	doc["id"], doc["name"], doc["revision"] = o.ID, o.Name, o.Version
	doc["created_at"], doc["updated_at"], doc["updated_by"] = o.CreatedAt, o.UpdatedAt, o.UpdatedBy
	if o.HasSensitive() {
		doc["sensitive"] = MaskedSensitive
		if reveal && o.Sensitive != nil {
			doc["sensitive"] = o.Sensitive
		}
	}
	return doc
}

// NewObject builds an object of type typ from a client's document: its
// metadata fields are ignored and its sensitive part set apart.
func NewObject(typ string, doc map[string]any) *Object {
	o := &Object{Type: typ, Content: make(map[string]any, len(doc))}
	for k, v := range doc {
		o.Content[k] = v
	}
	for _, k := range metaFields {
		delete(o.Content, k)
	}
	if s, ok := o.Content["sensitive"]; ok {
		o.Sensitive = s
		delete(o.Content, "sensitive")
	}
	o.Name, _ = o.Content["name"].(string)
	return o
}

// storedDoc is the stored form: metadata, content and the sealed part.
func (o *Object) storedJSON() ([]byte, error) {
	doc := o.Document(false)
	delete(doc, "sensitive")
	if o.sealed != nil {
		doc["sensitive"] = map[string]any{"$sealed": o.sealed}
	}
	return json.Marshal(doc)
}

func decodeStored(typ string, raw []byte) (*Object, error) {
	var doc map[string]any
	if err := gojson.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decode stored %s: %w", typ, err)
	}
	o := &Object{Type: typ, Content: doc}
	var err error
	o.ID, _ = doc["id"].(string)
	o.UpdatedBy, _ = doc["updated_by"].(string)
	if rev, ok := doc["revision"].(float64); ok {
		o.Version = int64(rev)
	}
	if o.CreatedAt, err = storedTime(doc["created_at"]); err != nil {
		return nil, fmt.Errorf("decode stored %s: created_at: %w", typ, err)
	}
	if o.UpdatedAt, err = storedTime(doc["updated_at"]); err != nil {
		return nil, fmt.Errorf("decode stored %s: updated_at: %w", typ, err)
	}
	if part, ok := doc["sensitive"].(map[string]any); ok {
		if x, ok := part["$sealed"].(map[string]any); ok {
			o.sealed = &sealed{}
			o.sealed.Key, _ = x["key"].(string)
			o.sealed.Nonce, _ = x["nonce"].(string)
			o.sealed.Data, _ = x["data"].(string)
		}
	}
	for _, k := range metaFields {
		delete(doc, k)
	}
	delete(doc, "sensitive")
	o.Name, _ = doc["name"].(string)
	return o, nil
}

// storedTime reads a time of a stored document: zero when absent.
func storedTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// write writes one object through writeObjects and maps its refusals to
// errors.
func (s *Store) write(ctx context.Context, op string, o *Object, expected int64, doc []byte) error {
	return s.runWrites(ctx, []Op{{Kind: op, Object: o, Expected: expected}}, [][]byte{doc})
}

// StaleError says which version is current when a write names another.
type StaleError struct {
	Type, Name        string
	Current, Expected int64
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("%s %q is at revision %d, not %d: read it again and reapply the change", e.Type, e.Name, e.Current, e.Expected)
}

// Unwrap makes a StaleError match ErrStale.
func (e *StaleError) Unwrap() error { return ErrStale }

func parseVersion(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// Object returns an object at its current version, or at version when it
// is not zero and still kept.
func (s *Store) Object(ctx context.Context, typ, name string, version int64) (*Object, error) {
	var raw []byte
	var err error
	if version == 0 {
		raw, err = s.rdb.HGet(ctx, keyspace.Object(typ, name), "doc").Bytes()
	} else {
		raw, err = s.rdb.HGet(ctx, keyspace.ObjectVersions(typ, name), strconv.FormatInt(version, 10)).Bytes()
	}
	if errors.Is(err, redis.Nil) {
		if version != 0 {
			return nil, fmt.Errorf("%s %q has no revision %d (the last %d are kept): %w", typ, name, version, s.objectHistory, ErrNotFound)
		}
		return nil, fmt.Errorf("%s %q: %w", typ, name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", typ, name, err)
	}
	return decodeStored(typ, raw)
}

// Objects lists every object of a type whose name matches a glob
// (path.Match syntax; empty matches all), sorted by name: for the small
// types Reflex loads whole (policies, sources, triggers). Lists a client
// asks for go through ListObjects, one page at a time.
func (s *Store) Objects(ctx context.Context, typ, match string) ([]*Object, error) {
	var out []*Object
	q := ObjectQuery{Type: typ, Match: match, Limit: MaxListLimit}
	for {
		page, err := s.ListObjects(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Objects...)
		if page.Next == "" {
			return out, nil
		}
		q.Cursor = page.Next
	}
}

// ObjectQuery selects a page of one type's objects.
type ObjectQuery struct {
	Type string
	// Match is a glob on names (path.Match syntax); empty matches all.
	Match string
	// Newest orders by creation time, newest first; otherwise the order
	// is by name.
	Newest bool
	// Cursor continues a listing after the page that returned it.
	Cursor string
	// Limit is the page size: DefaultListLimit when 0, at most MaxListLimit.
	Limit int
	// Keep, when set, keeps only the objects it returns true for (field
	// filters, the caller's read rights).
	Keep func(*Object) bool
}

// ObjectPage is one page of a listing of objects.
type ObjectPage struct {
	Objects []*Object
	// Next is the cursor of the following page; "" on the last one.
	Next string
}

// maxScanned bounds how many index entries one page may look at while
// Match or Keep leave entries out. A page that reaches it returns what it
// found with a Next cursor, so a sparse filter costs pages, not an
// unbounded request.
const maxScanned = 5000

// ListObjects returns one page of a type's objects, by name or newest
// first. Paging is exact in either order: each object that exists for the
// whole listing appears once. With Match or Keep a page may hold fewer
// than Limit objects and still have a Next page.
func (s *Store) ListObjects(ctx context.Context, q ObjectQuery) (*ObjectPage, error) {
	prefix := ""
	if q.Match != "" {
		if _, err := path.Match(q.Match, ""); err != nil {
			return nil, fmt.Errorf("%w: match %q is not a valid glob", ErrInvalid, q.Match)
		}
		prefix = globPrefix(q.Match)
	}
	list := "objects:" + q.Type + ":name"
	if q.Newest {
		list = "objects:" + q.Type + ":newest"
	}
	pos, err := s.decodeCursor(ctx, list, q.Cursor)
	if err != nil {
		return nil, err
	}
	limit := pageLimit(q.Limit)
	page := &ObjectPage{Objects: []*Object{}}
	for scanned := 0; ; {
		chunk := min(max(2*limit, 100), maxScanned-scanned) + 1
		var entries []entry
		if q.Newest {
			entries, err = s.readNewest(ctx, keyspace.ObjectTimes(q.Type), pos, "", chunk)
		} else {
			entries, err = s.readByName(ctx, keyspace.ObjectNames(q.Type), pos, prefix, chunk)
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", q.Type, err)
		}
		more := len(entries) == chunk
		if more {
			entries = entries[:chunk-1]
		}
		objs, err := s.objectsNamed(ctx, q.Type, entries)
		if err != nil {
			return nil, err
		}
		for i, e := range entries {
			scanned++
			pos = &position{Score: e.score, Member: e.member}
			o := objs[i]
			if o == nil || (q.Match != "" && !globMatch(q.Match, o.Name)) || (q.Keep != nil && !q.Keep(o)) {
				continue
			}
			page.Objects = append(page.Objects, o)
			if len(page.Objects) == limit {
				if more || i < len(entries)-1 {
					page.Next, err = s.encodeCursor(ctx, list, *pos)
				}
				return page, err
			}
		}
		if !more {
			return page, nil
		}
		if scanned >= maxScanned {
			page.Next, err = s.encodeCursor(ctx, list, *pos)
			return page, err
		}
	}
}

// objectsNamed reads the current version of each named object in one
// round trip; an object deleted meanwhile is nil.
func (s *Store) objectsNamed(ctx context.Context, typ string, entries []entry) ([]*Object, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.StringCmd, len(entries))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, e := range entries {
			cmds[i] = p.HGet(ctx, keyspace.Object(typ, e.member), "doc")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("list %s: %w", typ, err)
	}
	out := make([]*Object, len(entries))
	for i, c := range cmds {
		raw, err := c.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", typ, err)
		}
		if out[i], err = decodeStored(typ, raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// globPrefix returns the literal start of a glob, which every name it
// matches begins with.
func globPrefix(glob string) string {
	for i, r := range glob {
		if r == '*' || r == '?' || r == '[' || r == '\\' {
			return glob[:i]
		}
	}
	return glob
}

func globMatch(glob, name string) bool {
	ok, _ := path.Match(glob, name)
	return ok
}

// VersionInfo summarises one kept version of an object.
type VersionInfo struct {
	Version   int64     `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// VersionPage is one page of an object's kept versions.
type VersionPage struct {
	// Versions are newest first.
	Versions []VersionInfo
	// Next is the cursor of the following page; "" on the last one.
	Next string
}

// Versions lists the kept versions of an object, newest first, one page
// at a time (limit: DefaultListLimit when 0, at most MaxListLimit).
func (s *Store) Versions(ctx context.Context, typ, name, cursor string, limit int) (*VersionPage, error) {
	listName := "versions:" + typ + "/" + name
	pos, err := s.decodeCursor(ctx, listName, cursor)
	if err != nil {
		return nil, err
	}
	all, err := s.rdb.HGetAll(ctx, keyspace.ObjectVersions(typ, name)).Result()
	if err != nil {
		return nil, fmt.Errorf("versions of %s/%s: %w", typ, name, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s %q: %w", typ, name, ErrNotFound)
	}
	list := make([]VersionInfo, 0, len(all))
	for _, raw := range all {
		var v VersionInfo
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, fmt.Errorf("decode version of %s/%s: %w", typ, name, err)
		}
		list = append(list, v)
	}
	slices.SortFunc(list, func(a, b VersionInfo) int { return cmp.Compare(b.Version, a.Version) })
	if pos != nil {
		after := parseVersion(pos.Member)
		list = slices.DeleteFunc(list, func(v VersionInfo) bool { return v.Version >= after })
	}
	page := &VersionPage{Versions: list}
	if n := pageLimit(limit); len(list) > n {
		page.Versions = list[:n]
		if page.Next, err = s.encodeCursor(ctx, listName, position{Member: strconv.FormatInt(list[n-1].Version, 10)}); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// Create stores a new object at version 1.
func (s *Store) Create(ctx context.Context, o *Object, by string) (*Object, error) {
	next := &Object{
		Type: o.Type, Name: o.Name, ID: newID(), Version: 1, Content: o.Content, Sensitive: o.Sensitive,
		UpdatedBy: by,
	}
	if isMasked(o.Sensitive) {
		return nil, errMaskedCreate
	}
	next.CreatedAt = s.now()
	next.UpdatedAt = next.CreatedAt
	doc, err := s.prepare(next)
	if err != nil {
		return nil, err
	}
	if err := s.write(ctx, "create", next, 0, doc); err != nil {
		return nil, err
	}
	return next, nil
}

// errMaskedCreate refuses a new object whose sensitive part is the
// placeholder reads show: there is no stored part for it to stand for.
var errMaskedCreate = fmt.Errorf("%w: field sensitive: the masked placeholder cannot create a sensitive part", ErrInvalid)

// Edit computes the next content of an object from its current version.
// Returning the current object unchanged (or ErrNoChange) writes nothing.
type Edit func(cur *Object) (*Object, error)

// ErrNoChange may be returned by an Edit to leave the object as it is.
var ErrNoChange = errors.New("no change")

// Update changes an object through edit and writes the result as the
// next version. With ifVersion set, the write lands only on that version
// (ErrStale otherwise); without, a write that loses a race with another
// writer is recomputed on the new version, so no update is ever lost.
// It reports whether anything changed.
func (s *Store) Update(ctx context.Context, typ, name string, ifVersion int64, by string, edit Edit) (*Object, bool, error) {
	for range maxWriteRetries {
		cur, err := s.Object(ctx, typ, name, 0)
		if err != nil {
			return nil, false, err
		}
		if ifVersion != 0 && cur.Version != ifVersion {
			return nil, false, &StaleError{Type: typ, Name: name, Current: cur.Version, Expected: ifVersion}
		}
		next, err := s.edited(cur, edit)
		if err != nil || next == nil {
			return cur, false, err
		}
		next.Version, next.UpdatedAt, next.UpdatedBy = cur.Version+1, s.now(), by
		doc, err := s.prepare(next)
		if err != nil {
			return nil, false, err
		}
		err = s.write(ctx, "update", next, cur.Version, doc)
		if errors.Is(err, ErrStale) && ifVersion == 0 {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		return next, true, nil
	}
	return nil, false, fmt.Errorf("%s %q changes too often to update: gave up after %d attempts", typ, name, maxWriteRetries)
}

// edited returns what edit makes of the stored object cur, with cur's
// identity, or nil when it changes nothing.
func (s *Store) edited(cur *Object, edit Edit) (*Object, error) {
	next, err := edit(cur)
	if errors.Is(err, ErrNoChange) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	next.Type, next.Name = cur.Type, cur.Name
	if next.Content["name"] != nil && next.Content["name"] != cur.Name {
		return nil, fmt.Errorf("%w: field name: %q cannot be renamed to %v", ErrInvalid, cur.Name, next.Content["name"])
	}
	same, err := s.sameAs(cur, next)
	if err != nil || same {
		return nil, err
	}
	next.ID, next.CreatedAt = cur.ID, cur.CreatedAt
	return next, nil
}

// Replace writes o's content as the next version of the object. A masked
// sensitive part keeps the stored one.
func (s *Store) Replace(ctx context.Context, o *Object, ifVersion int64, by string) (*Object, bool, error) {
	return s.Update(ctx, o.Type, o.Name, ifVersion, by, func(cur *Object) (*Object, error) {
		return Replacement(cur, o), nil
	})
}

// Replacement returns what replacing cur with o's content gives: o's
// content and sensitive part, or cur's sealed part when o sends it masked.
func Replacement(cur, o *Object) *Object {
	next := &Object{Content: o.Content, Sensitive: o.Sensitive}
	if isMasked(o.Sensitive) {
		next.Sensitive, next.sealed = nil, cur.sealed
	}
	return next
}

// Merge applies an RFC 7386 merge patch to the object.
func (s *Store) Merge(ctx context.Context, typ, name string, patch map[string]any, ifVersion int64, by string) (*Object, bool, error) {
	return s.Update(ctx, typ, name, ifVersion, by, func(cur *Object) (*Object, error) {
		return s.Merged(cur, patch)
	})
}

// Merged returns what an RFC 7386 merge patch makes of cur. A patch of the
// sensitive part is merged into the part in clear, which needs the key it
// was sealed with; a masked one leaves it as it is.
func (s *Store) Merged(cur *Object, patch map[string]any) (*Object, error) {
	p := NewObject(cur.Type, patch)
	content, _ := mergePatch(cur.Content, p.Content).(map[string]any)
	next := &Object{Content: content, sealed: cur.sealed}
	sensPatch, touched := patch["sensitive"]
	switch {
	case !touched || isMasked(sensPatch):
	case sensPatch == nil:
		next.sealed = nil
	default:
		if err := s.Reveal(cur); err != nil {
			return nil, err
		}
		next.Sensitive, next.sealed = mergePatch(cur.Sensitive, sensPatch), nil
	}
	return next, nil
}

// Delete removes an object and its history, on version ifVersion when set.
func (s *Store) Delete(ctx context.Context, typ, name string, ifVersion int64) error {
	cur, err := s.Object(ctx, typ, name, 0)
	if err != nil {
		return err
	}
	if ifVersion != 0 && cur.Version != ifVersion {
		return &StaleError{Type: typ, Name: name, Current: cur.Version, Expected: ifVersion}
	}
	return s.write(ctx, "delete", cur, cur.Version, nil)
}

// Reveal decrypts the object's sensitive part into Sensitive.
func (s *Store) Reveal(o *Object) error {
	if o.sealed == nil || o.Sensitive != nil {
		return nil
	}
	plain, err := s.keys.open(o.sealed, o.Type+"/"+o.Name)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, &o.Sensitive)
}

// prepare validates an object, seals its sensitive part and returns its
// stored form.
func (s *Store) prepare(o *Object) ([]byte, error) {
	if o.Content == nil {
		o.Content = map[string]any{}
	}
	o.Content["name"] = o.Name
	if err := validate(o.Type, o.Content); err != nil {
		return nil, err
	}
	if s.check != nil {
		if err := s.check(o); err != nil {
			return nil, err
		}
	}
	if o.Sensitive != nil {
		plain, err := json.Marshal(o.Sensitive)
		if err != nil {
			return nil, fmt.Errorf("%w: field sensitive: %v", ErrInvalid, err)
		}
		if o.sealed, err = s.keys.seal(plain, o.Type+"/"+o.Name); err != nil {
			return nil, err
		}
	}
	return o.storedJSON()
}

// sameAs reports whether next would store what cur holds.
func (s *Store) sameAs(cur, next *Object) (bool, error) {
	if next.Content == nil {
		next.Content = map[string]any{}
	}
	next.Content["name"] = cur.Name
	same, known := jsonEqual(cur.Content, next.Content)
	if !known {
		a, err := json.Marshal(cur.Content)
		if err != nil {
			return false, err
		}
		b, err := json.Marshal(next.Content)
		if err != nil {
			return false, err
		}
		same = bytes.Equal(a, b)
	}
	if !same {
		return false, nil
	}
	switch {
	case next.Sensitive == nil:
		return next.sealed == cur.sealed, nil
	case cur.sealed == nil:
		return false, nil
	}
	if err := s.Reveal(cur); err != nil {
		return false, nil // cannot compare: write it
	}
	a, _ := json.Marshal(cur.Sensitive)
	b, _ := json.Marshal(next.Sensitive)
	return bytes.Equal(a, b), nil
}

// jsonEqual reports whether a and b encode to the same JSON, for values
// made of what isGeneric takes (numbers compared by value); known is
// false when it met anything else, and cannot tell.
func jsonEqual(a, b any) (equal, known bool) {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y, true
	}
	switch a := a.(type) {
	case nil:
		return b == nil, true
	case string:
		y, ok := b.(string)
		return ok && a == y, true
	case bool:
		y, ok := b.(bool)
		return ok && a == y, true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(a) != len(y) {
			return false, isGeneric(b)
		}
		for k, v := range a {
			w, ok := y[k]
			if !ok {
				return false, true
			}
			if eq, known := jsonEqual(v, w); !eq || !known {
				return false, known
			}
		}
		return true, true
	case []any:
		y, ok := b.([]any)
		if !ok || len(a) != len(y) {
			return false, isGeneric(b)
		}
		for i := range a {
			if eq, known := jsonEqual(a[i], y[i]); !eq || !known {
				return false, known
			}
		}
		return true, true
	}
	return false, false
}

// number returns the value of a JSON number of the kinds isGeneric takes.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

func newID() string { return uuid.NewString() }

func isMasked(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 1 && m["masked"] == true
}

// Upsert updates an object through edit, or creates it from edit applied
// to an empty object when it does not exist yet: UpsertAll for one
// object. Concurrent upserts of a new object end as one create and
// updates. It reports whether anything changed.
func (s *Store) Upsert(ctx context.Context, typ, name, by string, edit Edit) (bool, error) {
	return s.UpsertAll(ctx, by, Upsertion{Type: typ, Name: name, Edit: edit})
}

// Upsertion is one object UpsertAll edits.
type Upsertion struct {
	Type, Name string
	Edit       Edit
}

// UpsertAll is Upsert for several objects at once, in one read and one
// write to Redis: each edit is applied to its object's current version,
// or to a new object with only its name, and the objects that changed are
// written together, all or none. A write that loses a race with another
// writer is recomputed, so no change is lost. It reports whether anything
// changed.
func (s *Store) UpsertAll(ctx context.Context, by string, changes ...Upsertion) (bool, error) {
	remembered := true
	for range maxWriteRetries {
		curs, fromMemory, err := s.current(ctx, changes, remembered)
		if err != nil {
			return false, err
		}
		var ops []Op
		for i, c := range changes {
			op := Op{Kind: "update", Object: curs[i]}
			if op.Object == nil {
				op = Op{Kind: "create", Object: &Object{Type: c.Type, Name: c.Name, Content: map[string]any{"name": c.Name}}}
			}
			next, err := s.edited(op.Object, c.Edit)
			if err == nil && next != nil && op.Kind == "create" && isMasked(next.Sensitive) {
				err = errMaskedCreate
			}
			if err != nil {
				return false, fmt.Errorf("%s %q: %w", c.Type, c.Name, err)
			}
			if next != nil {
				op.Expected, op.Object = op.Object.Version, next
				if fromMemory[i] {
					op.ExpectedID = next.ID
				}
				ops = append(ops, op)
			}
		}
		err = s.Transact(ctx, ops, by)
		if errors.Is(err, ErrStale) || errors.Is(err, ErrExists) || errors.Is(err, ErrNotFound) {
			remembered = false // read them all afresh
			continue
		}
		return len(ops) > 0 && err == nil, err
	}
	return false, fmt.Errorf("upsert %d objects: gave up after %d attempts", len(changes), maxWriteRetries)
}

// current returns the current version of each changed object: nil where
// it does not exist. With remembered, an object this store wrote last is
// taken from memory (fromMemory[i] set) and the others are read in one
// round trip; without, all are read.
func (s *Store) current(ctx context.Context, changes []Upsertion, remembered bool) (curs []*Object, fromMemory []bool, err error) {
	curs, fromMemory = make([]*Object, len(changes)), make([]bool, len(changes))
	raws := make([][]byte, len(changes))
	var read []int
	for i, c := range changes {
		if remembered {
			raws[i] = s.recent.lookup(c.Type, c.Name)
		}
		if fromMemory[i] = raws[i] != nil; !fromMemory[i] {
			read = append(read, i)
		}
	}
	if len(read) > 0 {
		cmds := make([]*redis.StringCmd, len(changes))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range read {
				cmds[i] = p.HGet(ctx, keyspace.Object(changes[i].Type, changes[i].Name), "doc")
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, nil, fmt.Errorf("read %d objects: %w", len(read), err)
		}
		for _, i := range read {
			raw, err := cmds[i].Bytes()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("read %s/%s: %w", changes[i].Type, changes[i].Name, err)
			}
			raws[i] = raw
		}
	}
	for i, c := range changes {
		if raws[i] == nil {
			continue
		}
		if curs[i], err = decodeStored(c.Type, raws[i]); err != nil {
			return nil, nil, err
		}
	}
	return curs, fromMemory, nil
}

// Copy returns a copy of the object to edit: its content map is new (its
// values are shared), and its sensitive part, sealed or not, is kept.
func (o *Object) Copy() *Object {
	c := *o
	c.Content = make(map[string]any, len(o.Content)+1)
	for k, v := range o.Content {
		c.Content[k] = v
	}
	return &c
}

// Strings returns a field of the content that holds a list of strings, as
// such; anything else in it is left out.
func (o *Object) Strings(field string) []string {
	return stringList(o.Content[field])
}

// stringList keeps the strings of a JSON list.
func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Oldest returns the names of up to n objects of a type in creation
// order, oldest first, and how many objects of the type exist. With
// before set, only objects created before it are returned. It is how
// bounded records (deliveries) are pruned.
func (s *Store) Oldest(ctx context.Context, typ string, n int, before time.Time) ([]string, int64, error) {
	total, err := s.rdb.ZCard(ctx, keyspace.ObjectTimes(typ)).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", typ, err)
	}
	max := "+inf"
	if !before.IsZero() {
		max = "(" + strconv.FormatInt(before.UnixMilli(), 10)
	}
	names, err := s.rdb.ZRangeByScore(ctx, keyspace.ObjectTimes(typ), &redis.ZRangeBy{Min: "-inf", Max: max, Count: int64(n)}).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("list the oldest %s: %w", typ, err)
	}
	return names, total, nil
}

// unindex removes the name of an object that no longer exists from the
// indexes of its type (a replica on an earlier version deleted it without
// knowing them).
//
// KEYS: the object's hash, the name index, the time index. ARGV: name.
var unindex = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 1 then return 0 end
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("ZREM", KEYS[3], ARGV[1])
return 1
`)

// Unindex drops an object that does not exist from its type's lists; it
// changes nothing when the object exists.
func (s *Store) Unindex(ctx context.Context, typ, name string) error {
	keys := []string{keyspace.Object(typ, name), keyspace.ObjectNames(typ), keyspace.ObjectTimes(typ)}
	if err := unindex.Run(ctx, s.rdb, keys, name).Err(); err != nil {
		return fmt.Errorf("unindex %s/%s: %w", typ, name, err)
	}
	return nil
}
