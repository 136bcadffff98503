package redisconn

import (
	"context"
	"errors"
	"fmt"

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
func (c *Conn) CheckEviction(ctx context.Context) error {
	if c.Embedded {
		return nil
	}
	policy, err := c.Client.ConfigGet(ctx, "maxmemory-policy").Result()
	var rerr redis.Error
	switch {
	case errors.As(err, &rerr):
		// A reply from the server: NOPERM, an unknown or renamed command.
		return fmt.Errorf("%w at %s (%v): make sure it is noeviction, or jobs may vanish when memory runs out", ErrEvictionUnchecked, c.Addr, err)
	case err != nil:
		return fmt.Errorf("check Redis's maxmemory-policy at %s: %w", c.Addr, err)
	}
	p, ok := policy["maxmemory-policy"]
	switch {
	case !ok:
		return fmt.Errorf("%w at %s (CONFIG GET answered nothing): make sure it is noeviction, or jobs may vanish when memory runs out", ErrEvictionUnchecked, c.Addr)
	case p != "noeviction":
		return fmt.Errorf("%w: Redis at %s has maxmemory-policy %s, so when memory runs out it deletes keys and queued jobs and dedupe records vanish silently; "+
			"set it to noeviction with CONFIG SET maxmemory-policy noeviction (and maxmemory-policy noeviction in redis.conf, so it survives a restart)",
			ErrEviction, c.Addr, p)
	}
	return nil
}
