package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/leases"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/triggers"
	"github.com/reflexops/reflex/wire"
)

// jobRetention is how long a delivery's job is kept for re-runs.
const jobRetention = 30 * 24 * time.Hour

// acquire takes a service's lock for a delivery, or queues the delivery
// behind the holder. With keep-latest, the deliveries already waiting are
// dropped (and returned, to be marked superseded). A service whose lock
// is taken is added to the index of held locks.
//
// KEYS: lock, pending, held locks index. ARGV: id, keep latest ("1"),
// service.
// Returns {"run"} or {"wait", dropped ids...}.
var acquire = redis.NewScript(`
local holder = redis.call("GET", KEYS[1])
if not holder or holder == ARGV[1] then
  redis.call("SET", KEYS[1], ARGV[1])
  redis.call("SADD", KEYS[3], ARGV[3])
  return {"run"}
end
local out = {"wait"}
if ARGV[2] == "1" then
  for _, id in ipairs(redis.call("LRANGE", KEYS[2], 0, -1)) do
    if id ~= ARGV[1] then table.insert(out, id) end
  end
  redis.call("DEL", KEYS[2])
else
  redis.call("LREM", KEYS[2], 0, ARGV[1])
end
redis.call("RPUSH", KEYS[2], ARGV[1])
return out
`)

// nextSequence numbers a service's next job: one more than the last, and
// at least the current time in microseconds, so numbers keep growing even
// when Redis lost the counter (an embedded Redis restarted, a restore from
// an older backup) and agents remember higher ones.
//
// KEYS: the service's sequence. ARGV: now (µs since the epoch).
var nextSequence = redis.NewScript(`
local n = tonumber(redis.call("GET", KEYS[1]) or "0") + 1
local floor = tonumber(ARGV[1])
if floor > n then n = floor end
redis.call("SET", KEYS[1], string.format("%d", n))
return n
`)

// release gives up a service's lock held by a delivery and hands it to the
// next waiting one, whose id it returns ("" when none waits). A service
// left free leaves the index of held locks.
//
// KEYS: lock, pending, held locks index. ARGV: id, service.
var release = redis.NewScript(`
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  redis.call("LREM", KEYS[2], 0, ARGV[1])
  return ""
end
local nxt = redis.call("LPOP", KEYS[2])
if nxt then
  redis.call("SET", KEYS[1], nxt)
  return nxt
end
redis.call("DEL", KEYS[1])
redis.call("SREM", KEYS[3], ARGV[2])
return ""
`)

// queued is a job as kept between dispatches, with its trigger's limits
// and the jobs offered for it.
type queued struct {
	Job         wire.Job      `json:"job"`
	MaxAttempts int           `json:"max_attempts"`
	Expires     time.Duration `json:"expires"`
	// Offers counts the signed jobs offered to the zone's agents: one per
	// dispatch, automatic retry or operator's run. The last is offered as
	// JobKey(Job.ID, Offers), and expires at ExpiresAt.
	Offers    int       `json:"offers,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// offered is the key of the job last offered for the delivery.
func (q *queued) offered() string { return JobKey(q.Job.ID, q.Offers) }

// JobKey is the key of the n-th job offered for a delivery, under which
// the zone's agents lease it: the delivery id and n.
func JobKey(id string, n int) string { return id + "." + strconv.Itoa(n) }

// ParseJobKey returns the delivery and number of a job's key; ok is false
// for a key JobKey did not make.
func ParseJobKey(key string) (id string, n int, ok bool) {
	i := strings.LastIndexByte(key, '.')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(key[i+1:])
	if err != nil || n < 1 || strconv.Itoa(n) != key[i+1:] {
		return "", 0, false
	}
	return key[:i], n, true
}

// ErrNoZone is wrapped when a delivery's service names no zone: no agent
// could run it, and retrying changes nothing.
var ErrNoZone = errors.New("the service has no zone: nothing can run its deliveries")

// Zone returns the zone whose agents run a service's deliveries, or an
// error wrapping ErrNoZone.
func Zone(service *state.Object) (string, error) {
	zone, _ := service.Content["zone"].(string)
	if zone == "" {
		return "", fmt.Errorf("service %s: %w", service.Name, ErrNoZone)
	}
	return zone, nil
}

// ErrNoSigner is returned when deliveries are asked for but no signing key
// is configured.
var ErrNoSigner = errors.New("no delivery signing key is configured (delivery.signing in the configuration)")

// Dispatcher queues deliveries, one at a time per service, offers their
// signed jobs to the agents of their zone, and applies agents' reports.
type Dispatcher struct {
	Store *state.Store
	Redis redis.UniversalClient
	// Leases offers jobs to the agents of each zone and leases each to one
	// agent at a time.
	Leases *leases.Queue
	// Client queues Reflex's own delivery tasks: agents' reports and
	// retries after a failed attempt.
	Client *asynq.Client
	// Authz decides which agents may take which jobs (action take).
	Authz policies.Authorizer
	// Signer signs jobs; nil disables deliveries.
	Signer *wire.Signer
	// Reporters tell providers how deliveries go, by connector name.
	Reporters map[string]StatusReporter
	Log       *slog.Logger
	// ReapAfter is how long a delivery may look lost (its job gone while
	// its record says it runs) before the reaper ends it. Default 2m.
	ReapAfter time.Duration
	// Retention bounds how many delivery records are kept.
	Retention Retention
	// Now is the dispatcher's clock. Default time.Now.
	Now func() time.Time
	// Metrics counts the deliveries that end; nil counts nothing.
	Metrics *Metrics
}

// writer is who delivery records are written by.
const writer = "reflex:delivery"

// Exists reports whether a delivery has a record already.
func (d *Dispatcher) Exists(ctx context.Context, id string) (bool, error) {
	_, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
	if errors.Is(err, state.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Payload returns an event's provider document. It is called only when a
// delivery forwards the document, so an event without such a trigger never
// reads it.
type Payload func(ctx context.Context) ([]byte, error)

// PayloadOf is the Payload of a document at hand.
func PayloadOf(doc []byte) Payload {
	return func(context.Context) ([]byte, error) { return doc, nil }
}

// Deliver records and dispatches the delivery a trigger match asks for;
// payload gives the event's provider document, which the job carries when
// the trigger forwards it. It is idempotent: the delivery id comes from the
// trigger and the event, and a delivery already past dispatch is left
// alone.
func (d *Dispatcher) Deliver(ctx context.Context, ev *event.Event, m triggers.Match, payload Payload) (string, error) {
	if d.Signer == nil {
		return "", ErrNoSigner
	}
	zone, err := Zone(m.Service)
	if err != nil {
		return "", err
	}
	t := m.Trigger
	job := wire.Job{
		ID: wire.ID(t.Name, ev.Source, ev.ID), Zone: zone, Service: m.Service.Name, Action: t.Action,
		Params: m.Params, Trigger: t.Name, Release: m.Release,
		Event: wire.EventRef{ID: ev.ID, Source: ev.Source, Connector: ev.Connector, Kind: string(ev.Kind), Commit: ev.Commit, RequestID: ev.RequestID},
	}
	if ev.Repository != nil {
		job.Event.Repository = ev.Repository.Name
	}
	if a := ev.Artifact; a != nil {
		job.Event.Image, job.Event.Digest = a.Reference, a.Digest
		if job.Event.Image == "" && a.Repository != "" && a.Tag != "" {
			job.Event.Image = a.Repository + ":" + a.Tag
		}
	}
	if t.Forward {
		doc, err := payload(ctx)
		switch {
		case errors.Is(err, state.ErrNotFound):
			return "", fmt.Errorf("%w: trigger %s forwards the delivery, but its payload is no longer stored", state.ErrInvalid, t.Name)
		case err != nil:
			return "", fmt.Errorf("read the payload trigger %s forwards: %w", t.Name, err)
		case len(doc) > wire.MaxForwarded:
			return "", fmt.Errorf("%w: trigger %s forwards the delivery, but its payload (%d bytes) is over the %d a job carries", state.ErrInvalid, t.Name, len(doc), wire.MaxForwarded)
		}
		job.Delivery = &wire.Forwarded{Connector: ev.Connector, Type: ev.Type, ID: ev.ID, Payload: doc}
	}
	q := queued{Job: job, MaxAttempts: t.MaxAttempts, Expires: t.Expires}
	rec, err := d.Store.Object(ctx, state.TypeDeploy, job.ID, 0)
	switch {
	case errors.Is(err, state.ErrNotFound):
		if err := d.record(ctx, &q); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	case statusOf(rec) != StatusWaiting && statusOf(rec) != StatusQueued:
		return job.ID, nil // dispatched and past: never twice
	default:
		// Dispatched before (the event is processed again): go on from
		// the job as it was kept, with the offers already made.
		kept, err := d.job(ctx, job.ID)
		if err != nil {
			return "", err
		}
		q = *kept
	}
	return job.ID, d.dispatch(ctx, &q, t.KeepLatest)
}

// keep stores a delivery's job for the dispatches to come.
func (d *Dispatcher) keep(ctx context.Context, q *queued) error {
	raw, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", q.Job.ID, err)
	}
	if err := d.Redis.Set(ctx, keyspace.DeliveryJob(q.Job.ID), raw, jobRetention).Err(); err != nil {
		return fmt.Errorf("keep job %s: %w", q.Job.ID, err)
	}
	return nil
}

// record creates the deployment record and keeps the job for dispatch.
func (d *Dispatcher) record(ctx context.Context, q *queued) error {
	if err := d.keep(ctx, q); err != nil {
		return err
	}
	j := q.Job
	rec := &Record{
		Name: j.ID, Service: j.Service, Zone: j.Zone, Trigger: j.Trigger, Action: j.Action,
		Params: maps.Clone(j.Params), Release: j.Release, Status: StatusQueued, QueuedAt: d.nowStamp(),
		Event: recordEvent(j.Event),
	}
	content, err := rec.content(nil)
	if err != nil {
		return err
	}
	if name, ref := d.openReport(ctx, j); ref != nil {
		content[name] = ref
	}
	_, err = d.Store.Create(ctx, state.NewObject(state.TypeDeploy, content), writer)
	if errors.Is(err, state.ErrExists) {
		return nil
	}
	return err
}

// dispatch offers a delivery to its zone's agents if its service is free,
// or queues it behind the delivery that holds it.
func (d *Dispatcher) dispatch(ctx context.Context, q *queued, keepLatest bool) error {
	keep := "0"
	if keepLatest {
		keep = "1"
	}
	keys := []string{keyspace.DeliveryLock(q.Job.Service), keyspace.DeliveryPending(q.Job.Service), keyspace.DeliveryLocks()}
	res, err := acquire.Run(ctx, d.Redis, keys, q.Job.ID, keep, q.Job.Service).StringSlice()
	if err != nil {
		return fmt.Errorf("dispatch %s: %w", q.Job.ID, err)
	}
	for _, dropped := range res[1:] {
		d.setStatus(ctx, dropped, moveSupersede, "a newer delivery for "+q.Job.Service+" replaced it while it waited")
	}
	if res[0] == "wait" {
		d.setStatus(ctx, q.Job.ID, moveWait, "")
		return nil
	}
	return d.enqueue(ctx, q)
}

// enqueue signs a job afresh and offers it to its zone's agents. The
// service is marked deploying, and its release's next version set, first:
// an agent may run a short action to its end before any report of it is
// applied, and the live state must say so before it starts.
//
// Each call offers the delivery's next job (JobKey(id, Offers+1)), and
// records that it did after the offer: a call that fails in between is
// made again with the same key, and an offer of a key the zone knows
// changes nothing, so a delivery never has two jobs offered at once.
func (d *Dispatcher) enqueue(ctx context.Context, q *queued) error {
	j := q.Job
	if err := d.mark(ctx, j.Service, true, ""); err != nil {
		return err
	}
	if j.Release != "" {
		if err := d.moveRelease(ctx, j.Service, "next", releaseOf(j.Release, j.Event), d.now()); err != nil {
			return err
		}
	}
	seq, err := nextSequence.Run(ctx, d.Redis, []string{keyspace.DeliverySequence(j.Service)}, d.now().UnixMicro()).Uint64()
	if err != nil {
		return fmt.Errorf("number delivery %s: %w", j.ID, err)
	}
	j.Sequence = seq
	j.IssuedAt = d.now()
	j.ExpiresAt = j.IssuedAt.Add(q.Expires)
	payload, err := d.Signer.Sign(&j)
	if err != nil {
		return err
	}
	next := *q
	next.Offers++
	next.ExpiresAt = j.ExpiresAt
	if err := d.Leases.Offer(ctx, j.Zone, next.offered(), payload, j.ExpiresAt); err != nil {
		return fmt.Errorf("offer delivery %s: %w", j.ID, err)
	}
	if err := d.keep(ctx, &next); err != nil {
		return err
	}
	*q = next
	d.setStatus(ctx, j.ID, moveQueue, "")
	return nil
}

// next releases a service's lock held by a delivery and dispatches the
// delivery waiting behind it, if any.
func (d *Dispatcher) next(ctx context.Context, service, id string) error {
	keys := []string{keyspace.DeliveryLock(service), keyspace.DeliveryPending(service), keyspace.DeliveryLocks()}
	nxt, err := release.Run(ctx, d.Redis, keys, id, service).Text()
	if err != nil {
		return fmt.Errorf("release %s: %w", service, err)
	}
	if nxt == "" {
		return nil
	}
	q, err := d.job(ctx, nxt)
	if err != nil {
		return err
	}
	return d.enqueue(ctx, q)
}

func (d *Dispatcher) job(ctx context.Context, id string) (*queued, error) {
	raw, err := d.Redis.Get(ctx, keyspace.DeliveryJob(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("delivery %s: its job is no longer kept: %w", id, state.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read job %s: %w", id, err)
	}
	var q queued
	if err := json.Unmarshal(raw, &q); err != nil {
		return nil, fmt.Errorf("decode job %s: %w", id, err)
	}
	return &q, nil
}

// setStatus makes a move on a deployment record, with the reason for it
// when one is given, only from one of the statuses the move starts from:
// a report that landed first (an agent fast enough to start, or finish,
// before the dispatcher records that it queued the job) is never
// overwritten. Failures are logged: the record follows the delivery, not
// the reverse.
func (d *Dispatcher) setStatus(ctx context.Context, id string, m move, reason string) {
	_, err := d.update(ctx, id, func(r *Record) error {
		if !m.allows(r.Status) {
			return state.ErrNoChange
		}
		r.Status = m.to
		if reason != "" {
			r.Reason = reason
		}
		if m.finishes {
			r.FinishedAt = d.nowStamp()
		}
		return nil
	})
	if err != nil {
		d.Log.Warn("cannot update the deployment record", "delivery", id, "status", m.to, "error", err)
	}
}

// now returns the dispatcher's current time.
func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

// nowStamp returns the current time as records store it.
func (d *Dispatcher) nowStamp() string { return stamp(d.now()) }
