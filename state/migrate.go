package state

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
)

// migrateBatch bounds how many keys one round trip of the migration
// handles.
const migrateBatch = 500

// Migrate brings what earlier releases stored to the current layout, that
// of package keyspace. Every start runs it before serving: it is
// idempotent, costs a few single-key reads when there is nothing to do,
// and may run on several replicas at once.
//
// Earlier releases kept their keys without hash tags. Migrate renames each
// to its tagged name, finding them through the indexes and records that
// name them, never by a scan: the change stream, the cursor key and the
// one-time records by name; objects through their type's earlier indexes
// (by name, by creation time, and the plain set of names of the releases
// before those), which it merges into the current ones; deliveries' jobs
// through their records, and services' locks and queues through the
// services and the delivery records; events, with their payloads,
// decisions and dedupe records, through the earlier history index. A key
// that exists under both names keeps its current one, and the earlier is
// deleted. An earlier index is deleted only once all it names has moved,
// so a migration cut short is resumed by the next start, and replicas
// migrating together only repeat each other's moves.
//
// Not moved: a report lock (it expires within seconds), and the dedupe
// record of an event already trimmed from the history (no index names it;
// it expires within the dedupe window). Moving renames keys across hash
// slots, so it needs a single-node Redis (as the earlier layout did).
func (s *Store) Migrate(ctx context.Context) error {
	present, err := s.legacyPresent(ctx)
	if err != nil {
		return fmt.Errorf("migrate: look for the earlier layout: %w", err)
	}
	if len(present) == 0 {
		return nil
	}
	if err := s.migrateSingles(ctx, present); err != nil {
		return fmt.Errorf("migrate the change stream and records: %w", err)
	}
	if err := s.migrateObjects(ctx, present); err != nil {
		return err
	}
	if err := s.migrateEvents(ctx, present); err != nil {
		return fmt.Errorf("migrate the event history: %w", err)
	}
	return nil
}

// legacyRoots returns the earlier keys whose presence says something is
// left to migrate: the indexes and the keys found by name.
func legacyRoots() []string {
	l := keyspace.Legacy
	roots := []string{l.Events(), l.EventIDs(), l.Changes(), l.CursorKey()}
	for _, name := range l.OnceNames() {
		roots = append(roots, l.Once(name))
	}
	for _, typ := range Types() {
		roots = append(roots, l.ObjectNames(typ), l.ObjectTimes(typ), l.ObjectSet(typ))
	}
	return roots
}

// legacyPresent returns which of the earlier roots exist. Each is asked
// for alone: on Redis Cluster they live in different slots.
func (s *Store) legacyPresent(ctx context.Context) (map[string]bool, error) {
	roots := legacyRoots()
	cmds := make([]*redis.IntCmd, len(roots))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range roots {
			cmds[i] = p.Exists(ctx, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for i, c := range cmds {
		if c.Val() == 1 {
			present[roots[i]] = true
		}
	}
	return present, nil
}

// keyMove is one key to rename from its earlier name.
type keyMove struct{ from, to string }

// move renames keys to their current names. A key gone already (moved by
// another replica, or never written) is skipped; one whose current name
// exists keeps that, and the earlier one is deleted.
func (s *Store) move(ctx context.Context, moves []keyMove) error {
	for batch := range slices.Chunk(moves, migrateBatch) {
		cmds := make([]*redis.BoolCmd, len(batch))
		// Each command's error is judged below: a key gone already is one.
		_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, m := range batch {
				cmds[i] = p.RenameNX(ctx, m.from, m.to)
			}
			return nil
		})
		var stale []string
		for i, c := range cmds {
			moved, err := c.Result()
			switch {
			case err != nil && strings.Contains(err.Error(), "no such key"):
			case err != nil:
				return fmt.Errorf("rename %s: %w", batch[i].from, err)
			case !moved:
				stale = append(stale, batch[i].from)
			}
		}
		if err := s.deleteEach(ctx, stale); err != nil {
			return err
		}
	}
	return nil
}

// deleteEach deletes keys one command each, as keys of several slots must
// be on Redis Cluster.
func (s *Store) deleteEach(ctx context.Context, keys []string) error {
	for batch := range slices.Chunk(keys, migrateBatch) {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range batch {
				p.Del(ctx, k)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("delete the earlier keys: %w", err)
		}
	}
	return nil
}

// migrateSingles moves the keys found by name: the change stream (its ids
// stay, so watchers resume where they were), the cursor key (cursors stay
// valid) and the one-time records.
func (s *Store) migrateSingles(ctx context.Context, present map[string]bool) error {
	l := keyspace.Legacy
	moves := []keyMove{{l.Changes(), keyspace.Changes()}, {l.CursorKey(), keyspace.CursorKey()}}
	for _, name := range l.OnceNames() {
		moves = append(moves, keyMove{l.Once(name), keyspace.Once(name)})
	}
	moves = slices.DeleteFunc(moves, func(m keyMove) bool { return !present[m.from] })
	return s.move(ctx, moves)
}

// migrateObjects moves the objects of every type that has an earlier
// index, then the keys of deliveries, and deletes the earlier indexes
// last.
func (s *Store) migrateObjects(ctx context.Context, present map[string]bool) error {
	l := keyspace.Legacy
	var types []string
	for _, typ := range Types() {
		if present[l.ObjectNames(typ)] || present[l.ObjectTimes(typ)] || present[l.ObjectSet(typ)] {
			types = append(types, typ)
		}
	}
	for _, typ := range types {
		if err := s.migrateType(ctx, typ); err != nil {
			return fmt.Errorf("migrate the %s objects: %w", typ, err)
		}
	}
	if slices.Contains(types, TypeDeploy) || slices.Contains(types, TypeService) {
		if err := s.migrateDeliveries(ctx); err != nil {
			return fmt.Errorf("migrate the deliveries: %w", err)
		}
	}
	var indexes []string
	for _, typ := range types {
		indexes = append(indexes, l.ObjectNames(typ), l.ObjectTimes(typ), l.ObjectSet(typ))
	}
	if err := s.deleteEach(ctx, indexes); err != nil {
		return fmt.Errorf("migrate the objects: %w", err)
	}
	return nil
}

// migrateType moves the objects one type's earlier indexes name and
// indexes those that exist.
func (s *Store) migrateType(ctx context.Context, typ string) error {
	l := keyspace.Legacy
	byTime, err := s.rdb.ZRangeWithScores(ctx, l.ObjectTimes(typ), 0, -1).Result()
	if err != nil {
		return err
	}
	byName, err := s.rdb.ZRange(ctx, l.ObjectNames(typ), 0, -1).Result()
	if err != nil {
		return err
	}
	set, err := s.rdb.SMembers(ctx, l.ObjectSet(typ)).Result()
	if err != nil {
		return err
	}
	created := make(map[string]float64, len(byTime))
	for _, z := range byTime {
		name, _ := z.Member.(string)
		created[name] = z.Score
	}
	all := map[string]bool{}
	for _, name := range slices.Concat(slices.Collect(maps.Keys(created)), byName, set) {
		all[name] = true
	}
	names := slices.Sorted(maps.Keys(all))
	moves := make([]keyMove, 0, 2*len(names))
	for _, name := range names {
		moves = append(moves, keyMove{l.Object(typ, name), keyspace.Object(typ, name)},
			keyMove{l.ObjectVersions(typ, name), keyspace.ObjectVersions(typ, name)})
	}
	if err := s.move(ctx, moves); err != nil {
		return err
	}
	for batch := range slices.Chunk(names, migrateBatch) {
		entries := make([]entry, len(batch))
		for i, name := range batch {
			entries[i] = entry{member: name}
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
				at, ok := created[o.Name]
				if !ok {
					at = float64(o.CreatedAt.UnixMilli())
				}
				p.ZAddNX(ctx, keyspace.ObjectNames(typ), redis.Z{Member: o.Name})
				p.ZAddNX(ctx, keyspace.ObjectTimes(typ), redis.Z{Score: at, Member: o.Name})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// migrateDeliveries moves the kept job of every delivery record, and the
// lock and queue of every service that a service object or a delivery
// record names, recording the held locks in the index the reaper reads.
func (s *Store) migrateDeliveries(ctx context.Context) error {
	l := keyspace.Legacy
	services := map[string]bool{}
	names, err := s.rdb.ZRange(ctx, keyspace.ObjectNames(TypeService), 0, -1).Result()
	if err != nil {
		return err
	}
	for _, name := range names {
		services[name] = true
	}
	ids, err := s.rdb.ZRange(ctx, keyspace.ObjectNames(TypeDeploy), 0, -1).Result()
	if err != nil {
		return err
	}
	var moves []keyMove
	for batch := range slices.Chunk(ids, migrateBatch) {
		entries := make([]entry, len(batch))
		for i, id := range batch {
			entries[i] = entry{member: id}
			moves = append(moves, keyMove{l.DeliveryJob(id), keyspace.DeliveryJob(id)})
		}
		recs, err := s.objectsNamed(ctx, TypeDeploy, entries)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if rec == nil {
				continue // deleted meanwhile
			}
			if service, _ := rec.Content["service"].(string); service != "" {
				services[service] = true
			}
		}
	}
	list := slices.Sorted(maps.Keys(services))
	for _, service := range list {
		moves = append(moves, keyMove{l.DeliveryLock(service), keyspace.DeliveryLock(service)},
			keyMove{l.DeliveryPending(service), keyspace.DeliveryPending(service)})
	}
	if err := s.move(ctx, moves); err != nil {
		return err
	}
	for batch := range slices.Chunk(list, migrateBatch) {
		held := make([]*redis.IntCmd, len(batch))
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, service := range batch {
				held[i] = p.Exists(ctx, keyspace.DeliveryLock(service))
			}
			return nil
		}); err != nil {
			return err
		}
		var locked []any
		for i, c := range held {
			if c.Val() == 1 {
				locked = append(locked, batch[i])
			}
		}
		if len(locked) > 0 {
			if err := s.rdb.SAdd(ctx, keyspace.DeliveryLocks(), locked...).Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// migrateEvents moves every event the earlier history index holds, with
// its payload, decisions and dedupe record, into the current indexes, then
// the id index, and deletes the earlier indexes last.
func (s *Store) migrateEvents(ctx context.Context, present map[string]bool) error {
	l := keyspace.Legacy
	sources := map[string]bool{}
	// Offsets hold: only this release's instances run while it migrates
	// (docs/operations.md), and they never write the earlier index.
	for start := int64(0); present[l.Events()]; start += migrateBatch {
		batch, err := s.rdb.ZRangeWithScores(ctx, l.Events(), start, start+migrateBatch-1).Result()
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		moves := make([]keyMove, 0, 4*len(batch))
		for _, z := range batch {
			m, _ := z.Member.(string)
			moves = append(moves, keyMove{l.Event(m), keyspace.Event(m)}, keyMove{l.Payload(m), keyspace.Payload(m)},
				keyMove{l.Decisions(m), keyspace.Decisions(m)}, keyMove{l.Dedupe(m), keyspace.Dedupe(keyspace.SplitEventMember(m))})
		}
		if err := s.move(ctx, moves); err != nil {
			return err
		}
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, z := range batch {
				m, _ := z.Member.(string)
				source, _ := keyspace.SplitEventMember(m)
				sources[source] = true
				p.ZAddNX(ctx, keyspace.Events(), z)
				p.ZAddNX(ctx, keyspace.SourceEvents(source), z)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if present[l.EventIDs()] {
		if err := s.mergeIDs(ctx); err != nil {
			return err
		}
	}
	var indexes []string
	for _, source := range slices.Sorted(maps.Keys(sources)) {
		indexes = append(indexes, l.SourceEvents(source))
	}
	return s.deleteEach(ctx, append(indexes, l.Events()))
}

// mergeIDs moves the earlier id index, or adds what it holds to the
// current one where that has no entry.
func (s *Store) mergeIDs(ctx context.Context) error {
	from, to := keyspace.Legacy.EventIDs(), keyspace.EventIDs()
	moved, err := s.rdb.RenameNX(ctx, from, to).Result()
	switch {
	case err != nil && strings.Contains(err.Error(), "no such key"), moved:
		return nil // moved by another replica, or now
	case err != nil:
		return err
	}
	ids, err := s.rdb.HGetAll(ctx, from).Result()
	if err != nil {
		return err
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for id, source := range ids {
			p.HSetNX(ctx, to, id, source)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.deleteEach(ctx, []string{from})
}
