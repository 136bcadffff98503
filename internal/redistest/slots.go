package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// sameSlot fails every script run of Reflex's (one whose keys start with
// "reflex:") that touches keys of more than one hash tag, as Redis Cluster
// would: the suite checks on every server that the layout is fit for one.
type sameSlot struct{}

func (sameSlot) DialHook(next redis.DialHook) redis.DialHook { return next }

func (sameSlot) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := checkSlot(cmd); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (sameSlot) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if err := checkSlot(cmd); err != nil {
				cmd.SetErr(err)
				return err
			}
		}
		return next(ctx, cmds)
	}
}

// checkSlot returns an error when cmd runs a script on Reflex keys of
// several hash tags.
func checkSlot(cmd redis.Cmder) error {
	switch cmd.Name() {
	case "eval", "evalsha", "eval_ro", "evalsha_ro":
	default:
		return nil
	}
	args := cmd.Args()
	if len(args) < 3 {
		return nil
	}
	n, err := strconv.Atoi(fmt.Sprint(args[2]))
	if err != nil || n == 0 || len(args) < 3+n {
		return nil
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint(args[3+i])
	}
	if !strings.HasPrefix(keys[0], "reflex:") {
		return nil // not Reflex's: asynq's, say
	}
	for _, k := range keys {
		if hashTag(k) != hashTag(keys[0]) {
			return fmt.Errorf("CROSSSLOT (redistest): a script touches %s and %s, of different hash tags", keys[0], k)
		}
	}
	return nil
}

// hashTag returns the part of a key Redis Cluster hashes: the first
// non-empty {…}, else the whole key.
func hashTag(key string) string {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			return key[open+1 : open+1+end]
		}
	}
	return key
}
