package redisconn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// ErrEviction is wrapped by CheckEviction's error when Redis may evict
// keys when its memory is full: queued jobs and dedupe records would then
// vanish without an error. Reflex should not start on such a server unless
// told to.
var ErrEviction = errors.New("the Redis server may evict Reflex's keys")

// ErrEvictionUnchecked is wrapped by CheckEviction's error when Redis
// does not let Reflex read its eviction policy (managed services and ACL
// users often refuse CONFIG). It is a warning, not a reason to stop.
var ErrEvictionUnchecked = errors.New("cannot check Redis's maxmemory-policy")

// CheckEviction checks that Redis never evicts keys (maxmemory-policy
// noeviction), as the job queue needs. It returns nil when it does, and on
// the embedded server, which never evicts; an error wrapping ErrEviction
// that names the policy and how to change it; an error wrapping
// ErrEvictionUnchecked when the server refuses to tell; or another error
// when the server cannot be reached.
//
// On a cluster it asks every primary, and the error names each one that
// fails the check. Through Sentinel it asks the current
// primary; the replicas that may replace it must be set alike.
func (c *Conn) CheckEviction(ctx context.Context) error {
	if c.Embedded {
		return nil
	}
	if cc, ok := c.Client.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		var errs []error
		err := cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			if err := checkEviction(ctx, node, c.Addr+" (node "+node.Options().Addr+")"); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("check Redis's maxmemory-policy at %s: %w", c.Addr, err)
		}
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return errors.Join(errs...)
	}
	return checkEviction(ctx, c.Client, c.Addr)
}

// checkEviction is CheckEviction on one server, named addr in errors.
func checkEviction(ctx context.Context, rdb redis.Cmdable, addr string) error {
	policy, err := rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	var rerr redis.Error
	switch {
	case errors.As(err, &rerr):
		// A reply from the server: NOPERM, an unknown or renamed command.
		return fmt.Errorf("%w at %s (%v): make sure it is noeviction, or jobs may vanish when memory runs out", ErrEvictionUnchecked, addr, err)
	case err != nil:
		return fmt.Errorf("check Redis's maxmemory-policy at %s: %w", addr, err)
	}
	p, ok := policy["maxmemory-policy"]
	switch {
	case !ok:
		return fmt.Errorf("%w at %s (CONFIG GET answered nothing): make sure it is noeviction, or jobs may vanish when memory runs out", ErrEvictionUnchecked, addr)
	case p != "noeviction":
		return fmt.Errorf("%w: Redis at %s has maxmemory-policy %s, so when memory runs out it deletes keys and queued jobs and dedupe records vanish silently; "+
			"set it to noeviction with CONFIG SET maxmemory-policy noeviction (and maxmemory-policy noeviction in redis.conf, so it survives a restart)",
			ErrEviction, addr, p)
	}
	return nil
}
