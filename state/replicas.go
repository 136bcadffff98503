package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultReplicaAckTimeout is how long an accepted event waits for its
// replicas (Options.ReplicaAcks) unless told otherwise.
const DefaultReplicaAckTimeout = time.Second

// ErrReplicas is wrapped when fewer replicas than Options.ReplicaAcks
// confirmed a write in time: the write may be lost if the primary fails
// now, so it must not be acknowledged.
var ErrReplicas = errors.New("too few Redis replicas confirmed the write")

// runAcked runs a script and, when the store waits for replicas, Redis's
// WAIT on the same connection (one pipeline), so that the script's writes
// are known to be on ReplicaAcks replicas when it returns.
func (s *Store) runAcked(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if s.replicaAcks <= 0 {
		return script.Run(ctx, s.rdb, keys, args...)
	}
	var res *redis.Cmd
	for _, eval := range []func(redis.Pipeliner) *redis.Cmd{
		func(p redis.Pipeliner) *redis.Cmd { return script.EvalSha(ctx, p, keys, args...) },
		func(p redis.Pipeliner) *redis.Cmd { return script.Eval(ctx, p, keys, args...) },
	} {
		var wait *redis.Cmd
		// Each command's error is judged below.
		_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			res = eval(p)
			wait = p.Do(ctx, "wait", s.replicaAcks, s.replicaAckTimeout.Milliseconds())
			return nil
		})
		if redis.HasErrorPrefix(res.Err(), "NOSCRIPT") {
			continue
		}
		if res.Err() != nil {
			return res
		}
		switch n, err := wait.Int64(); {
		case err != nil:
			res.SetErr(fmt.Errorf("wait for %d Redis replicas: %w", s.replicaAcks, err))
		case n < int64(s.replicaAcks):
			res.SetErr(fmt.Errorf("%w: %d of %d within %s", ErrReplicas, n, s.replicaAcks, s.replicaAckTimeout))
		}
		return res
	}
	return res
}
