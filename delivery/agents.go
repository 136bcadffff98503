package delivery

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/internal/keyspace"
	"github.com/reflexops/reflex/leases"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// What agents do through the agent API, decided here: each call names the
// agent by its credential (an API key of kind agent, bound to one zone)
// and the job by its lease, and nothing else an agent says picks an
// agent, a zone or a delivery.

// ErrNotYours is returned when an agent acts on a job it holds no lease
// on: another agent's, or no job of its zone.
var ErrNotYours = errors.New("no lease of this agent holds the job")

// errTakeDenied is wrapped when the policies do not let an agent take a
// job (action take): Take passes the job over.
var errTakeDenied = errors.New("the policies do not let this agent take the job")

// ErrNotAgent is returned when a caller of the agent API is not an agent.
var ErrNotAgent = errors.New("only an agent's API key (kind agent) may use the agent API")

// ErrBadReport is wrapped when a report cannot be applied as it is.
var ErrBadReport = errors.New("invalid report")

// ErrOutputGap is wrapped when a chunk of output would leave a gap: the
// agent sends again from the length Reflex holds.
var ErrOutputGap = errors.New("the output chunk does not follow what Reflex holds")

// MaxLiveOutput bounds the output Reflex keeps of a running attempt; the
// agent's final report carries its own excerpt.
const MaxLiveOutput = 1 << 20

// MaxReportText bounds the output and the error a report records: the
// record keeps them for each attempt.
const MaxReportText = 64 << 10

// truncate cuts s to at most n bytes, on a rune boundary, and says so.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "\n… (cut: the report held more)"
	return strings.ToValidUTF8(s[:n-len(more)], "") + more
}

// liveOutputTTL is how long a running attempt's output is kept.
const liveOutputTTL = 24 * time.Hour

func checkAgent(caller *auth.Caller) error {
	if caller == nil || caller.Kind != auth.KindAgent || caller.Zone == "" {
		return ErrNotAgent
	}
	return nil
}

// Take leases the next job of the agent's zone to it, waiting up to wait
// for one, and returns nil when none came. A job the policies do not let
// it take is given back at once for another agent, and passed over for
// the rest of the wait, so that it never keeps this agent from the jobs it
// may take; a job whose agents stopped before finishing it as many times
// as its trigger allows is ended as lost. Either way the wait goes on.
func (d *Dispatcher) Take(ctx context.Context, caller *auth.Caller, wait time.Duration) (*leases.Lease, error) {
	if err := checkAgent(caller); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	var denied []string
	for {
		l, err := d.Leases.Next(ctx, caller.Zone, caller.Name, time.Until(deadline), denied...)
		if l == nil || err != nil {
			return nil, err
		}
		keep, err := d.admit(ctx, caller, l)
		switch {
		case errors.Is(err, errTakeDenied):
			denied = append(denied, l.JobID)
		case err != nil:
			return nil, err
		case keep && ctx.Err() != nil:
			// The agent went away while the job was leased to it.
			d.giveBack(ctx, l)
			return nil, ctx.Err()
		case keep:
			return l, nil
		}
		if time.Until(deadline) <= 0 {
			return nil, nil
		}
	}
}

// admit decides whether an agent may run the job just leased to it.
func (d *Dispatcher) admit(ctx context.Context, caller *auth.Caller, l *leases.Lease) (bool, error) {
	obj := state.NewObject(state.TypeDeploy, map[string]any{"name": l.JobID, "zone": l.Zone})
	id, n, isDelivery := ParseJobKey(l.JobID)
	if isDelivery {
		o, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
		switch {
		case err == nil:
			obj = o
		case !errors.Is(err, state.ErrNotFound):
			d.giveBack(ctx, l)
			return false, err
		}
	}
	authz := d.Authz
	if authz == nil {
		authz = policies.MasterOnly{}
	}
	dec := authz.Authorize(ctx, policies.Request{Caller: caller, Action: policies.ActionTake, Type: state.TypeDeploy, Name: obj.Name, Object: obj})
	if !dec.Allowed {
		d.giveBack(ctx, l)
		d.Log.Info("an agent may not take a job; given back for another", "agent", caller.Name, "zone", caller.Zone, "job", l.JobID, "reason", dec.Reason)
		return false, fmt.Errorf("%w %s: %s", errTakeDenied, l.JobID, dec.Reason)
	}
	if l.Attempt == 1 || !isDelivery || obj.Version == 0 {
		return true, nil
	}
	return d.admitAgain(ctx, l, id, n)
}

// admitAgain decides on a job leased again after its lease ran out: when
// its delivery has had as many attempts as its trigger allows (its agents
// stopped before finishing each), it is ended as lost instead.
func (d *Dispatcher) admitAgain(ctx context.Context, l *leases.Lease, id string, n int) (bool, error) {
	unlock, err := d.lock(ctx, id)
	if err != nil {
		d.giveBack(ctx, l)
		return false, err
	}
	defer unlock()
	cur, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
	if err != nil {
		d.giveBack(ctx, l)
		return false, err
	}
	rec, err := recordOf(cur)
	if err != nil {
		d.giveBack(ctx, l)
		return false, err
	}
	q, err := d.job(ctx, id)
	if err != nil || q.Offers != n || len(rec.Attempts) < max(q.MaxAttempts, 1) || rec.Status.Ended() {
		return true, nil
	}
	if err := d.Leases.Finish(context.WithoutCancel(ctx), l.Zone, l.JobID, l.LeaseID); err != nil {
		return false, err
	}
	reason := fmt.Sprintf("its agents stopped before finishing it %d times, as many attempts as its trigger allows", len(rec.Attempts))
	return false, d.lose(ctx, cur, rec, reason)
}

// giveBack returns a lease the agent will not use, for another agent.
func (d *Dispatcher) giveBack(ctx context.Context, l *leases.Lease) {
	if err := d.Leases.Release(context.WithoutCancel(ctx), l.Zone, l.JobID, l.LeaseID); err != nil {
		d.Log.Warn("cannot give a lease back; it runs out instead", "job", l.JobID, "error", err)
	}
}

// holding checks that caller holds the lease lease on job: leased, or,
// when ended is set, finished under that lease (a report sent again) or
// run out with no other agent holding the job since.
func (d *Dispatcher) holding(ctx context.Context, caller *auth.Caller, job, lease string, ended bool) (leases.Job, error) {
	if err := checkAgent(caller); err != nil {
		return leases.Job{}, err
	}
	j, err := d.Leases.Lookup(ctx, caller.Zone, job)
	if errors.Is(err, leases.ErrUnknownJob) || errors.Is(err, leases.ErrInvalidName) {
		return leases.Job{}, fmt.Errorf("job %s: %w", job, ErrNotYours)
	}
	if err != nil {
		return leases.Job{}, err
	}
	same := lease != "" && subtle.ConstantTimeCompare([]byte(j.LeaseID), []byte(lease)) == 1
	switch {
	case j.Agent != "" && j.Agent != caller.Name:
		return leases.Job{}, fmt.Errorf("job %s: %w", job, ErrNotYours)
	case same && j.State == leases.StateLeased:
		return j, nil
	case same && ended && (j.State == leases.StateFinished || j.State == leases.StateOffered):
		// An end sent again, or one that comes after the lease ran out
		// while no other agent took the job: the work is done.
		return j, nil
	}
	return leases.Job{}, fmt.Errorf("job %s: %w", job, leases.ErrLeaseLost)
}

// Renew extends the agent's lease on job, and tells whether the job was
// cancelled meanwhile.
func (d *Dispatcher) Renew(ctx context.Context, caller *auth.Caller, job, lease string) (leases.Renewal, error) {
	if _, err := d.holding(ctx, caller, job, lease, false); err != nil {
		return leases.Renewal{}, err
	}
	return d.Leases.Renew(ctx, caller.Zone, job, lease)
}

// Release gives back a job the agent will not run (it stops): another
// agent of the zone takes it at once.
func (d *Dispatcher) Release(ctx context.Context, caller *auth.Caller, job, lease string) error {
	if _, err := d.holding(ctx, caller, job, lease, false); err != nil {
		return err
	}
	return d.Leases.Release(ctx, caller.Zone, job, lease)
}

// Report accepts an agent's report on the job it holds, and queues it to
// be applied. A started report is the agent's claim: it renews the lease,
// and the answer says whether the job was cancelled meanwhile (the agent
// then runs nothing). A finished or refused report ends the lease; sent
// again under the same lease, it is accepted again and applied once.
func (d *Dispatcher) Report(ctx context.Context, caller *auth.Caller, job string, r wire.Report) (leases.Renewal, error) {
	switch r.Kind {
	case wire.ReportStarted, wire.ReportFinished, wire.ReportRefused:
	default:
		return leases.Renewal{}, fmt.Errorf("%w: kind %q is not started, finished or refused", ErrBadReport, r.Kind)
	}
	started := r.Kind == wire.ReportStarted
	j, err := d.holding(ctx, caller, job, r.Lease, !started)
	if err != nil {
		return leases.Renewal{}, err
	}
	var ren leases.Renewal
	if started {
		if ren, err = d.Leases.Renew(ctx, caller.Zone, job, r.Lease); err != nil {
			return leases.Renewal{}, err
		}
	} else if err := d.Leases.Finish(ctx, caller.Zone, job, r.Lease); err != nil {
		return leases.Renewal{}, err
	}
	if r.At.IsZero() {
		r.At = d.now()
	}
	r.Output, r.Error = truncate(r.Output, MaxReportText), truncate(r.Error, MaxReportText)
	task, err := reportTask(AgentReport{Report: r, Job: job, Attempt: j.Attempt, Agent: caller.Name, Zone: caller.Zone})
	if err != nil {
		return leases.Renewal{}, err
	}
	if _, err := d.Client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return leases.Renewal{}, fmt.Errorf("queue the report on %s: %w", job, err)
	}
	return ren, nil
}

// appendOutput appends a chunk at its offset to an attempt's output, kept
// up to a bound and counted whole, so the agent can go on from the length
// it is answered.
//
// KEYS: output, output length. ARGV: offset, data, bound, TTL (s).
// Returns the length held, or -1 - length when the chunk leaves a gap.
var appendOutput = redis.NewScript(`
local total = tonumber(redis.call("GET", KEYS[2]) or "0")
local off = tonumber(ARGV[1])
if off > total then return -1 - total end
local data = ARGV[2]
local skip = total - off
if skip >= #data then return total end
data = string.sub(data, skip + 1)
local room = tonumber(ARGV[3]) - redis.call("STRLEN", KEYS[1])
if room > 0 then redis.call("APPEND", KEYS[1], string.sub(data, 1, room)) end
total = total + #data
redis.call("SET", KEYS[2], total, "EX", ARGV[4])
redis.call("EXPIRE", KEYS[1], ARGV[4])
return total
`)

// Output adds a chunk of the running job's output and returns the length
// Reflex holds; a chunk that would leave a gap is refused with
// ErrOutputGap and the length, from which the agent sends again.
func (d *Dispatcher) Output(ctx context.Context, caller *auth.Caller, job string, o wire.Output) (int64, error) {
	if o.Offset < 0 || len(o.Data) > wire.MaxOutputChunk {
		return 0, fmt.Errorf("%w: a chunk starts at an offset of 0 or more and holds at most %d bytes", ErrBadReport, wire.MaxOutputChunk)
	}
	j, err := d.holding(ctx, caller, job, o.Lease, false)
	if err != nil {
		return 0, err
	}
	run := job + "#" + strconv.Itoa(j.Attempt)
	n, err := appendOutput.Run(ctx, d.Redis, []string{keyspace.DeliveryOutput(run), keyspace.DeliveryOutputLength(run)},
		o.Offset, o.Data, MaxLiveOutput, int(liveOutputTTL.Seconds())).Int64()
	if err != nil {
		return 0, fmt.Errorf("keep the output of %s: %w", job, err)
	}
	if n < 0 {
		return -1 - n, fmt.Errorf("%w: it starts at %d, and Reflex holds %d bytes", ErrOutputGap, o.Offset, -1-n)
	}
	return n, nil
}

// LiveOutput returns the output of the last attempt of the delivery cur
// records: as its agent sends it while it runs (up to MaxLiveOutput), else
// as its last report gave it; and how many bytes the agent sent in all.
func (d *Dispatcher) LiveOutput(ctx context.Context, cur *state.Object) (string, int64, error) {
	id := cur.Name
	rec, err := recordOf(cur)
	if err != nil {
		return "", 0, err
	}
	if len(rec.Attempts) == 0 {
		return "", 0, nil
	}
	last := rec.Attempts[len(rec.Attempts)-1]
	vals, err := d.Redis.MGet(ctx, keyspace.DeliveryOutput(last.Run), keyspace.DeliveryOutputLength(last.Run)).Result()
	if err != nil {
		return "", 0, fmt.Errorf("read the output of %s: %w", id, err)
	}
	out, _ := vals[0].(string)
	total, _ := strconv.ParseInt(fmt.Sprint(vals[1]), 10, 64)
	if last.Status != attemptRunning && len(last.Output) >= len(out) {
		return last.Output, max(total, int64(len(last.Output))), nil
	}
	return out, max(total, int64(len(out))), nil
}
