package redistest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// dbClient returns a client of database db of the server at rawURL.
func dbClient(t *testing.T, rawURL string, db int) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	opts.DB = db
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// snapshot returns every key of databases 0 to 15 with its serialized value.
func snapshot(t *testing.T, rawURL string) map[int]map[string]string {
	t.Helper()
	ctx := context.Background()
	all := map[int]map[string]string{}
	for db := 0; db <= 15; db++ {
		c := dbClient(t, rawURL, db)
		keys, err := c.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			v, err := c.Dump(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if all[db] == nil {
				all[db] = map[string]string{}
			}
			all[db][k] = v
		}
	}
	return all
}

// fillUserData writes keys that are not the suite's into database db.
func fillUserData(t *testing.T, rawURL string, db int) {
	t.Helper()
	ctx := context.Background()
	c := dbClient(t, rawURL, db)
	if err := c.Set(ctx, "app:config", fmt.Sprintf("precious-%d", db), 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, "app:users:1", "name", "ada", "role", "admin").Err(); err != nil {
		t.Fatal(err)
	}
}

func TestAcquire(t *testing.T) {
	tests := []struct {
		name string
		// user are databases holding data without the marker.
		user []int
		// marked are databases the suite marked, with leftovers of a
		// test that did not clean up.
		marked []int
		// busy are databases another test holds.
		busy    []int
		wantDB  int
		wantErr error
	}{
		{name: "only one free", user: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, wantDB: 15},
		{name: "a marked one with leftovers", user: []int{1, 2}, marked: []int{3}, wantDB: 3},
		{name: "the first empty one", user: []int{1}, wantDB: 2},
		{name: "busy ones are skipped", user: []int{1}, busy: []int{2, 3}, wantDB: 4},
		{name: "none free", user: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, wantErr: errNoDatabase},
		{name: "all usable ones busy", user: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, busy: []int{14, 15}, wantErr: errBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := StartServerWith(t, ServerOptions{Fsync: "everysec"})
			ctx := context.Background()
			for _, db := range tt.user {
				fillUserData(t, srv.URL, db)
			}
			for _, db := range tt.marked {
				c := dbClient(t, srv.URL, db)
				if err := c.MSet(ctx, markerKey, markerValue, "reflex:events", "left over", "asynq:queues", "left over").Err(); err != nil {
					t.Fatal(err)
				}
			}
			for _, db := range tt.busy {
				c := dbClient(t, srv.URL, db)
				if err := c.MSet(ctx, markerKey, markerValue, leaseKey, "another-test").Err(); err != nil {
					t.Fatal(err)
				}
			}
			before := snapshot(t, srv.URL)
			opts, _ := redis.ParseURL(srv.URL)

			l, err := acquire(ctx, opts, "this-test", leaseTTL)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("acquire = %v, %v; want %v", l, err, tt.wantErr)
				}
				if diff := cmp.Diff(before, snapshot(t, srv.URL)); diff != "" {
					t.Errorf("a refused lease changed the server (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("acquire: %v", err)
			}
			if l.db != tt.wantDB {
				t.Errorf("leased database %d, want %d", l.db, tt.wantDB)
			}
			after := snapshot(t, srv.URL)
			want := map[string]string{markerKey: markerValue, leaseKey: "this-test"}
			got := map[string]string{}
			for k := range after[l.db] {
				got[k], _ = l.client.Get(ctx, k).Result()
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("leased database %d (-want +got):\n%s", l.db, diff)
			}
			delete(before, l.db)
			delete(after, l.db)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("the lease changed other databases (-before +after):\n%s", diff)
			}
			if err := l.client.Set(ctx, "reflex:something", "written by the test", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if err := l.release(ctx); err != nil {
				t.Fatalf("release: %v", err)
			}
			keys, err := dbClient(t, srv.URL, tt.wantDB).Keys(ctx, "*").Result()
			if err != nil || !cmp.Equal(keys, []string{markerKey}) {
				t.Errorf("keys after release = %v, %v; want only the marker", keys, err)
			}
		})
	}
}

func TestAcquireErrorNamesTheForeignDatabases(t *testing.T) {
	srv := StartServerWith(t, ServerOptions{Fsync: "everysec"})
	for db := 1; db <= 15; db++ {
		fillUserData(t, srv.URL, db)
	}
	opts, _ := redis.ParseURL(srv.URL)
	_, err := acquire(context.Background(), opts, "this-test", leaseTTL)
	if err == nil || !strings.Contains(err.Error(), "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15") || !strings.Contains(err.Error(), markerKey) {
		t.Fatalf("acquire = %v; want an error naming databases 1 to 15 and the marker", err)
	}
}

func TestAcquireStopsAtTheServersLastDatabase(t *testing.T) {
	srv := StartServerWith(t, ServerOptions{Fsync: "everysec", Args: []string{"--databases", "3"}})
	for db := 1; db <= 2; db++ {
		fillUserData(t, srv.URL, db)
	}
	opts, _ := redis.ParseURL(srv.URL)
	_, err := acquire(context.Background(), opts, "this-test", leaseTTL)
	if !errors.Is(err, errNoDatabase) || !strings.Contains(err.Error(), "databases 1, 2 hold") {
		t.Fatalf("acquire on a server of 3 databases = %v; want %v naming 1, 2", err, errNoDatabase)
	}
}

func TestAcquireIsExclusive(t *testing.T) {
	srv := StartServerWith(t, ServerOptions{Fsync: "everysec"})
	opts, _ := redis.ParseURL(srv.URL)
	ctx := context.Background()
	var (
		mu     sync.Mutex
		leases []*dbLease
		busy   int
		wg     sync.WaitGroup
	)
	for i := range 20 {
		wg.Go(func() {
			l, err := acquire(ctx, opts, fmt.Sprintf("test-%d", i), leaseTTL)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, errBusy):
				busy++
			case err != nil:
				t.Errorf("acquire: %v", err)
			default:
				leases = append(leases, l)
			}
		})
	}
	wg.Wait()
	seen := map[int]bool{}
	for _, l := range leases {
		if seen[l.db] {
			t.Errorf("database %d leased twice", l.db)
		}
		seen[l.db] = true
	}
	if len(leases) != 15 || busy != 5 {
		t.Fatalf("%d leases and %d busy answers, want 15 and 5", len(leases), busy)
	}
	freed := leases[7].db
	if err := leases[7].release(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := acquire(ctx, opts, "late", leaseTTL)
	if err != nil || l.db != freed {
		t.Fatalf("acquire after a release = %v, %v; want database %d", l, err, freed)
	}
	for _, l := range append(leases[:7], append(leases[8:], l)...) {
		if err := l.release(ctx); err != nil {
			t.Error(err)
		}
	}
}

func TestLeaseIsRenewedWhileHeld(t *testing.T) {
	srv := StartServerWith(t, ServerOptions{Fsync: "everysec"})
	opts, _ := redis.ParseURL(srv.URL)
	ctx := context.Background()
	const ttl = 300 * time.Millisecond
	l, err := acquire(ctx, opts, "long-test", ttl)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * ttl)
	if owner, err := l.client.Get(ctx, leaseKey).Result(); err != nil || owner != "long-test" {
		t.Fatalf("lease after 4 TTLs = %q, %v; want it still held", owner, err)
	}
	other, err := acquire(ctx, opts, "other", ttl)
	if err != nil || other.db == l.db {
		t.Fatalf("a second acquire = %v, %v; want another database than %d", other, err, l.db)
	}
	for _, l := range []*dbLease{l, other} {
		if err := l.release(ctx); err != nil {
			t.Error(err)
		}
	}
}

func TestLostLeaseIsNotFlushed(t *testing.T) {
	srv := StartServerWith(t, ServerOptions{Fsync: "everysec"})
	opts, _ := redis.ParseURL(srv.URL)
	ctx := context.Background()
	l, err := acquire(ctx, opts, "slow-test", leaseTTL)
	if err != nil {
		t.Fatal(err)
	}
	// The lease expired and another test took the database.
	if err := l.client.MSet(ctx, leaseKey, "next-test", "next:data", "in use").Err(); err != nil {
		t.Fatal(err)
	}
	if err := l.release(ctx); !errors.Is(err, errLostLease) {
		t.Fatalf("release = %v, want %v", err, errLostLease)
	}
	c := dbClient(t, srv.URL, l.db)
	if v, err := c.Get(ctx, "next:data").Result(); err != nil || v != "in use" {
		t.Fatalf("the next test's data after a lost release = %q, %v", v, err)
	}
}
