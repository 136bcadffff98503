package state

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
)

// Change is one object change, as watchers see it.
type Change struct {
	// ID is the change's position in the change stream; a watcher resumes
	// after it.
	ID string
	// Op is "created", "updated" or "deleted".
	Op      string
	Type    string
	Name    string
	Version int64
	// Object is the object after the change; nil for a deletion.
	Object *Object
}

func changeOf(m redis.XMessage) (Change, error) {
	c, doc := changeHead(m)
	return c, c.decode(doc)
}

// changeHead reads a stream entry's change without decoding its object,
// which it returns as stored.
func changeHead(m redis.XMessage) (Change, string) {
	get := func(k string) string { s, _ := m.Values[k].(string); return s }
	return Change{ID: m.ID, Op: get("op"), Type: get("type"), Name: get("name"), Version: parseVersion(get("version"))}, get("doc")
}

// decode sets the change's object from its stored document, if any.
func (c *Change) decode(doc string) error {
	if doc == "" {
		return nil
	}
	o, err := decodeStored(c.Type, []byte(doc))
	if err != nil {
		return err
	}
	c.Object = o
	return nil
}

// ErrTrimmed is returned by ChangesAfter when changes after the given
// position have left the stream: the watcher must list afresh.
var ErrTrimmed = errors.New("changes were trimmed")

// ChangesAfter returns up to count changes that follow position after
// ("" for none: an empty result), oldest first.
func (s *Store) ChangesAfter(ctx context.Context, after string, count int64) ([]Change, error) {
	if after == "" {
		return nil, nil
	}
	if !validStreamID(after) {
		return nil, fmt.Errorf("%w: %q is not a change id", ErrInvalid, after)
	}
	first, err := s.rdb.XRangeN(ctx, keyspace.Changes(), "-", "+", 1).Result()
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	if len(first) > 0 && compareStreamIDs(first[0].ID, after) > 0 && !isSuccessor(after, first[0].ID) {
		return nil, fmt.Errorf("%w: the oldest kept change is %s", ErrTrimmed, first[0].ID)
	}
	msgs, err := s.rdb.XRangeN(ctx, keyspace.Changes(), "("+after, "+", count).Result()
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	out := make([]Change, 0, len(msgs))
	for _, m := range msgs {
		c, err := changeOf(m)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// LastChangeID returns the newest change id, or "0-0" when none exists.
func (s *Store) LastChangeID(ctx context.Context) (string, error) {
	msgs, err := s.rdb.XRevRangeN(ctx, keyspace.Changes(), "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("read changes: %w", err)
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

func validStreamID(id string) bool {
	ms, seq, ok := strings.Cut(id, "-")
	_, err1 := strconv.ParseUint(ms, 10, 64)
	_, err2 := strconv.ParseUint(seq, 10, 64)
	return ok && err1 == nil && err2 == nil
}

// CompareChangeIDs orders two change ids: -1, 0 or 1.
func CompareChangeIDs(a, b string) int { return compareStreamIDs(a, b) }

// compareStreamIDs orders two valid stream ids.
func compareStreamIDs(a, b string) int {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	for _, pair := range [][2]string{{am, bm}, {as, bs}} {
		x, _ := strconv.ParseUint(pair[0], 10, 64)
		y, _ := strconv.ParseUint(pair[1], 10, 64)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// isSuccessor reports whether next is the first id Redis can give after
// prev in the same millisecond, so nothing can lie between them.
func isSuccessor(prev, next string) bool {
	pm, ps, _ := strings.Cut(prev, "-")
	nm, ns, _ := strings.Cut(next, "-")
	p, _ := strconv.ParseUint(ps, 10, 64)
	n, _ := strconv.ParseUint(ns, 10, 64)
	return pm == nm && n == p+1
}

// Hub follows the change stream with one reader per process and fans each
// change out to the local watchers, so a hundred watchers cost one Redis
// connection, not a hundred.
type Hub struct {
	store *Store
	log   *slog.Logger
	// from is where Run starts reading: set by Start.
	from string

	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// Subscription receives live changes. Its channel is closed when the
// watcher falls too far behind or the hub stops; the watcher then resumes
// from the last change it saw.
type Subscription struct {
	C   chan Change
	hub *Hub
	// types, when set, are the only types it receives, and without their
	// objects.
	types []string
}

// hubBlock is how long one read of the change stream waits for news. A
// cancelled hub notices only between reads, so this bounds how long a
// shutdown waits for it; idle, it costs two cheap reads a second.
const hubBlock = 500 * time.Millisecond

// hubBatch is how many changes one read of the change stream takes at
// most; after a read of fewer, the hub waits hubGather before the next, so
// that a stream written a thousand times a second costs a few dozen reads,
// not a thousand, for a few milliseconds more on a change's way.
const (
	hubBatch  = 256
	hubGather = 15 * time.Millisecond
)

// subscriptionBuffer is how many changes a slow watcher may lag behind.
const subscriptionBuffer = 1024

// NewHub returns a hub over the store's change stream. Run starts it.
func NewHub(store *Store, log *slog.Logger) *Hub {
	return &Hub{store: store, log: log, subs: map[*Subscription]struct{}{}}
}

// Subscribe registers a watcher for the changes that follow.
func (h *Hub) Subscribe() *Subscription { return h.subscribe(nil) }

// SubscribeTypes registers a watcher for the changes to objects of the
// given types that follow, without the objects (Change.Object nil): a
// change to another type, or an object nobody reads, is not decoded.
func (h *Hub) SubscribeTypes(types ...string) *Subscription {
	return h.subscribe(slices.Clip(types))
}

func (h *Hub) subscribe(types []string) *Subscription {
	sub := &Subscription{C: make(chan Change, subscriptionBuffer), hub: h, types: types}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub
}

// Close unregisters the watcher.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.C)
	}
}

// Start takes the hub's starting position, the change stream's end, so
// that every change written after Start returns reaches the watchers
// however late Run begins. A server starts its hub before it serves.
func (h *Hub) Start(ctx context.Context) error {
	id, err := h.store.LastChangeID(ctx)
	if err != nil {
		return err
	}
	h.from = id
	return nil
}

// Run reads the change stream until ctx ends, from where Start found its
// end (or from the end when Run begins, without Start). A Redis failure is
// retried with backoff from the last change read, so none is skipped.
func (h *Hub) Run(ctx context.Context) {
	last := h.from
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		if last == "" {
			id, err := h.store.LastChangeID(ctx)
			if err != nil {
				h.pause(ctx, &wait, err)
				continue
			}
			last = id
		}
		streams, err := h.store.rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{keyspace.Changes(), last}, Count: hubBatch, Block: hubBlock,
		}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			h.pause(ctx, &wait, err)
			continue
		}
		wait = 100 * time.Millisecond
		read := 0
		for _, st := range streams {
			for _, m := range st.Messages {
				last = m.ID
				h.broadcast(changeHead(m))
			}
			read += len(st.Messages)
		}
		if read < hubBatch {
			// Let a busy stream gather a few changes for the next read.
			select {
			case <-ctx.Done():
			case <-time.After(hubGather):
			}
		}
	}
	h.mu.Lock()
	for sub := range h.subs {
		delete(h.subs, sub)
		close(sub.C)
	}
	h.mu.Unlock()
}

func (h *Hub) pause(ctx context.Context, wait *time.Duration, err error) {
	if ctx.Err() != nil {
		return
	}
	h.log.Warn("cannot read the change stream; retrying", "error", err, "in", *wait)
	select {
	case <-ctx.Done():
	case <-time.After(*wait):
	}
	*wait = min(*wait*2, 5*time.Second)
}

// broadcast hands a change to every watcher that takes its type; one
// that cannot take it is dropped, and resumes by itself. The object is
// decoded once, and only when a watcher of whole changes takes it; a
// change whose object cannot be decoded is skipped for those watchers.
func (h *Hub) broadcast(c Change, doc string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	full, decoded, undecodable := c, false, false
	for sub := range h.subs {
		send := c
		if sub.types != nil {
			if !slices.Contains(sub.types, c.Type) {
				continue
			}
		} else {
			if !decoded {
				decoded = true
				if err := full.decode(doc); err != nil {
					undecodable = true
					h.log.Warn("undecodable change skipped", "id", c.ID, "error", err)
				}
			}
			if undecodable {
				continue
			}
			send = full
		}
		select {
		case sub.C <- send:
		default:
			delete(h.subs, sub)
			close(sub.C)
		}
	}
}

// Follow calls reload at once, whenever an object of one of types changes,
// every interval besides, and after each resubscription (changes may have
// been missed meanwhile), until ctx ends. It is how in-memory views of live
// state (policies, sources) stay current on every replica.
func (h *Hub) Follow(ctx context.Context, types []string, interval time.Duration, reload func(context.Context)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for ctx.Err() == nil {
		sub := h.SubscribeTypes(types...)
		reload(ctx)
		h.follow(ctx, sub, tick.C, reload)
		sub.Close()
	}
}

func (h *Hub) follow(ctx context.Context, sub *Subscription, tick <-chan time.Time, reload func(context.Context)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			reload(ctx)
		case _, ok := <-sub.C:
			if !ok {
				return
			}
			reload(ctx)
		}
	}
}
