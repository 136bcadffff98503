package state

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Op is one write of a transaction.
type Op struct {
	// Kind is "create", "update" or "delete".
	Kind string
	// Object is the object to write; for a delete, its type and name.
	Object *Object
	// Expected is the revision an update or delete must find.
	Expected int64
}

// writeObjects is the only way objects change. It checks every object's
// revision first and writes nothing unless all match, so a set of changes
// lands whole or not at all; then, for each, it writes the new version,
// keeps it in the bounded history, indexes the name (by name, and by
// creation time) and appends the change to the stream watchers follow.
//
// It also keeps the plain set of names that earlier versions list objects
// by, so that replicas not upgraded yet keep seeing every object during a
// rolling upgrade.
//
// KEYS: for each op its current hash, versions hash, name index, time
// index and the earlier versions' name set; then the change stream.
// ARGV: versions kept, change stream length, then for each op: kind
// (create, update or delete), expected revision, new revision, document,
// name, type, creation time (ms).
// Returns {"ok"}, or {"exists"|"notfound"|"stale", op index (1-based),
// current revision}.
var writeObjects = redis.NewScript(`
local n = (#KEYS - 1) / 5
local stream = KEYS[#KEYS]
for i = 0, n - 1 do
  local kind, expected = ARGV[3 + i*7], tonumber(ARGV[4 + i*7])
  local cur = tonumber(redis.call("HGET", KEYS[1 + i*5], "v") or "0")
  if kind == "create" and cur ~= 0 then return {"exists", tostring(i + 1), tostring(cur)} end
  if kind ~= "create" and cur == 0 then return {"notfound", tostring(i + 1), "0"} end
  if kind ~= "create" and cur ~= expected then return {"stale", tostring(i + 1), tostring(cur)} end
end
for i = 0, n - 1 do
  local kind, rev, doc = ARGV[3 + i*7], ARGV[5 + i*7], ARGV[6 + i*7]
  local name, typ, created = ARGV[7 + i*7], ARGV[8 + i*7], ARGV[9 + i*7]
  local cur, versions, names, times, legacy = KEYS[1 + i*5], KEYS[2 + i*5], KEYS[3 + i*5], KEYS[4 + i*5], KEYS[5 + i*5]
  if kind == "delete" then
    redis.call("DEL", cur, versions)
    redis.call("ZREM", names, name)
    redis.call("ZREM", times, name)
    redis.call("SREM", legacy, name)
    redis.call("XADD", stream, "MAXLEN", "~", ARGV[2], "*", "op", "deleted", "type", typ, "name", name, "version", ARGV[4 + i*7])
  else
    redis.call("HSET", cur, "v", rev, "doc", doc)
    redis.call("HSET", versions, rev, doc)
    local drop = tonumber(rev) - tonumber(ARGV[1])
    if drop > 0 then redis.call("HDEL", versions, tostring(drop)) end
    redis.call("ZADD", names, 0, name)
    redis.call("ZADD", times, "NX", created, name)
    redis.call("SADD", legacy, name)
    local op = "updated"
    if kind == "create" then op = "created" end
    redis.call("XADD", stream, "MAXLEN", "~", ARGV[2], "*", "op", op, "type", typ, "name", name, "version", rev, "doc", doc)
  end
end
return {"ok"}
`)

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
	keys := make([]string, 0, len(ops)*5+1)
	args := make([]any, 0, 2+len(ops)*7)
	args = append(args, s.objectHistory, s.changeHistory)
	for i, op := range ops {
		o := op.Object
		keys = append(keys, objectKey(o.Type, o.Name), objectVersionsKey(o.Type, o.Name), objectNamesKey(o.Type), objectTimesKey(o.Type), legacyObjectIndexKey(o.Type))
		args = append(args, op.Kind, op.Expected, o.Version, docs[i], o.Name, o.Type, o.CreatedAt.UnixMilli())
	}
	keys = append(keys, changesKey())
	res, err := writeObjects.Run(ctx, s.rdb, keys, args...).StringSlice()
	if err != nil {
		if len(ops) == 1 {
			return fmt.Errorf("write %s/%s: %w", ops[0].Object.Type, ops[0].Object.Name, err)
		}
		return fmt.Errorf("write %d objects: %w", len(ops), err)
	}
	if res[0] == "ok" {
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
