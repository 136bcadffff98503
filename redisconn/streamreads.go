package redisconn

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The embedded server re-runs every blocked XREAD after every command it
// executes (and after every redis.call inside a script), and each run scans
// the stream from its start: with a change stream of thousands of entries,
// one blocked reader (the watch hub) makes every command pay for the whole
// stream. pollReads keeps the embedded server's clients from blocking
// there: an XREAD ... BLOCK waits in the client instead, asking every
// readPoll the cheap XINFO STREAM whether one of its streams moved past
// its id, and reading without BLOCK once one has. A waiting read so sees
// an entry at most readPoll after it is added, and the server reads a
// stream at most once per readPoll, whatever the rate of writes.
const readPoll = 50 * time.Millisecond

// pollReads is a go-redis hook that turns XREAD ... BLOCK into polling.
type pollReads struct {
	every time.Duration
}

func newPollReads(every time.Duration) *pollReads { return &pollReads{every: every} }

func (*pollReads) DialHook(next redis.DialHook) redis.DialHook { return next }

func (*pollReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *pollReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		read, ok := cmd.(*redis.XStreamSliceCmd)
		if !ok || cmd.Name() != "xread" {
			return next(ctx, cmd)
		}
		r, ok := parseBlockingRead(cmd.Args())
		if !ok {
			return next(ctx, cmd)
		}
		val, err := h.wait(ctx, next, r)
		read.SetVal(val)
		read.SetErr(err)
		return err
	}
}

// wait polls until a stream of r has an entry after its id, then reads.
func (h *pollReads) wait(ctx context.Context, next redis.ProcessHook, r blockingRead) ([]redis.XStream, error) {
	var deadline time.Time
	if r.block > 0 {
		deadline = time.Now().Add(r.block)
	}
	// after holds, per stream, the id past which an entry counts as new:
	// the read's id, or a newer one whose entries are gone (deleted).
	after := slices.Clone(r.ids)
	for {
		moved, err := h.moved(ctx, next, r.streams, after)
		if err != nil {
			return nil, err
		}
		if moved != nil {
			now := redis.NewXStreamSliceCmd(ctx, r.args...)
			if err := next(ctx, now); !errors.Is(err, redis.Nil) {
				return now.Val(), err
			}
			after = moved
		}
		pause := h.every
		if r.block > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return nil, redis.Nil
			}
			pause = min(pause, left)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// moved asks each stream for the id of its newest entry. When one is past
// its id in after, it returns those newest ids (after's, for a stream that
// did not move); else nil.
func (h *pollReads) moved(ctx context.Context, next redis.ProcessHook, streams, after []string) ([]string, error) {
	var newest []string
	for i, key := range streams {
		info := redis.NewMapStringInterfaceCmd(ctx, "xinfo", "stream", key)
		if err := next(ctx, info); err != nil {
			if strings.Contains(err.Error(), "no such key") {
				continue
			}
			return nil, err
		}
		last, _ := info.Val()["last-generated-id"].(string)
		if streamIDLess(after[i], last) {
			if newest == nil {
				newest = slices.Clone(after)
			}
			newest[i] = last
		}
	}
	return newest, nil
}
