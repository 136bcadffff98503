package state

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
)

// Op is one write of a transaction.
type Op struct {
	// Kind is "create", "update" or "delete".
	Kind string
	// Object is the object to write; for a delete, its type and name.
	Object *Object
	// Expected is the revision an update or delete must find.
	Expected int64
	// ExpectedID, when set, is the id an update or delete must find too:
	// a write computed from a remembered version, not one read just now,
	// must not land on an object deleted and made again since, which may
	// have reached the same revision.
	ExpectedID string
}

// writeObjects is the only way objects change. It checks every object's
// revision (and, when the op names one, its id) first and writes nothing
// unless all match, so a set of changes lands whole or not at all; then,
// for each, it writes the new version, keeps it in the bounded history,
// indexes a new object's name (by name, and by creation time) and appends
// the change to the stream watchers follow.
//
// KEYS: for each op its current hash, versions hash, name index and time
// index; then the change stream. ARGV: writeObjectsArgs.
// Returns {"ok"}, or {"exists"|"notfound"|"stale", op index (1-based),
// current revision}.
var writeObjects = redis.NewScript(`
local kept, streamLength = tonumber(ARGV[1]), ARGV[2]
local function op(i)
  local a = 2 + (i - 1) * 9
  return {kind = ARGV[a + 1], expected = ARGV[a + 2], revision = ARGV[a + 3], doc = ARGV[a + 4],
    name = ARGV[a + 5], typ = ARGV[a + 6], created = ARGV[a + 7], expectedID = ARGV[a + 8], id = ARGV[a + 9]}
end
local n = (#KEYS - 1) / 4
local stream = KEYS[#KEYS]
for i = 1, n do
  local o = op(i)
  local stored = redis.call("HMGET", KEYS[(i - 1) * 4 + 1], "v", "id")
  local cur = tonumber(stored[1] or "0")
  if o.kind == "create" and cur ~= 0 then return {"exists", tostring(i), tostring(cur)} end
  if o.kind ~= "create" and cur == 0 then return {"notfound", tostring(i), "0"} end
  if o.kind ~= "create" and (cur ~= tonumber(o.expected) or (o.expectedID ~= "" and stored[2] ~= o.expectedID)) then
    return {"stale", tostring(i), tostring(cur)}
  end
end
for i = 1, n do
  local o = op(i)
  local k = (i - 1) * 4
  local cur, versions, names, times = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  if o.kind == "delete" then
    redis.call("DEL", cur, versions)
    redis.call("ZREM", names, o.name)
    redis.call("ZREM", times, o.name)
    redis.call("XADD", stream, "MAXLEN", "~", streamLength, "*", "op", "deleted", "type", o.typ, "name", o.name, "version", o.expected)
  else
    redis.call("HSET", cur, "v", o.revision, "doc", o.doc, "id", o.id)
    redis.call("HSET", versions, o.revision, o.doc)
    local drop = tonumber(o.revision) - kept
    if drop > 0 then redis.call("HDEL", versions, tostring(drop)) end
    local change = "updated"
    if o.kind == "create" then
      change = "created"
      redis.call("ZADD", names, 0, o.name)
      redis.call("ZADD", times, o.created, o.name)
    end
    redis.call("XADD", stream, "MAXLEN", "~", streamLength, "*", "op", change, "type", o.typ, "name", o.name, "version", o.revision, "doc", o.doc)
  end
end
return {"ok"}
`)

// writeObjectsArgs are writeObjects' ARGV, in order: two values, then
// nine for each op. The script names them in its first lines.
type writeObjectsArgs struct {
	VersionsKept int           // 1: how many revisions of an object are kept
	StreamLength int           // 2: about how many changes the stream keeps
	Ops          []objectWrite // 3 on: nine values per op
}

// objectWrite is one op's part of writeObjectsArgs, in order.
type objectWrite struct {
	Kind     string // create, update or delete
	Expected int64  // the revision an update or delete must find
	Revision int64  // the revision written
	Doc      []byte // the stored document; empty for a delete
	Name     string
	Type     string
	Created  int64 // creation time (ms), for the time index
	// ExpectedID is the id an update or delete must find; "" checks none.
	ExpectedID string
	ID         string // the object's id, kept beside its revision
}

func (a writeObjectsArgs) argv() []any {
	out := make([]any, 0, 2+9*len(a.Ops))
	out = append(out, a.VersionsKept, a.StreamLength)
	for _, w := range a.Ops {
		out = append(out, w.Kind, w.Expected, w.Revision, w.Doc, w.Name, w.Type, w.Created, w.ExpectedID, w.ID)
	}
	return out
}

// Transact writes several objects atomically: all of them, or, when one
// is missing, exists already or is not at its expected revision, none.
// Objects to create or update are prepared (validated and sealed) first;
// their revision, id and times are set here.
func (s *Store) Transact(ctx context.Context, ops []Op, by string) error {
	if len(ops) == 0 {
		return nil
	}
	docs := make([][]byte, len(ops))
	now := s.now()
	for i, op := range ops {
		o := op.Object
		switch op.Kind {
		case "create":
			o.ID, o.Version, o.CreatedAt = newID(), 1, now
		case "update":
			o.Version = op.Expected + 1
		case "delete":
			continue
		default:
			return fmt.Errorf("transact: unknown op %q", op.Kind)
		}
		o.UpdatedAt, o.UpdatedBy = now, by
		var err error
		if docs[i], err = s.prepare(o); err != nil {
			return fmt.Errorf("%s %q: %w", o.Type, o.Name, err)
		}
	}
	return s.runWrites(ctx, ops, docs)
}

// runWrites runs writeObjects on prepared objects and their stored
// documents, and maps a refusal to ErrExists, ErrNotFound or a
// StaleError naming the object.
func (s *Store) runWrites(ctx context.Context, ops []Op, docs [][]byte) error {
	keys := make([]string, 0, len(ops)*4+1)
	args := writeObjectsArgs{VersionsKept: s.objectHistory, StreamLength: s.changeHistory, Ops: make([]objectWrite, len(ops))}
	for i, op := range ops {
		o := op.Object
		keys = append(keys, keyspace.Object(o.Type, o.Name), keyspace.ObjectVersions(o.Type, o.Name), keyspace.ObjectNames(o.Type), keyspace.ObjectTimes(o.Type))
		args.Ops[i] = objectWrite{Kind: op.Kind, Expected: op.Expected, Revision: o.Version, Doc: docs[i], Name: o.Name, Type: o.Type,
			Created: o.CreatedAt.UnixMilli(), ExpectedID: op.ExpectedID, ID: o.ID}
	}
	keys = append(keys, keyspace.Changes())
	res, err := writeObjects.Run(ctx, s.rdb, keys, args.argv()...).StringSlice()
	if err != nil {
		if len(ops) == 1 {
			return fmt.Errorf("write %s/%s: %w", ops[0].Object.Type, ops[0].Object.Name, err)
		}
		return fmt.Errorf("write %d objects: %w", len(ops), err)
	}
	if res[0] == "ok" {
		for i, op := range ops {
			if op.Kind == "delete" {
				s.recent.forget(op.Object.Type, op.Object.Name)
			} else {
				s.recent.remember(op.Object.Type, op.Object.Name, docs[i])
			}
		}
		return nil
	}
	i := int(parseVersion(res[1])) - 1
	o := ops[i].Object
	switch res[0] {
	case "exists":
		return fmt.Errorf("%s %q %w", o.Type, o.Name, ErrExists)
	case "notfound":
		return fmt.Errorf("%s %q: %w", o.Type, o.Name, ErrNotFound)
	}
	return &StaleError{Type: o.Type, Name: o.Name, Current: parseVersion(res[2]), Expected: ops[i].Expected}
}
