package redistest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The suite uses only databases it marked as its own. A database is a
// candidate when it is empty or carries markerKey; anything else is left
// alone, unread beyond its size and the marker, and never written. Each
// candidate holds at most one test at a time through leaseKey, set with NX
// and an expiry that a refresher renews while the test runs, so a test
// process that dies frees its database within leaseTTL.
const (
	// firstDB and lastDB bound the databases the suite may use: never 0,
	// the database most programs use by default.
	firstDB, lastDB = 1, 15
	// markerKey marks a database as the suite's; it survives every flush.
	markerKey   = "reflex-test:marked"
	markerValue = "this database belongs to Reflex's test suite: go test deletes everything in it"
	// leaseKey holds the owner of the test that uses the database now.
	leaseKey = "reflex-test:lease"
	// leaseTTL is how long a lease outlives its last refresh.
	leaseTTL = 30 * time.Second
)

// errNoDatabase is returned when no database can ever be leased: each
// one holds data the suite did not mark, or does not exist.
var errNoDatabase = errors.New("no database of this Redis is free for the test suite")

// errBusy is returned when every usable database is leased to another
// test for now.
var errBusy = errors.New("every test database is in use")

// errLostLease is returned when a lease expired and may belong to
// another test.
var errLostLease = errors.New("the test database's lease was lost")

// claim takes a database for owner, atomically: only when it is empty or
// marked, and not leased to anyone else. It marks the database.
//
// KEYS: marker, lease. ARGV: owner, lease TTL (ms), marker value.
// Returns "foreign", "busy" or "ok".
var claim = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 0 and redis.call("DBSIZE") > 0 then
  return "foreign"
end
if not redis.call("SET", KEYS[2], ARGV[1], "NX", "PX", ARGV[2]) then
  return "busy"
end
redis.call("SET", KEYS[1], ARGV[3])
return "ok"
`)

// renew extends the lease if owner still holds it.
//
// KEYS: lease. ARGV: owner, lease TTL (ms). Returns 1 if renewed, else 0.
var renew = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0
`)

// dbLease is one test's hold on one database.
type dbLease struct {
	client *redis.Client
	db     int
	owner  string
	ttl    time.Duration

	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	lost bool
}

// acquire leases a database of the server that opts reaches (its DB is
// ignored) for owner, flushed down to the marker and the lease, and starts
// renewing the lease. It returns errBusy when every usable database is
// leased, errNoDatabase when none is usable at all; in both cases it has
// written nothing.
func acquire(ctx context.Context, opts *redis.Options, owner string, ttl time.Duration) (*dbLease, error) {
	var foreign, busy []string
	for db := firstDB; db <= lastDB; db++ {
		o := *opts
		o.DB = db
		c := redis.NewClient(&o)
		res, err := claim.Run(ctx, c, []string{markerKey, leaseKey}, owner, ttl.Milliseconds(), markerValue).Text()
		if err != nil {
			c.Close()
			if strings.Contains(err.Error(), "DB index is out of range") {
				break
			}
			return nil, fmt.Errorf("lease test database %d: %w", db, err)
		}
		switch res {
		case "foreign":
			foreign = append(foreign, strconv.Itoa(db))
			c.Close()
			continue
		case "busy":
			busy = append(busy, strconv.Itoa(db))
			c.Close()
			continue
		}
		l := &dbLease{client: c, db: db, owner: owner, ttl: ttl, done: make(chan struct{})}
		if err := l.flush(ctx, true); err != nil {
			c.Close()
			return nil, fmt.Errorf("flush test database %d: %w", db, err)
		}
		l.start()
		return l, nil
	}
	if len(busy) > 0 {
		return nil, fmt.Errorf("%w (databases %s)", errBusy, strings.Join(busy, ", "))
	}
	return nil, fmt.Errorf("%w: databases %s hold keys without the suite's marker %q, and the suite never touches those; "+
		"use another Redis, or free a database (one empty, or one holding %q, is the suite's)",
		errNoDatabase, orNone(foreign), markerKey, markerKey)
}

func orNone(dbs []string) string {
	if len(dbs) == 0 {
		return "(none)"
	}
	return strings.Join(dbs, ", ")
}

// flush deletes everything in the database but the marker and, when keep
// is true, the lease, in one transaction that happens only while owner
// holds the lease.
func (l *dbLease) flush(ctx context.Context, keep bool) error {
	err := l.client.Watch(ctx, func(tx *redis.Tx) error {
		holder, err := tx.Get(ctx, leaseKey).Result()
		if errors.Is(err, redis.Nil) || (err == nil && holder != l.owner) {
			return errLostLease
		}
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.FlushDB(ctx)
			p.Set(ctx, markerKey, markerValue, 0)
			if keep {
				p.Set(ctx, leaseKey, l.owner, l.ttl)
			}
			return nil
		})
		return err
	}, leaseKey)
	if errors.Is(err, redis.TxFailedErr) {
		return errLostLease
	}
	return err
}

// start renews the lease a few times per TTL until release.
func (l *dbLease) start() {
	l.wg.Go(func() {
		ticker := time.NewTicker(l.ttl / 3)
		defer ticker.Stop()
		for {
			select {
			case <-l.done:
				return
			case <-ticker.C:
				ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
				n, err := renew.Run(ctx, l.client, []string{leaseKey}, l.owner, l.ttl.Milliseconds()).Int()
				cancel()
				if err == nil && n == 0 {
					l.mu.Lock()
					l.lost = true
					l.mu.Unlock()
					return
				}
			}
		}
	})
}

// release stops renewing, flushes the database down to its marker and
// closes the client. A database whose lease was lost is left as it is.
func (l *dbLease) release(ctx context.Context) error {
	close(l.done)
	l.wg.Wait()
	defer l.client.Close()
	l.mu.Lock()
	lost := l.lost
	l.mu.Unlock()
	if lost {
		return fmt.Errorf("release test database %d: %w", l.db, errLostLease)
	}
	if err := l.flush(ctx, false); err != nil {
		return fmt.Errorf("release test database %d: %w", l.db, err)
	}
	return nil
}
