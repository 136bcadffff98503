package state

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Migrate brings what earlier versions stored to the current layout. It
// is idempotent and cheap when there is nothing to do, so every start runs
// it before serving:
//
//   - the plain set of each type's object names becomes the name index
//     and the creation-time index that lists page through.
//
// Objects written meanwhile by a replica still on the earlier version are
// indexed again by their next write.
func (s *Store) Migrate(ctx context.Context) error {
	for _, typ := range Types() {
		if err := s.migrateIndex(ctx, typ); err != nil {
			return fmt.Errorf("migrate the %s index: %w", typ, err)
		}
	}
	return nil
}

func (s *Store) migrateIndex(ctx context.Context, typ string) error {
	legacy := legacyObjectIndexKey(typ)
	names, err := s.rdb.SMembers(ctx, legacy).Result()
	if err != nil || len(names) == 0 {
		return err
	}
	entries := make([]entry, len(names))
	for i, n := range names {
		entries[i] = entry{member: n}
	}
	objs, err := s.objectsNamed(ctx, typ, entries)
	if err != nil {
		return err
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, o := range objs {
			if o == nil {
				continue // deleted: nothing to index
			}
			p.ZAddNX(ctx, objectNamesKey(typ), redis.Z{Member: o.Name})
			p.ZAddNX(ctx, objectTimesKey(typ), redis.Z{Score: float64(o.CreatedAt.UnixMilli()), Member: o.Name})
		}
		p.Del(ctx, legacy)
		return nil
	})
	return err
}
