// Package leases offers delivery jobs to the agents of a zone and leases each
// to one agent at a time.
//
// A zone's jobs are entries of a Redis stream with one consumer group
// (internal/keyspace: reflex:{agents:<zone>}:). Offer adds a job once; Next
// waits for one and leases it: a job whose lease ran out (no Renew within
// LeaseTTL) first, found by XAUTOCLAIM, else a new one, read by XREADGROUP.
// The holder renews its lease while it works, and finishes the job when it is
// done; Cancel withdraws a job not leased yet, or flags a leased one so that
// the holder's next Renew says so. Every change that touches several keys is
// one Lua script, and all keys of a zone share one hash tag.
//
// Several Queue values (one per replica) may work on one Redis: the consumer
// group hands an entry to one reader, and the scripts decide who holds it.
// A waiting Next holds no Redis connection: each Queue has one pub/sub
// subscription, on which every Offer names its zone, and wakes its own
// waiters of that zone; a waiter also looks again every Recheck, which
// covers a missed notification and a lease that ran out.
//
// Redis measures a lease by the idle time of its stream entry (its own
// clock): a lease is held while its entry was claimed or renewed less than
// LeaseTTL ago. The Queue's clock (Now) decides when a job has expired and
// stamps the deadlines it returns. Every replica must use the same LeaseTTL.
// Redis 6.2 or newer is needed (XAUTOCLAIM).
package leases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/state"
)

// Defaults of the Queue's zero fields.
const (
	// DefaultLeaseTTL is how long a lease lasts without renewal.
	DefaultLeaseTTL = 60 * time.Second
	// DefaultRemember is how long a finished or withdrawn job is remembered.
	DefaultRemember = time.Hour
	// maxRecheck bounds the default Recheck.
	maxRecheck = time.Second
	// scriptTimeout bounds a script that Next runs on behalf of a request
	// that may be cancelled meanwhile: a take is not abandoned half-way.
	scriptTimeout = 10 * time.Second
)

// The consumer group of every zone's stream and its one consumer: who
// holds an entry is in the job's record, not in the consumer's name, so
// that the group does not collect a consumer per agent.
const (
	group    = "agents"
	consumer = "leases"
)

// ErrLeaseLost is returned by Renew and Finish when the lease is not, or no
// longer, held by that lease id: it ran out, or was never granted.
var ErrLeaseLost = errors.New("the lease is not held")

// ErrUnknownJob is returned when the zone knows no job of that id: never
// offered, dropped when it expired, or forgotten after it ended.
var ErrUnknownJob = errors.New("no such job")

// ErrFinished is returned by Cancel when the job has already been finished.
var ErrFinished = errors.New("the job is already finished")

// ErrExpired is returned by Offer for a job that has already expired.
var ErrExpired = errors.New("the job has expired")

// ErrInvalidName is wrapped when a zone, job id or agent name does not
// follow its pattern.
var ErrInvalidName = errors.New("invalid name")

// ErrClosed is returned by Next once the Queue is closed.
var ErrClosed = errors.New("the lease queue is closed")

// Queue offers and leases the jobs of every zone. Its exported fields are
// set before first use and not changed after; its zero values take the
// defaults documented on each. Close releases its subscription.
type Queue struct {
	// Redis is the server every replica shares.
	Redis redis.UniversalClient
	// Now is the clock that decides expiry (default time.Now).
	Now func() time.Time
	// LeaseTTL is how long a lease lasts without renewal, so a lost
	// agent's job is offered again after at most this (default
	// DefaultLeaseTTL); every replica must use the same.
	LeaseTTL time.Duration
	// Remember is how long a finished or withdrawn job is remembered at
	// least, so that its Finish may be retried and an Offer of its id
	// changes nothing (default DefaultRemember); Offer forgets older ones.
	Remember time.Duration
	// Recheck is how often a waiting Next looks again without being woken
	// (default a quarter of LeaseTTL, at most a second); one look per
	// zone and replica per Recheck at most.
	Recheck time.Duration
	// Log receives what the Queue does on its own (default slog.Default()).
	Log *slog.Logger

	mu     sync.Mutex
	zones  map[string]*zoneWait
	sub    *redis.PubSub
	done   chan struct{}
	closed bool
	wg     sync.WaitGroup
}

// Lease is a job leased to one agent.
type Lease struct {
	// Zone and JobID name the job.
	Zone, JobID string
	// LeaseID is the lease's random, unguessable id, which the holder
	// presents to Renew and Finish.
	LeaseID string
	// Agent is the agent that holds the lease.
	Agent string
	// Attempt is 1 for the job's first lease, one more for each lease
	// after one that ran out.
	Attempt int
	// Payload is the job as offered.
	Payload []byte
	// ExpiresAt is the lease's deadline, by the Queue's clock.
	ExpiresAt time.Time
}

// Renewal is what Renew tells the holder of a lease.
type Renewal struct {
	// Cancel is true when the job was cancelled: the holder should stop.
	Cancel bool
	// ExpiresAt is the lease's new deadline, by the Queue's clock.
	ExpiresAt time.Time
}

// zoneName is the pattern of a service's zone (state/schemas/service.json).
var zoneName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func checkZone(zone string) error {
	if !zoneName.MatchString(zone) {
		return fmt.Errorf("zone %q: want 1 to 63 lower-case letters, digits and '-', not starting with '-': %w", zone, ErrInvalidName)
	}
	return nil
}

func checkJob(zone, jobID string) error {
	if err := checkZone(zone); err != nil {
		return err
	}
	if !state.ValidName(jobID) { // a delivery id names its deployment object
		return fmt.Errorf("job id %q: want 1 to 200 letters, digits and '.', '_', ':', '@', '-', starting with a letter or digit: %w", jobID, ErrInvalidName)
	}
	return nil
}

func checkAgent(agent string) error {
	if !state.ValidName(agent) {
		return fmt.Errorf("agent %q: want 1 to 200 letters, digits and '.', '_', ':', '@', '-', starting with a letter or digit: %w", agent, ErrInvalidName)
	}
	return nil
}

func (q *Queue) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

func (q *Queue) ttl() time.Duration {
	if q.LeaseTTL > 0 {
		return q.LeaseTTL
	}
	return DefaultLeaseTTL
}

func (q *Queue) remember() time.Duration {
	if q.Remember > 0 {
		return q.Remember
	}
	return DefaultRemember
}

func (q *Queue) recheck() time.Duration {
	if q.Recheck > 0 {
		return q.Recheck
	}
	return max(min(q.ttl()/4, maxRecheck), time.Millisecond)
}

func (q *Queue) log() *slog.Logger {
	if q.Log != nil {
		return q.Log
	}
	return slog.Default()
}

// zoneKeys are the keys of a zone the scripts take, in their order.
func zoneKeys(zone string) []string {
	return []string{keyspace.AgentOffers(zone), keyspace.AgentJobs(zone), keyspace.AgentEnded(zone)}
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func durMS(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// forgetBefore is the end time before which ended jobs are forgotten.
func (q *Queue) forgetBefore(now time.Time) string { return ms(now.Add(-q.remember())) }

// Offer puts a job on its zone's stream for an agent to take, unless the
// zone knows the job id already (offered, leased, or ended within
// Remember): then it changes nothing. A job is never handed out once
// expiresAt has passed; one that has already passed is refused with
// ErrExpired.
func (q *Queue) Offer(ctx context.Context, zone, jobID string, payload []byte, expiresAt time.Time) error {
	if err := checkJob(zone, jobID); err != nil {
		return fmt.Errorf("offer a job: %w", err)
	}
	now := q.now()
	if !expiresAt.After(now) {
		return fmt.Errorf("offer job %s in zone %s: expired at %s: %w", jobID, zone, expiresAt.UTC().Format(time.RFC3339Nano), ErrExpired)
	}
	added, err := offerScript.Run(ctx, q.Redis, zoneKeys(zone),
		group, jobID, payload, ms(expiresAt), q.forgetBefore(now), keyspace.AgentWake(), zone).Int()
	if err != nil {
		return fmt.Errorf("offer job %s in zone %s: %w", jobID, zone, err)
	}
	if added == 0 {
		q.log().Debug("job offered again; the zone knows it already", "zone", zone, "job", jobID)
	}
	return nil
}

// Next leases the zone's next job to agent, waiting up to wait (in real
// time) for one: first a job whose lease ran out, else one not leased yet.
// It returns nil, nil when none came within wait, and returns at once when
// a job is offered on any replica meanwhile. A cancelled ctx ends it with
// ctx's error; a take already sent to Redis is completed first, so that a
// job is not left leased to nobody. Jobs named in exclude are passed over
// (another agent may take them), as if they were not there.
func (q *Queue) Next(ctx context.Context, zone, agent string, wait time.Duration, exclude ...string) (*Lease, error) {
	if err := checkZone(zone); err != nil {
		return nil, fmt.Errorf("next job: %w", err)
	}
	if err := checkAgent(agent); err != nil {
		return nil, fmt.Errorf("next job of zone %s: %w", zone, err)
	}
	w, err := q.join(ctx, zone)
	if err != nil {
		return nil, fmt.Errorf("next job of zone %s: %w", zone, err)
	}
	defer q.leave(w)
	deadline := time.Now().Add(wait)
	look := true
	skip := make([]any, len(exclude))
	for i, job := range exclude {
		skip[i] = job
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("next job of zone %s: %w", zone, err)
		}
		if look {
			q.looked(w)
			l, err := q.take(ctx, zone, agent, skip)
			if l != nil || err != nil {
				return l, err
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		if look, err = q.wait(ctx, w, left); err != nil {
			return nil, fmt.Errorf("next job of zone %s: %w", zone, err)
		}
	}
}

// take leases the zone's next job to agent now, if there is one.
func (q *Queue) take(ctx context.Context, zone, agent string, exclude []any) (*Lease, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), scriptTimeout)
	defer cancel()
	keys := zoneKeys(zone)
	// A lease that ran out first.
	l, err := q.grant(ctx, keys, zone, agent, "", exclude)
	if l != nil || err != nil {
		return l, err
	}
	for {
		streams, err := q.Redis.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: group, Consumer: consumer, Streams: []string{keys[0], ">"}, Count: 1, Block: -1,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil), isNoGroup(err):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("read the next job of zone %s: %w", zone, err)
		}
		if len(streams) == 0 || len(streams[0].Messages) == 0 {
			return nil, nil
		}
		// The entry is now delivered to the group; the script leases its
		// job, or drops it when it expired or was withdrawn meanwhile. A
		// replica that stops in between leaves the entry to be claimed as
		// a lease that ran out.
		l, err := q.grant(ctx, keys, zone, agent, streams[0].Messages[0].ID, exclude)
		if l != nil || err != nil {
			return l, err
		}
	}
}

// isNoGroup reports a read of a zone that was never offered a job, whose
// stream and group do not exist yet.
func isNoGroup(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "NOGROUP")
}

// grant runs the take script: on the entry just read, or, when entry is
// empty, on the entries whose lease ran out.
func (q *Queue) grant(ctx context.Context, keys []string, zone, agent, entry string, exclude []any) (*Lease, error) {
	leaseID, err := newLeaseID()
	if err != nil {
		return nil, err
	}
	now := q.now()
	args := append([]any{group, consumer, durMS(q.ttl()), ms(now), leaseID, agent, entry}, exclude...)
	res, err := takeScript.Run(ctx, q.Redis, keys, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("lease a job of zone %s: %w", zone, err)
	}
	r, err := parseTake(res)
	if err != nil {
		return nil, fmt.Errorf("lease a job of zone %s: %w", zone, err)
	}
	if len(r.expired) > 0 {
		q.log().Info("dropped jobs that expired before an agent took them", "zone", zone, "jobs", r.expired)
	}
	if len(r.withdrawn) > 0 {
		q.log().Info("withdrew cancelled jobs whose lease ran out", "zone", zone, "jobs", r.withdrawn)
	}
	if r.job == "" {
		return nil, nil
	}
	if r.attempt > 1 {
		q.log().Info("job leased again after its lease ran out", "zone", zone, "job", r.job, "agent", agent, "attempt", r.attempt)
	}
	return &Lease{
		Zone: zone, JobID: r.job, LeaseID: leaseID, Agent: agent, Attempt: r.attempt,
		Payload: []byte(r.payload), ExpiresAt: now.Add(q.ttl()),
	}, nil
}

// takeReply is the take script's reply, taken apart.
type takeReply struct {
	job, payload       string
	attempt            int
	expired, withdrawn []string
}

// parseTake reads {job, attempt, payload, #expired, expired..., withdrawn...}.
func parseTake(res []any) (takeReply, error) {
	var r takeReply
	if len(res) < 4 {
		return r, fmt.Errorf("the take script answered %d values, want at least 4", len(res))
	}
	job, ok1 := res[0].(string)
	a, ok2 := res[1].(int64)
	payload, ok3 := res[2].(string)
	n, ok4 := res[3].(int64)
	if !ok1 || !ok2 || !ok3 || !ok4 || int(n) > len(res)-4 {
		return r, fmt.Errorf("the take script answered %v", res[:4])
	}
	r.job, r.payload, r.attempt = job, payload, int(a)
	for i, v := range res[4:] {
		s, _ := v.(string)
		if i < int(n) {
			r.expired = append(r.expired, s)
		} else {
			r.withdrawn = append(r.withdrawn, s)
		}
	}
	return r, nil
}

// newLeaseID returns 128 random bits in hex.
func newLeaseID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make a lease id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Renew extends the lease by LeaseTTL when leaseID holds it, and tells
// whether the job was cancelled meanwhile; it returns ErrLeaseLost when
// leaseID does not hold it (any more).
func (q *Queue) Renew(ctx context.Context, zone, jobID, leaseID string) (Renewal, error) {
	if err := checkJob(zone, jobID); err != nil {
		return Renewal{}, fmt.Errorf("renew a lease: %w", err)
	}
	now := q.now()
	res, err := renewScript.Run(ctx, q.Redis, zoneKeys(zone)[:2], group, consumer, jobID, leaseID, durMS(q.ttl())).Int()
	if err != nil {
		return Renewal{}, fmt.Errorf("renew the lease of job %s in zone %s: %w", jobID, zone, err)
	}
	if res < 0 {
		return Renewal{}, fmt.Errorf("renew the lease of job %s in zone %s: %w", jobID, zone, ErrLeaseLost)
	}
	return Renewal{Cancel: res == 1, ExpiresAt: now.Add(q.ttl())}, nil
}

// Finish ends the job leaseID holds: it is acknowledged and removed, and
// never offered again. A lease that ran out still finishes its job while
// no other agent took it. A retried Finish of the same lease succeeds
// (within Remember); any other lease id gets ErrLeaseLost.
func (q *Queue) Finish(ctx context.Context, zone, jobID, leaseID string) error {
	if err := checkJob(zone, jobID); err != nil {
		return fmt.Errorf("finish a job: %w", err)
	}
	now := q.now()
	ok, err := finishScript.Run(ctx, q.Redis, zoneKeys(zone), group, jobID, leaseID, ms(now)).Int()
	if err != nil {
		return fmt.Errorf("finish job %s in zone %s: %w", jobID, zone, err)
	}
	if ok == 0 {
		return fmt.Errorf("finish job %s in zone %s: %w", jobID, zone, ErrLeaseLost)
	}
	return nil
}

// Cancel withdraws a job no agent holds (offered, given back, or whose
// lease ran out), so it is never offered again (leased false), or flags a
// held one so that its holder's next Renew says to cancel (leased true). Cancelling a withdrawn job again changes
// nothing; a finished one gets ErrFinished, an unknown one ErrUnknownJob.
func (q *Queue) Cancel(ctx context.Context, zone, jobID string) (leased bool, err error) {
	if err := checkJob(zone, jobID); err != nil {
		return false, fmt.Errorf("cancel a job: %w", err)
	}
	now := q.now()
	state, err := cancelScript.Run(ctx, q.Redis, zoneKeys(zone), group, jobID, ms(now), durMS(q.ttl())).Text()
	if err != nil {
		return false, fmt.Errorf("cancel job %s in zone %s: %w", jobID, zone, err)
	}
	switch state {
	case stateLeased:
		return true, nil
	case stateWithdrawn:
		return false, nil
	case stateFinished:
		return false, fmt.Errorf("cancel job %s in zone %s: %w", jobID, zone, ErrFinished)
	case "":
		return false, fmt.Errorf("cancel job %s in zone %s: %w", jobID, zone, ErrUnknownJob)
	}
	return false, fmt.Errorf("cancel job %s in zone %s: the job is %q", jobID, zone, state)
}

// State is where a job stands in its zone.
type State string

// The states of a job.
const (
	// StateOffered: waiting for an agent, or leased once and its lease
	// ran out (it is handed out again).
	StateOffered State = stateOffered
	// StateLeased: an agent holds its lease.
	StateLeased State = stateLeased
	// StateFinished: its holder finished it.
	StateFinished State = stateFinished
	// StateWithdrawn: cancelled before an agent took it, or while leased
	// once the lease ran out.
	StateWithdrawn State = stateWithdrawn
)

// Job is where a job stands, as Lookup tells.
type Job struct {
	State State
	// Agent and LeaseID name the lease that holds the job (StateLeased),
	// finished it (StateFinished), or held it until it ran out while no
	// other agent took the job again (StateOffered); empty otherwise.
	Agent, LeaseID string
	// Attempt is the number of leases the job was granted.
	Attempt int
	// EndedAt is when the job was finished or withdrawn, by the Queue's
	// clock; zero before.
	EndedAt time.Time
}

// Lookup tells where a job stands; ErrUnknownJob when the zone knows no
// such job (never offered, dropped when it expired, or forgotten after it
// ended).
func (q *Queue) Lookup(ctx context.Context, zone, jobID string) (Job, error) {
	if err := checkJob(zone, jobID); err != nil {
		return Job{}, fmt.Errorf("look up a job: %w", err)
	}
	res, err := lookupScript.Run(ctx, q.Redis, zoneKeys(zone), group, jobID, durMS(q.ttl())).StringSlice()
	if err != nil {
		return Job{}, fmt.Errorf("look up job %s in zone %s: %w", jobID, zone, err)
	}
	if len(res) != 5 {
		return Job{}, fmt.Errorf("look up job %s in zone %s: %w", jobID, zone, ErrUnknownJob)
	}
	n, err := strconv.Atoi(res[3])
	if err != nil {
		return Job{}, fmt.Errorf("look up job %s in zone %s: attempt %q: %w", jobID, zone, res[3], err)
	}
	j := Job{State: State(res[0]), Agent: res[1], LeaseID: res[2], Attempt: n}
	if res[4] != "" {
		endMS, err := strconv.ParseFloat(res[4], 64)
		if err != nil {
			return Job{}, fmt.Errorf("look up job %s in zone %s: end %q: %w", jobID, zone, res[4], err)
		}
		j.EndedAt = time.UnixMilli(int64(endMS))
	}
	return j, nil
}

// Release gives back a lease its holder will not use (the agent stops, or
// may not take the job): the job is handed out again at once, to any agent
// of the zone, as a lease that ran out would be. It returns ErrLeaseLost
// when leaseID does not hold the job (any more).
func (q *Queue) Release(ctx context.Context, zone, jobID, leaseID string) error {
	if err := checkJob(zone, jobID); err != nil {
		return fmt.Errorf("release a lease: %w", err)
	}
	ok, err := releaseScript.Run(ctx, q.Redis, zoneKeys(zone)[:2], group, consumer, jobID, leaseID, durMS(q.ttl()),
		keyspace.AgentWake(), zone).Int()
	if err != nil {
		return fmt.Errorf("release the lease of job %s in zone %s: %w", jobID, zone, err)
	}
	if ok == 0 {
		return fmt.Errorf("release the lease of job %s in zone %s: %w", jobID, zone, ErrLeaseLost)
	}
	return nil
}

// TTL returns how long a lease lasts without renewal.
func (q *Queue) TTL() time.Duration { return q.ttl() }
