package leases

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
)

// A waiting Next parks until its replica hears of an offer in its zone (a
// wake), or until it is due to look again. A wake goes to one parked
// waiter, the longest parked, which looks; when none is parked (all are
// looking), it is kept as a token for the next one about to park, so that
// no offer is slept through. A waiter that leaves with a wake it did not
// use hands it on. Each replica so looks once per offer, not once per
// waiter.

// zoneWait is one zone's Next calls on this replica.
type zoneWait struct {
	calls   int       // Next calls in progress
	parked  []*waiter // those parked, longest first
	tokens  int       // wakes that found nobody parked, at most calls
	checked time.Time // when one of them last looked
}

// waiter is one Next call.
type waiter struct {
	zone string
	z    *zoneWait
	wake chan struct{} // a wake, once popped from parked; buffered
	done chan struct{} // closed by Close
}

// join registers a Next call of zone, subscribing to the wake channel on
// the Queue's first call.
func (q *Queue) join(ctx context.Context, zone string) (*waiter, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, ErrClosed
	}
	if q.done == nil {
		q.done = make(chan struct{})
	}
	if q.sub == nil {
		if err := q.subscribe(ctx); err != nil {
			return nil, err
		}
	}
	if q.zones == nil {
		q.zones = map[string]*zoneWait{}
	}
	z := q.zones[zone]
	if z == nil {
		z = &zoneWait{}
		q.zones[zone] = z
	}
	z.calls++
	return &waiter{zone: zone, z: z, wake: make(chan struct{}, 1), done: q.done}, nil
}

// subscribeTimeout bounds the first subscription, which every poll of the
// replica waits for.
const subscribeTimeout = 5 * time.Second

// subscribe starts listening to the wake channel; q.mu is held. The
// subscription serves every poll of the replica, so the first caller's
// cancellation does not cut it short; a timeout bounds it instead.
func (q *Queue) subscribe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), subscribeTimeout)
	defer cancel()
	ps := q.Redis.Subscribe(ctx, keyspace.AgentWake())
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return fmt.Errorf("subscribe to %s: %w", keyspace.AgentWake(), err)
	}
	q.sub = ps
	ch := ps.ChannelWithSubscriptions(redis.WithChannelSize(1024))
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		for m := range ch {
			switch m := m.(type) {
			case *redis.Message:
				q.signal(m.Payload)
			case *redis.Subscription:
				// Subscribed again after a lost connection: offers made
				// meanwhile went unheard.
				q.log().Debug("wake channel subscribed again; waking every waiting poll")
				q.signalAll()
			}
		}
	}()
	return nil
}

// leave ends a Next call.
func (q *Queue) leave(w *waiter) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.unpark(w) {
		q.notify(w.z)
	}
	w.z.calls--
	w.z.tokens = min(w.z.tokens, w.z.calls)
	if w.z.calls == 0 && q.zones[w.zone] == w.z {
		delete(q.zones, w.zone)
	}
}

// looked records that w is about to look.
func (q *Queue) looked(w *waiter) {
	q.mu.Lock()
	w.z.checked = time.Now()
	q.mu.Unlock()
}

// wait parks w for up to left, and tells whether it should look again: it
// was woken, or no waiter of its zone has looked for Recheck.
func (q *Queue) wait(ctx context.Context, w *waiter, left time.Duration) (bool, error) {
	every := q.recheck()
	q.mu.Lock()
	z := w.z
	if z.tokens > 0 {
		z.tokens--
		q.mu.Unlock()
		return true, nil
	}
	due := time.Until(z.checked.Add(every))
	z.parked = append(z.parked, w)
	q.mu.Unlock()

	t := time.NewTimer(max(min(left, due), 0))
	defer t.Stop()
	select {
	case <-w.wake:
		return true, nil
	case <-t.C:
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.unpark(w) {
			return true, nil // woken just now: the wake is w's
		}
		if time.Since(z.checked) < every {
			return false, nil
		}
		z.checked = time.Now() // w looks for all of them
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	case <-w.done:
		return false, ErrClosed
	}
}

// unpark takes w off its zone's parked list, and reports whether it was
// not on it any more: a wake popped it, which unpark takes from its
// channel. q.mu is held.
func (q *Queue) unpark(w *waiter) bool {
	if i := slices.Index(w.z.parked, w); i >= 0 {
		w.z.parked = slices.Delete(w.z.parked, i, i+1)
		return false
	}
	select {
	case <-w.wake:
		return true
	default:
		return false
	}
}

// notify hands one wake to z's longest parked waiter, or keeps it as a
// token. q.mu is held.
func (q *Queue) notify(z *zoneWait) {
	if len(z.parked) == 0 {
		z.tokens = min(z.tokens+1, z.calls)
		return
	}
	w := z.parked[0]
	z.parked = slices.Delete(z.parked, 0, 1)
	w.wake <- struct{}{}
}

// signal wakes one waiter of zone, if the replica has any.
func (q *Queue) signal(zone string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if z := q.zones[zone]; z != nil {
		q.notify(z)
	}
}

// signalAll wakes every parked waiter.
func (q *Queue) signalAll() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, z := range q.zones {
		for range len(z.parked) {
			q.notify(z)
		}
	}
}

// Close ends the Queue's subscription and every waiting Next, which
// returns ErrClosed, as does every Next after it. Offer, Renew, Finish,
// Cancel, Lookup and Release still work. It may be called more than once.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	if q.done != nil {
		close(q.done)
	}
	sub := q.sub
	q.mu.Unlock()
	var err error
	if sub != nil {
		if err = sub.Close(); err != nil {
			err = fmt.Errorf("close the subscription to %s: %w", keyspace.AgentWake(), err)
		}
	}
	q.wg.Wait()
	return err
}
