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
//   - the objects named in the plain set of each type's names, which
//     earlier versions list by (and which is still kept, for replicas not
//     upgraded yet), are indexed by name and by creation time, as lists
//     page through them.
//
// An object a replica still on the earlier version creates during a
// rolling upgrade is listed by upgraded replicas once one of them starts
// or writes it.
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
		return nil
	})
	return err
}
