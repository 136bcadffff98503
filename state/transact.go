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

// writeObjects is writeObject for several objects at once: it checks every
// object's revision first and writes nothing unless all match, so a set of
// changes lands whole or not at all.
//
// KEYS: for each op its current hash, versions hash and type index; then the
// change stream.
// ARGV: versions kept, change stream length, then for each op: kind,
// expected revision, new revision, document, name, type.
// Returns {"ok"}, or {"exists"|"notfound"|"stale", op index (1-based),
// current revision}.
var writeObjects = redis.NewScript(`
local n = (#KEYS - 1) / 3
local stream = KEYS[#KEYS]
for i = 0, n - 1 do
  local kind, expected = ARGV[3 + i*6], tonumber(ARGV[4 + i*6])
  local cur = tonumber(redis.call("HGET", KEYS[1 + i*3], "v") or "0")
  if kind == "create" and cur ~= 0 then return {"exists", tostring(i + 1), tostring(cur)} end
  if kind ~= "create" and cur == 0 then return {"notfound", tostring(i + 1), "0"} end
  if kind ~= "create" and cur ~= expected then return {"stale", tostring(i + 1), tostring(cur)} end
end
for i = 0, n - 1 do
  local kind, rev, doc = ARGV[3 + i*6], ARGV[5 + i*6], ARGV[6 + i*6]
  local name, typ = ARGV[7 + i*6], ARGV[8 + i*6]
  local cur, versions, index = KEYS[1 + i*3], KEYS[2 + i*3], KEYS[3 + i*3]
  if kind == "delete" then
    redis.call("DEL", cur, versions)
    redis.call("SREM", index, name)
    redis.call("XADD", stream, "MAXLEN", "~", ARGV[2], "*", "op", "deleted", "type", typ, "name", name, "version", ARGV[4 + i*6])
  else
    redis.call("HSET", cur, "v", rev, "doc", doc)
    redis.call("HSET", versions, rev, doc)
    local drop = tonumber(rev) - tonumber(ARGV[1])
    if drop > 0 then redis.call("HDEL", versions, tostring(drop)) end
    redis.call("SADD", index, name)
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
	keys := make([]string, 0, len(ops)*3+1)
	args := []any{s.objectHistory, s.changeHistory}
	now := s.now()
	for _, op := range ops {
		o := op.Object
		var doc []byte
		switch op.Kind {
		case "create":
			o.ID, o.Version, o.CreatedAt = newID(), 1, now
		case "update":
			o.Version = op.Expected + 1
		case "delete":
		default:
			return fmt.Errorf("transact: unknown op %q", op.Kind)
		}
		if op.Kind != "delete" {
			o.UpdatedAt, o.UpdatedBy = now, by
			var err error
			if doc, err = s.prepare(o); err != nil {
				return fmt.Errorf("%s %q: %w", o.Type, o.Name, err)
			}
		}
		keys = append(keys, objectKey(o.Type, o.Name), objectVersionsKey(o.Type, o.Name), objectIndexKey(o.Type))
		args = append(args, op.Kind, op.Expected, o.Version, doc, o.Name, o.Type)
	}
	keys = append(keys, changesKey())
	res, err := writeObjects.Run(ctx, s.rdb, keys, args...).StringSlice()
	if err != nil {
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
