package redisconn

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The embedded server re-runs every blocked XREAD after every command it
// executes (and after every redis.call inside a script), and each run scans
// the stream from its start: with a change stream of thousands of entries,
// one blocked reader (the watch hub) makes every command pay for the whole
// stream. pollReads keeps the embedded server's clients from blocking
// there. An XREAD ... BLOCK waits in the client instead: it asks the cheap
// XINFO STREAM whether one of its streams moved past its id, and reads
// without BLOCK once one has. It asks when a write of the same client
// names one of its streams (a script's key, XADD), and that write returns
// only once the waiting read has looked, so, as on a real server, a change
// this process makes has reached a waiting reader when the write returns.
// It also asks every readPoll, for other processes' writes.
const (
	readPoll = 10 * time.Millisecond
	// writeWait bounds how long a write waits for the reads it woke.
	writeWait = 50 * time.Millisecond
)

// pollReads is a go-redis hook that turns XREAD ... BLOCK into polling.
type pollReads struct {
	every time.Duration

	mu      sync.Mutex
	waiting map[*waitingRead]struct{}
}

// waitingRead is one XREAD ... BLOCK being polled. Its fields are guarded
// by the hook's mu.
type waitingRead struct {
	streams []string
	kick    chan struct{} // holds a token when a write named a stream
	// woken counts the writes that named a stream; checked is the value
	// of woken when the last finished look at the streams began.
	woken, checked uint64
	looked         chan struct{} // closed, and replaced, after each look
	done           bool
}

func newPollReads(every time.Duration) *pollReads {
	return &pollReads{every: every, waiting: map[*waitingRead]struct{}{}}
}

func (*pollReads) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *pollReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		var keys []string
		for _, cmd := range cmds {
			keys = append(keys, writtenKeys(cmd.Args())...)
		}
		h.wrote(ctx, keys)
		return err
	}
}

func (h *pollReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if read, ok := cmd.(*redis.XStreamSliceCmd); ok && cmd.Name() == "xread" {
			if r, ok := parseBlockingRead(cmd.Args()); ok {
				return h.poll(ctx, next, read, r)
			}
			return next(ctx, cmd)
		}
		err := next(ctx, cmd)
		h.wrote(ctx, writtenKeys(cmd.Args()))
		return err
	}
}

// wrote wakes the reads waiting on any of keys and waits, within
// writeWait, until each has looked.
func (h *pollReads) wrote(ctx context.Context, keys []string) {
	if len(keys) == 0 {
		return
	}
	type woken struct {
		read *waitingRead
		seq  uint64
	}
	var reads []woken
	h.mu.Lock()
	for w := range h.waiting {
		if slices.ContainsFunc(w.streams, func(s string) bool { return slices.Contains(keys, s) }) {
			w.woken++
			reads = append(reads, woken{w, w.woken})
			select {
			case w.kick <- struct{}{}:
			default:
			}
		}
	}
	h.mu.Unlock()
	if len(reads) == 0 {
		return
	}
	limit := time.NewTimer(writeWait)
	defer limit.Stop()
	for _, r := range reads {
		for {
			h.mu.Lock()
			ok, looked := r.read.done || r.read.checked >= r.seq, r.read.looked
			h.mu.Unlock()
			if ok {
				break
			}
			select {
			case <-looked:
			case <-limit.C:
				return
			case <-ctx.Done():
				return
			}
		}
	}
}

// poll waits until a stream of r has an entry after its id, then reads.
func (h *pollReads) poll(ctx context.Context, next redis.ProcessHook, read *redis.XStreamSliceCmd, r blockingRead) error {
	w := &waitingRead{streams: r.streams, kick: make(chan struct{}, 1), looked: make(chan struct{})}
	h.mu.Lock()
	h.waiting[w] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.waiting, w)
		w.done = true
		close(w.looked)
		h.mu.Unlock()
	}()
	val, err := h.wait(ctx, next, w, r)
	read.SetVal(val)
	read.SetErr(err)
	return err
}

func (h *pollReads) wait(ctx context.Context, next redis.ProcessHook, w *waitingRead, r blockingRead) ([]redis.XStream, error) {
	var deadline time.Time
	if r.block > 0 {
		deadline = time.Now().Add(r.block)
	}
	// after holds, per stream, the id past which an entry counts as new:
	// the read's id, or a newer one whose entries are gone (deleted).
	after := slices.Clone(r.ids)
	for {
		h.mu.Lock()
		seq := w.woken
		h.mu.Unlock()
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
		h.mu.Lock()
		w.checked = seq
		close(w.looked)
		w.looked = make(chan struct{})
		h.mu.Unlock()

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
		case <-w.kick:
			t.Stop()
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
