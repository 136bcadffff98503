package leases_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/internal/testclock"
	"github.com/reflexops/reflex/leases"
)

const zone = "prod"

// newClock is a settable clock for the Queue's Now, standing at now.
func newClock() *testclock.Clock { return testclock.New(time.Now()) }

// newQueue returns a Queue on client, closed when t ends.
func newQueue(t testing.TB, client redis.UniversalClient, set ...func(*leases.Queue)) *leases.Queue {
	t.Helper()
	q := &leases.Queue{Redis: client, Log: slog.New(slog.DiscardHandler)}
	for _, f := range set {
		f(q)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Error(err)
		}
	})
	return q
}

// replica returns a client of its own on r's database, as another replica
// of the server would have.
func replica(t testing.TB, r *redistest.Redis) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func withTTL(d time.Duration) func(*leases.Queue) { return func(q *leases.Queue) { q.LeaseTTL = d } }

func withClock(c *testclock.Clock) func(*leases.Queue) {
	return func(q *leases.Queue) { q.Now = c.Now }
}

// waitParked waits until n Next calls of zone are parked on q.
func waitParked(t testing.TB, q *leases.Queue, zone string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); leases.Parked(q, zone) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d Next calls parked after 10s, want %d", leases.Parked(q, zone), n)
		}
	}
}

func mustOffer(t testing.TB, q *leases.Queue, jobID string, payload string) {
	t.Helper()
	if err := q.Offer(context.Background(), zone, jobID, []byte(payload), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// mustNext takes the next job, failing unless one comes within 5s.
func mustNext(t testing.TB, q *leases.Queue, agent string) *leases.Lease {
	t.Helper()
	l, err := q.Next(context.Background(), zone, agent, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if l == nil {
		t.Fatal("Next found no job within 5s")
	}
	return l
}

// mustNone fails when Next hands out a job at once.
func mustNone(t testing.TB, q *leases.Queue, agent string) {
	t.Helper()
	l, err := q.Next(context.Background(), zone, agent, 0)
	if err != nil {
		t.Fatal(err)
	}
	if l != nil {
		t.Fatalf("Next handed out job %s (attempt %d), want none", l.JobID, l.Attempt)
	}
}

// wantEntries fails unless the zone's stream holds n entries.
func wantEntries(t *testing.T, r *redistest.Redis, n int64) {
	t.Helper()
	if got, err := r.Client.XLen(context.Background(), keyspace.AgentOffers(zone)).Result(); err != nil || got != n {
		t.Fatalf("the stream holds %d entries (%v), want %d", got, err, n)
	}
}

func TestOfferNextFinish(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
	}{
		{"json", []byte(`{"job":"d-1"}`)},
		{"empty", []byte{}},
		{"binary", []byte{0, 0xff, '\n', 0x80, '"'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := redistest.New(t)
			c := newClock()
			q := newQueue(t, r.Client, withClock(c))
			ctx := context.Background()
			if err := q.Offer(ctx, zone, "d-1", tt.payload, c.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			l := mustNext(t, q, "agent-1")
			if l.Zone != zone || l.JobID != "d-1" || l.Agent != "agent-1" || l.Attempt != 1 || !bytes.Equal(l.Payload, tt.payload) {
				t.Fatalf("lease %+v, want job d-1 of %s to agent-1, attempt 1, payload %q", l, zone, tt.payload)
			}
			if len(l.LeaseID) != 32 {
				t.Errorf("lease id %q, want 128 random bits in hex", l.LeaseID)
			}
			if want := c.Now().Add(leases.DefaultLeaseTTL); !l.ExpiresAt.Equal(want) {
				t.Errorf("lease expires at %s, want %s", l.ExpiresAt, want)
			}
			agent, leaseID, attempt, err := holder(q, ctx, zone, "d-1")
			if err != nil || agent != "agent-1" || leaseID != l.LeaseID || attempt != 1 {
				t.Fatalf("Holder = %q, %q, %d, %v; want agent-1, %s, 1", agent, leaseID, attempt, err, l.LeaseID)
			}
			mustNone(t, q, "agent-2")
			if err := q.Finish(ctx, zone, "d-1", "0123456789abcdef0123456789abcdef"); !errors.Is(err, leases.ErrLeaseLost) {
				t.Fatalf("Finish with another lease id = %v, want ErrLeaseLost", err)
			}
			for range 2 { // a retried finish succeeds
				if err := q.Finish(ctx, zone, "d-1", l.LeaseID); err != nil {
					t.Fatalf("Finish = %v", err)
				}
			}
			if agent, _, _, err := holder(q, ctx, zone, "d-1"); err != nil || agent != "" {
				t.Fatalf("Holder of a finished job = %q, %v; want nobody", agent, err)
			}
			if _, err := q.Renew(ctx, zone, "d-1", l.LeaseID); !errors.Is(err, leases.ErrLeaseLost) {
				t.Fatalf("Renew after Finish = %v, want ErrLeaseLost", err)
			}
			// A finished job is never offered again, even when offered again.
			if err := q.Offer(ctx, zone, "d-1", tt.payload, c.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			mustNone(t, q, "agent-2")
			wantEntries(t, r, 0)
		})
	}
}

func TestOfferIsIdempotent(t *testing.T) {
	r := redistest.New(t)
	q := newQueue(t, r.Client)
	mustOffer(t, q, "d-1", "first")
	mustOffer(t, q, "d-1", "second")
	l := mustNext(t, q, "agent-1")
	if string(l.Payload) != "first" {
		t.Fatalf("payload %q, want the first offer's", l.Payload)
	}
	mustNone(t, q, "agent-2")
	// While leased, another offer changes nothing either.
	mustOffer(t, q, "d-1", "third")
	mustNone(t, q, "agent-2")
	wantEntries(t, r, 1)
}

func TestOneJobOneAgentAcrossReplicas(t *testing.T) {
	r := redistest.New(t)
	a := newQueue(t, r.Client)
	b := newQueue(t, replica(t, r))
	const pollers, jobs = 8, 40
	var (
		mu    sync.Mutex
		taken = map[string][]string{}
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range pollers {
		q := a
		if i%2 == 1 {
			q = b
		}
		agent := fmt.Sprintf("agent-%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				l, err := q.Next(ctx, zone, agent, 5*time.Second)
				if err != nil || l == nil {
					return
				}
				mu.Lock()
				taken[l.JobID] = append(taken[l.JobID], agent)
				done := len(taken) == jobs
				mu.Unlock()
				if done {
					cancel()
				}
			}
		}()
	}
	waitParked(t, a, zone, pollers/2)
	waitParked(t, b, zone, pollers/2)
	for i := range jobs {
		q := a
		if i%3 == 0 {
			q = b
		}
		mustOffer(t, q, fmt.Sprintf("d-%d", i), "x")
	}
	wg.Wait()
	if len(taken) != jobs {
		t.Fatalf("%d jobs leased, want %d", len(taken), jobs)
	}
	for job, agents := range taken {
		if len(agents) != 1 {
			t.Errorf("job %s leased to %v, want one agent", job, agents)
		}
	}
}

// TestLostLeasesPassOnOneAtATime: jobs whose agents never renew go round
// pollers of two replicas, one lease after another, each with the next
// attempt.
func TestLostLeasesPassOnOneAtATime(t *testing.T) {
	r := redistest.New(t)
	const ttl, jobs, pollers, rounds = 200 * time.Millisecond, 3, 6, 3
	a := newQueue(t, r.Client, withTTL(ttl))
	b := newQueue(t, replica(t, r), withTTL(ttl))
	var (
		mu       sync.Mutex
		attempts = map[string][]int{}
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range jobs {
		mustOffer(t, a, fmt.Sprintf("d-%d", i), "x")
	}
	for i := range pollers {
		q := a
		if i%2 == 1 {
			q = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				l, err := q.Next(ctx, zone, fmt.Sprintf("agent-%d", i), time.Second)
				if err != nil || l == nil {
					continue
				}
				mu.Lock()
				attempts[l.JobID] = append(attempts[l.JobID], l.Attempt)
				done := len(attempts) == jobs
				for _, got := range attempts {
					done = done && len(got) >= rounds
				}
				mu.Unlock()
				if done {
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	for i := range jobs {
		job := fmt.Sprintf("d-%d", i)
		got := attempts[job]
		if len(got) < rounds {
			t.Errorf("job %s leased %d times before the deadline, want %d", job, len(got), rounds)
		}
		for n, attempt := range got {
			if attempt != n+1 {
				t.Errorf("job %s leased with attempts %v, want 1, 2, 3...", job, got)
				break
			}
		}
	}
}

// leasedOnTwoReplicas returns two replicas' Queues with a lease TTL on one
// Redis, and the lease of a job d-1 offered and leased to agent-1 on a.
func leasedOnTwoReplicas(t *testing.T, ttl time.Duration) (a, b *leases.Queue, l *leases.Lease) {
	t.Helper()
	r := redistest.New(t)
	a = newQueue(t, r.Client, withTTL(ttl))
	b = newQueue(t, replica(t, r), withTTL(ttl))
	mustOffer(t, a, "d-1", "x")
	return a, b, mustNext(t, a, "agent-1")
}

func TestRenewKeepsOthersOff(t *testing.T) {
	const ttl = 600 * time.Millisecond
	a, b, l := leasedOnTwoReplicas(t, ttl)
	ctx := context.Background()

	// agent-2 polls on the other replica for 2.5 lease TTLs while agent-1
	// renews every sixth of one.
	other := make(chan *leases.Lease, 1)
	go func() {
		l, err := b.Next(ctx, zone, "agent-2", 5*ttl/2)
		if err != nil {
			t.Error(err)
		}
		other <- l
	}()
	last := l.ExpiresAt
	renewing := time.NewTicker(ttl / 6)
	defer renewing.Stop()
	for {
		select {
		case got := <-other:
			if got != nil {
				t.Fatalf("agent-2 took job %s while agent-1 renewed its lease", got.JobID)
			}
			agent, _, _, err := holder(a, ctx, zone, "d-1")
			if err != nil || agent != "agent-1" {
				t.Fatalf("Holder = %q, %v; want agent-1", agent, err)
			}
			return
		case <-renewing.C:
			rn, err := a.Renew(ctx, zone, "d-1", l.LeaseID)
			if err != nil {
				t.Fatalf("Renew: %v", err)
			}
			if rn.Cancel || rn.ExpiresAt.Before(last) {
				t.Fatalf("Renew = %+v, want no cancel and a deadline from %s on", rn, last)
			}
			last = rn.ExpiresAt
		}
	}
}

func TestExpiredLeaseIsOfferedAgain(t *testing.T) {
	const ttl = 300 * time.Millisecond
	a, b, first := leasedOnTwoReplicas(t, ttl)
	ctx := context.Background()
	if _, err := a.Renew(ctx, zone, "d-1", "not-the-lease"); !errors.Is(err, leases.ErrLeaseLost) {
		t.Fatalf("Renew with another lease id = %v, want ErrLeaseLost", err)
	}
	// agent-1 is lost: it never renews. agent-2 waits for the job.
	second := mustNext(t, b, "agent-2")
	if second.JobID != "d-1" || second.Attempt != 2 || second.Agent != "agent-2" || second.LeaseID == first.LeaseID || string(second.Payload) != "x" {
		t.Fatalf("second lease %+v, want d-1, attempt 2, to agent-2, with a new lease id", second)
	}
	if _, err := a.Renew(ctx, zone, "d-1", first.LeaseID); !errors.Is(err, leases.ErrLeaseLost) {
		t.Errorf("the old holder's Renew = %v, want ErrLeaseLost", err)
	}
	if err := a.Finish(ctx, zone, "d-1", first.LeaseID); !errors.Is(err, leases.ErrLeaseLost) {
		t.Errorf("the old holder's Finish = %v, want ErrLeaseLost", err)
	}
	agent, leaseID, attempt, err := holder(a, ctx, zone, "d-1")
	if err != nil || agent != "agent-2" || leaseID != second.LeaseID || attempt != 2 {
		t.Fatalf("Holder = %q, %q, %d, %v; want agent-2, %s, 2", agent, leaseID, attempt, err, second.LeaseID)
	}
	if err := b.Finish(ctx, zone, "d-1", second.LeaseID); err != nil {
		t.Fatal(err)
	}
	// Once the finished lease would have run out, nothing comes back.
	time.Sleep(ttl + 50*time.Millisecond)
	mustNone(t, a, "agent-3")
}

func TestLeaseRunsOutUnrenewed(t *testing.T) {
	r := redistest.New(t)
	const ttl = 300 * time.Millisecond
	q := newQueue(t, r.Client, withTTL(ttl))
	ctx := context.Background()
	mustOffer(t, q, "d-1", "x")
	l := mustNext(t, q, "agent-1")
	deadline := time.Now().Add(10 * time.Second)
	for {
		agent, _, _, err := holder(q, ctx, zone, "d-1")
		if err != nil {
			t.Fatal(err)
		}
		if agent == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a %s lease still held after 10s without renewal", ttl)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := q.Renew(ctx, zone, "d-1", l.LeaseID); !errors.Is(err, leases.ErrLeaseLost) {
		t.Fatalf("Renew of a lease that ran out = %v, want ErrLeaseLost", err)
	}
}

func TestCancel(t *testing.T) {
	const ttl = 300 * time.Millisecond
	tests := []struct {
		name string
		// lease takes the job before the cancel.
		lease bool
		// after runs after the cancel, with the lease if any.
		after func(t *testing.T, q *leases.Queue, l *leases.Lease)
	}{
		{"before the lease: never offered", false, func(t *testing.T, q *leases.Queue, _ *leases.Lease) {
			mustNone(t, q, "agent-1")
			mustOffer(t, q, "d-1", "again") // a withdrawn job is remembered
			mustNone(t, q, "agent-1")
			if leased, err := q.Cancel(context.Background(), zone, "d-1"); leased || err != nil {
				t.Fatalf("a second Cancel = %v, %v; want false, nil", leased, err)
			}
		}},
		{"after the lease: the holder is told", true, func(t *testing.T, q *leases.Queue, l *leases.Lease) {
			rn, err := q.Renew(context.Background(), zone, "d-1", l.LeaseID)
			if err != nil || !rn.Cancel {
				t.Fatalf("Renew = %+v, %v; want cancel", rn, err)
			}
			if err := q.Finish(context.Background(), zone, "d-1", l.LeaseID); err != nil {
				t.Fatal(err)
			}
			if _, err := q.Cancel(context.Background(), zone, "d-1"); !errors.Is(err, leases.ErrFinished) {
				t.Fatalf("Cancel of a finished job = %v, want ErrFinished", err)
			}
		}},
		{"after the lease, which then runs out: never offered again", true, func(t *testing.T, q *leases.Queue, l *leases.Lease) {
			got, err := q.Next(context.Background(), zone, "agent-2", 3*ttl)
			if err != nil || got != nil {
				t.Fatalf("Next = %+v, %v; want nothing", got, err)
			}
			if _, err := q.Renew(context.Background(), zone, "d-1", l.LeaseID); !errors.Is(err, leases.ErrLeaseLost) {
				t.Fatalf("Renew = %v, want ErrLeaseLost", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := redistest.New(t)
			q := newQueue(t, r.Client, withTTL(ttl))
			mustOffer(t, q, "d-1", "x")
			var l *leases.Lease
			if tt.lease {
				l = mustNext(t, q, "agent-1")
			}
			leased, err := q.Cancel(context.Background(), zone, "d-1")
			if err != nil || leased != tt.lease {
				t.Fatalf("Cancel = %v, %v; want %v, nil", leased, err, tt.lease)
			}
			tt.after(t, q, l)
		})
	}
	t.Run("unknown job", func(t *testing.T) {
		r := redistest.New(t)
		q := newQueue(t, r.Client)
		if _, err := q.Cancel(context.Background(), zone, "d-404"); !errors.Is(err, leases.ErrUnknownJob) {
			t.Fatalf("Cancel = %v, want ErrUnknownJob", err)
		}
		if _, _, _, err := holder(q, context.Background(), zone, "d-404"); !errors.Is(err, leases.ErrUnknownJob) {
			t.Fatalf("Holder = %v, want ErrUnknownJob", err)
		}
	})
}

func TestExpiredJobIsNeverHandedOut(t *testing.T) {
	t.Run("offered", func(t *testing.T) {
		r := redistest.New(t)
		c := newClock()
		q := newQueue(t, r.Client, withClock(c))
		ctx := context.Background()
		if err := q.Offer(ctx, zone, "d-old", []byte("x"), c.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := q.Offer(ctx, zone, "d-new", []byte("y"), c.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		c.Advance(2 * time.Minute)
		l := mustNext(t, q, "agent-1")
		if l.JobID != "d-new" {
			t.Fatalf("leased %s, want d-new: d-old expired", l.JobID)
		}
		mustNone(t, q, "agent-1")
		// Dropped, and nothing recorded of it: unknown, no entry, not ended.
		if _, _, _, err := holder(q, ctx, zone, "d-old"); !errors.Is(err, leases.ErrUnknownJob) {
			t.Fatalf("Holder of the expired job = %v, want ErrUnknownJob", err)
		}
		wantEntries(t, r, 1) // d-new
		if n, err := r.Client.ZCard(ctx, keyspace.AgentEnded(zone)).Result(); err != nil || n != 0 {
			t.Fatalf("%d ended jobs (%v), want 0", n, err)
		}
	})
	t.Run("lease ran out after it expired", func(t *testing.T) {
		r := redistest.New(t)
		c := newClock()
		const ttl = 300 * time.Millisecond
		q := newQueue(t, r.Client, withClock(c), withTTL(ttl))
		ctx := context.Background()
		if err := q.Offer(ctx, zone, "d-1", []byte("x"), c.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		mustNext(t, q, "agent-1")
		c.Advance(2 * time.Minute)
		if l, err := q.Next(ctx, zone, "agent-2", 3*ttl); err != nil || l != nil {
			t.Fatalf("Next = %+v, %v; want nothing", l, err)
		}
		if _, _, _, err := holder(q, ctx, zone, "d-1"); !errors.Is(err, leases.ErrUnknownJob) {
			t.Fatalf("Holder = %v, want ErrUnknownJob: the job was dropped", err)
		}
	})
	t.Run("already expired when offered", func(t *testing.T) {
		r := redistest.New(t)
		q := newQueue(t, r.Client)
		err := q.Offer(context.Background(), zone, "d-1", []byte("x"), time.Now().Add(-time.Second))
		if !errors.Is(err, leases.ErrExpired) {
			t.Fatalf("Offer = %v, want ErrExpired", err)
		}
		mustNone(t, q, "agent-1")
	})
}

func TestOfferWakesAPollOnAnotherReplica(t *testing.T) {
	r := redistest.New(t)
	// Without the notification, the waiting poll would not look again
	// before its wait ends.
	a := newQueue(t, r.Client, func(q *leases.Queue) { q.Recheck = time.Hour })
	b := newQueue(t, replica(t, r))
	got := make(chan *leases.Lease, 1)
	go func() {
		l, err := a.Next(context.Background(), zone, "agent-1", 5*time.Second)
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	waitParked(t, a, zone, 1)
	mustOffer(t, b, "d-1", "x")
	if l := <-got; l == nil || l.JobID != "d-1" {
		t.Fatalf("the waiting poll returned %+v, want d-1 before its wait ended", l)
	}
}

func TestNextWaitsAndReturnsNothing(t *testing.T) {
	r := redistest.New(t)
	q := newQueue(t, r.Client)
	const wait = 200 * time.Millisecond
	start := time.Now()
	l, err := q.Next(context.Background(), zone, "agent-1", wait)
	if err != nil || l != nil {
		t.Fatalf("Next = %+v, %v; want nil, nil", l, err)
	}
	if took := time.Since(start); took < wait {
		t.Fatalf("Next returned after %s, before its wait of %s", took, wait)
	}
	// Another zone's offer does not end the wait with a job.
	mustOffer(t, q, "d-1", "x")
	if l, err := q.Next(context.Background(), "staging", "agent-1", wait); err != nil || l != nil {
		t.Fatalf("Next of another zone = %+v, %v; want nil, nil", l, err)
	}
}

func TestCancelledContextEndsNext(t *testing.T) {
	r := redistest.New(t)
	q := newQueue(t, r.Client, func(q *leases.Queue) { q.Recheck = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := q.Next(ctx, zone, "agent-1", time.Hour)
		errc <- err
	}()
	waitParked(t, q, zone, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Next = %v, want context.Canceled", err)
	}
	if _, err := q.Next(ctx, zone, "agent-1", time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestCloseEndsNext(t *testing.T) {
	r := redistest.New(t)
	q := &leases.Queue{Redis: r.Client, Recheck: time.Hour}
	errc := make(chan error, 1)
	go func() {
		_, err := q.Next(context.Background(), zone, "agent-1", time.Hour)
		errc <- err
	}()
	waitParked(t, q, zone, 1)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, leases.ErrClosed) {
		t.Fatalf("Next = %v, want ErrClosed", err)
	}
	if _, err := q.Next(context.Background(), zone, "agent-1", 0); !errors.Is(err, leases.ErrClosed) {
		t.Fatalf("Next after Close = %v, want ErrClosed", err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("a second Close = %v", err)
	}
}

// TestWaitingPollsHoldNoConnection: many polls wait on a pool of a few
// connections, which stays free for other commands, and an offer still
// reaches one of them.
func TestWaitingPollsHoldNoConnection(t *testing.T) {
	r := redistest.New(t)
	opts, err := redis.ParseURL(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	opts.PoolSize, opts.PoolTimeout = 4, 2*time.Second
	small := redis.NewClient(opts)
	defer small.Close()
	q := newQueue(t, small, func(q *leases.Queue) { q.Recheck = time.Hour })
	const polls = 200
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan *leases.Lease, polls)
	var wg sync.WaitGroup
	for i := range polls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := q.Next(ctx, zone, fmt.Sprintf("agent-%d", i), time.Minute)
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Error(err)
			}
			got <- l
		}()
	}
	waitParked(t, q, zone, polls)
	if err := small.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING while %d polls wait: %v", polls, err)
	}
	mustOffer(t, q, "d-1", "x")
	if l := <-got; l == nil || l.JobID != "d-1" {
		t.Fatalf("a poll returned %+v, want d-1", l)
	}
	cancel()
	wg.Wait()
	close(got)
	for l := range got {
		if l != nil {
			t.Errorf("a second poll got %s", l.JobID)
		}
	}
}

func TestEndedJobsAreForgotten(t *testing.T) {
	r := redistest.New(t)
	c := newClock()
	q := newQueue(t, r.Client, withClock(c), func(q *leases.Queue) { q.Remember = time.Minute })
	ctx := context.Background()
	offer := func(id string) {
		t.Helper()
		if err := q.Offer(ctx, zone, id, []byte(id), c.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	offer("d-1")
	l := mustNext(t, q, "agent-1")
	if err := q.Finish(ctx, zone, "d-1", l.LeaseID); err != nil {
		t.Fatal(err)
	}
	c.Advance(30 * time.Second)
	offer("d-1") // remembered: changes nothing
	mustNone(t, q, "agent-1")
	c.Advance(time.Minute)
	offer("d-1") // forgotten: a new job of the same id
	again := mustNext(t, q, "agent-1")
	if again.JobID != "d-1" || again.Attempt != 1 {
		t.Fatalf("lease %+v, want d-1 offered anew", again)
	}
	if err := q.Finish(ctx, zone, "d-1", l.LeaseID); !errors.Is(err, leases.ErrLeaseLost) {
		t.Fatalf("Finish of the forgotten lease = %v, want ErrLeaseLost", err)
	}
}

func TestNamesAreChecked(t *testing.T) {
	r := redistest.New(t)
	q := newQueue(t, r.Client)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	tests := []struct {
		name             string
		zone, job, agent string
	}{
		{"empty zone", "", "d-1", "a"},
		{"upper-case zone", "Prod", "d-1", "a"},
		{"zone with a brace", "a}b", "d-1", "a"},
		{"zone with a colon", "a:b", "d-1", "a"},
		{"zone with a space", "a b", "d-1", "a"},
		{"zone starting with -", "-a", "d-1", "a"},
		{"long zone", "a" + string(bytes.Repeat([]byte("b"), 63)), "d-1", "a"},
		{"empty job", zone, "", "a"},
		{"job with a slash", zone, "a/b", "a"},
		{"job with braces", zone, "{x}", "a"},
		{"job with a newline", zone, "d-1\n", "a"},
		{"long job", zone, string(bytes.Repeat([]byte("d"), 201)), "a"},
		{"empty agent", zone, "d-1", ""},
		{"agent with a space", zone, "d-1", "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := map[string]error{}
			if tt.job != "d-1" || tt.zone != zone {
				calls["Offer"] = q.Offer(ctx, tt.zone, tt.job, nil, exp)
				_, calls["Renew"] = q.Renew(ctx, tt.zone, tt.job, "l")
				calls["Finish"] = q.Finish(ctx, tt.zone, tt.job, "l")
				_, calls["Cancel"] = q.Cancel(ctx, tt.zone, tt.job)
				_, _, _, calls["Lookup"] = holder(q, ctx, tt.zone, tt.job)
			}
			if tt.zone != zone || tt.agent != "a" {
				_, calls["Next"] = q.Next(ctx, tt.zone, tt.agent, 0)
			}
			for name, err := range calls {
				if !errors.Is(err, leases.ErrInvalidName) {
					t.Errorf("%s = %v, want ErrInvalidName", name, err)
				}
			}
		})
	}
	if n, err := r.Client.DBSize(ctx).Result(); err != nil || (!r.Real && n != 0) {
		t.Fatalf("%d keys after invalid calls (%v), want none", n, err)
	}
}

// holder returns the agent, lease id and attempt of the lease that holds
// a job now, or empty values when none does.
func holder(q *leases.Queue, ctx context.Context, zone, job string) (agent, leaseID string, attempt int, err error) {
	j, err := q.Lookup(ctx, zone, job)
	if err != nil || j.State != leases.StateLeased {
		return "", "", 0, err
	}
	return j.Agent, j.LeaseID, j.Attempt, nil
}

// TestReleaseAndLookup: a lease given back is handed out at once to the
// next agent, as a new attempt; its old holder can no longer renew or
// finish it; Lookup follows the job from offer to end.
func TestReleaseAndLookup(t *testing.T) {
	r := redistest.New(t)
	q := newQueue(t, r.Client)
	ctx := context.Background()
	state := func() leases.Job {
		t.Helper()
		j, err := q.Lookup(ctx, zone, "d-1")
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	mustOffer(t, q, "d-1", "x")
	if j := state(); j.State != leases.StateOffered || j.Agent != "" || j.Attempt != 0 {
		t.Fatalf("offered job = %+v", j)
	}
	first := mustNext(t, q, "agent-1")
	if j := state(); j.State != leases.StateLeased || j.Agent != "agent-1" || j.LeaseID != first.LeaseID || j.Attempt != 1 {
		t.Fatalf("leased job = %+v", j)
	}
	if err := q.Release(ctx, zone, "d-1", "0123456789abcdef0123456789abcdef"); !errors.Is(err, leases.ErrLeaseLost) {
		t.Fatalf("Release with another lease id = %v, want ErrLeaseLost", err)
	}
	if err := q.Release(ctx, zone, "d-1", first.LeaseID); err != nil {
		t.Fatal(err)
	}
	if j := state(); j.State != leases.StateOffered || j.Agent != "" || j.LeaseID != "" {
		t.Fatalf("released job = %+v", j)
	}
	if err := q.Release(ctx, zone, "d-1", first.LeaseID); !errors.Is(err, leases.ErrLeaseLost) {
		t.Fatalf("a second Release = %v, want ErrLeaseLost", err)
	}
	// Handed out at once, not after the lease TTL.
	l, err := q.Next(ctx, zone, "agent-2", 0)
	if err != nil || l == nil || l.Attempt != 2 || l.LeaseID == first.LeaseID {
		t.Fatalf("Next after the release = %+v, %v; want attempt 2 under a new lease", l, err)
	}
	if _, err := q.Renew(ctx, zone, "d-1", first.LeaseID); !errors.Is(err, leases.ErrLeaseLost) {
		t.Fatalf("the old holder's Renew = %v, want ErrLeaseLost", err)
	}
	if err := q.Finish(ctx, zone, "d-1", l.LeaseID); err != nil {
		t.Fatal(err)
	}
	if j := state(); j.State != leases.StateFinished || j.Agent != "agent-2" || j.LeaseID != l.LeaseID || j.Attempt != 2 {
		t.Fatalf("finished job = %+v", j)
	}
	if err := q.Release(ctx, zone, "d-1", l.LeaseID); !errors.Is(err, leases.ErrLeaseLost) {
		t.Fatalf("Release of a finished job = %v, want ErrLeaseLost", err)
	}
}

// TestReleaseWakesAPoll: a poll waiting on another replica takes a
// released job at once.
func TestReleaseWakesAPoll(t *testing.T) {
	r := redistest.New(t)
	a := newQueue(t, r.Client, func(q *leases.Queue) { q.Recheck = time.Hour })
	b := newQueue(t, replica(t, r), func(q *leases.Queue) { q.Recheck = time.Hour })
	mustOffer(t, a, "d-1", "x")
	l := mustNext(t, a, "agent-1")
	got := make(chan *leases.Lease, 1)
	go func() {
		l, _ := b.Next(context.Background(), zone, "agent-2", 10*time.Second)
		got <- l
	}()
	time.Sleep(100 * time.Millisecond) // let the poll park
	if err := a.Release(context.Background(), zone, "d-1", l.LeaseID); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-got:
		if l == nil || l.JobID != "d-1" || l.Agent != "agent-2" {
			t.Fatalf("the waiting poll got %+v", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting poll did not take the released job within 5s")
	}
}
