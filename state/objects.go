package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
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
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decode stored %s: %w", typ, err)
	}
	var meta struct {
		ID        string    `json:"id"`
		Version   int64     `json:"revision"`
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
		UpdatedBy string    `json:"updated_by"`
		Sensitive *struct {
			Sealed *sealed `json:"$sealed"`
		} `json:"sensitive"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("decode stored %s: %w", typ, err)
	}
	o := NewObject(typ, doc)
	o.Sensitive = nil
	o.ID, o.Version, o.CreatedAt, o.UpdatedAt, o.UpdatedBy = meta.ID, meta.Version, meta.CreatedAt, meta.UpdatedAt, meta.UpdatedBy
	if meta.Sensitive != nil {
		o.sealed = meta.Sensitive.Sealed
	}
	return o, nil
}

// writeObject is the only way an object changes. It compares the current
// version with the expected one and, in the same step, writes the new
// version, keeps it in the bounded history, indexes the name and appends
// the change to the change stream watchers follow.
//
// KEYS: current hash, versions hash, type index, change stream.
// ARGV: op (create, update or delete), expected version, new version, new
// document, name, type, versions kept, change stream length.
// Returns {"ok", stream id}, or {"exists"|"notfound"|"stale", current version}.
var writeObject = redis.NewScript(`
local cur = tonumber(redis.call("HGET", KEYS[1], "v") or "0")
if ARGV[1] == "create" then
  if cur ~= 0 then return {"exists", tostring(cur)} end
else
  if cur == 0 then return {"notfound", "0"} end
  if cur ~= tonumber(ARGV[2]) then return {"stale", tostring(cur)} end
end
if ARGV[1] == "delete" then
  redis.call("DEL", KEYS[1], KEYS[2])
  redis.call("SREM", KEYS[3], ARGV[5])
  local id = redis.call("XADD", KEYS[4], "MAXLEN", "~", ARGV[8], "*",
    "op", "deleted", "type", ARGV[6], "name", ARGV[5], "version", tostring(cur))
  return {"ok", id}
end
redis.call("HSET", KEYS[1], "v", ARGV[3], "doc", ARGV[4])
redis.call("HSET", KEYS[2], ARGV[3], ARGV[4])
local drop = tonumber(ARGV[3]) - tonumber(ARGV[7])
if drop > 0 then redis.call("HDEL", KEYS[2], tostring(drop)) end
redis.call("SADD", KEYS[3], ARGV[5])
local op = "updated"
if ARGV[1] == "create" then op = "created" end
local id = redis.call("XADD", KEYS[4], "MAXLEN", "~", ARGV[8], "*",
  "op", op, "type", ARGV[6], "name", ARGV[5], "version", ARGV[3], "doc", ARGV[4])
return {"ok", id}
`)

// write runs writeObject and maps its refusals to errors.
func (s *Store) write(ctx context.Context, op string, o *Object, expected int64, doc []byte) error {
	keys := []string{objectKey(o.Type, o.Name), objectVersionsKey(o.Type, o.Name), objectIndexKey(o.Type), changesKey()}
	res, err := writeObject.Run(ctx, s.rdb, keys, op, expected, o.Version, doc, o.Name, o.Type, s.objectHistory, s.changeHistory).StringSlice()
	if err != nil {
		return fmt.Errorf("write %s/%s: %w", o.Type, o.Name, err)
	}
	switch res[0] {
	case "ok":
		return nil
	case "exists":
		return fmt.Errorf("%s %q %w", o.Type, o.Name, ErrExists)
	case "notfound":
		return fmt.Errorf("%s %q: %w", o.Type, o.Name, ErrNotFound)
	default:
		return &StaleError{Type: o.Type, Name: o.Name, Current: parseVersion(res[1]), Expected: expected}
	}
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
		raw, err = s.rdb.HGet(ctx, objectKey(typ, name), "doc").Bytes()
	} else {
		raw, err = s.rdb.HGet(ctx, objectVersionsKey(typ, name), strconv.FormatInt(version, 10)).Bytes()
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

// Objects lists the objects of a type whose names match a glob (path.Match
// syntax; empty matches all), sorted by name.
func (s *Store) Objects(ctx context.Context, typ, match string) ([]*Object, error) {
	if match != "" {
		if _, err := path.Match(match, ""); err != nil {
			return nil, fmt.Errorf("%w: match %q is not a valid glob", ErrInvalid, match)
		}
	}
	names, err := s.rdb.SMembers(ctx, objectIndexKey(typ)).Result()
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", typ, err)
	}
	names = slices.DeleteFunc(names, func(n string) bool {
		ok, _ := path.Match(match, n)
		return match != "" && !ok
	})
	slices.Sort(names)
	cmds := make([]*redis.StringCmd, len(names))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, n := range names {
			cmds[i] = p.HGet(ctx, objectKey(typ, n), "doc")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("list %s: %w", typ, err)
	}
	out := make([]*Object, 0, len(names))
	for _, c := range cmds {
		raw, err := c.Bytes()
		if errors.Is(err, redis.Nil) {
			continue // deleted between the two reads
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", typ, err)
		}
		o, err := decodeStored(typ, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// VersionInfo summarises one kept version of an object.
type VersionInfo struct {
	Version   int64     `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// Versions lists the kept versions of an object, newest first.
func (s *Store) Versions(ctx context.Context, typ, name string) ([]VersionInfo, error) {
	all, err := s.rdb.HGetAll(ctx, objectVersionsKey(typ, name)).Result()
	if err != nil {
		return nil, fmt.Errorf("versions of %s/%s: %w", typ, name, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s %q: %w", typ, name, ErrNotFound)
	}
	out := make([]VersionInfo, 0, len(all))
	for _, raw := range all {
		var v VersionInfo
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, fmt.Errorf("decode version of %s/%s: %w", typ, name, err)
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b VersionInfo) int { return int(b.Version - a.Version) })
	return out, nil
}

// Create stores a new object at version 1.
func (s *Store) Create(ctx context.Context, o *Object, by string) (*Object, error) {
	next := &Object{
		Type: o.Type, Name: o.Name, ID: newID(), Version: 1, Content: o.Content, Sensitive: o.Sensitive,
		UpdatedBy: by,
	}
	if isMasked(o.Sensitive) {
		return nil, fmt.Errorf("%w: field sensitive: the masked placeholder cannot create a sensitive part", ErrInvalid)
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
		next, err := edit(cur)
		if errors.Is(err, ErrNoChange) {
			return cur, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		next.Type, next.Name = typ, name
		if next.Content["name"] != nil && next.Content["name"] != name {
			return nil, false, fmt.Errorf("%w: field name: %q cannot be renamed to %v", ErrInvalid, name, next.Content["name"])
		}
		same, err := s.sameAs(cur, next)
		if err != nil {
			return nil, false, err
		}
		if same {
			return cur, false, nil
		}
		next.ID, next.CreatedAt = cur.ID, cur.CreatedAt
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
	a, err := json.Marshal(cur.Content)
	if err != nil {
		return false, err
	}
	b, err := json.Marshal(next.Content)
	if err != nil {
		return false, err
	}
	if !bytes.Equal(a, b) {
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
	a, _ = json.Marshal(cur.Sensitive)
	b, _ = json.Marshal(next.Sensitive)
	return bytes.Equal(a, b), nil
}

func newID() string { return uuid.NewString() }

func isMasked(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 1 && m["masked"] == true
}

// Upsert updates an object through edit, or creates it from edit applied
// to an empty object when it does not exist yet. Concurrent upserts of a
// new object end as one create and updates.
func (s *Store) Upsert(ctx context.Context, typ, name, by string, edit Edit) (*Object, bool, error) {
	for range maxWriteRetries {
		o, changed, err := s.Update(ctx, typ, name, 0, by, edit)
		if !errors.Is(err, ErrNotFound) {
			return o, changed, err
		}
		next, err := edit(&Object{Type: typ, Name: name, Content: map[string]any{"name": name}})
		if errors.Is(err, ErrNoChange) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		next.Type, next.Name = typ, name
		o, err = s.Create(ctx, next, by)
		if errors.Is(err, ErrExists) {
			continue
		}
		return o, err == nil, err
	}
	return nil, false, fmt.Errorf("%s %q: upsert gave up after %d attempts", typ, name, maxWriteRetries)
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
