package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/reflexops/reflex/wire"
)

// handle runs one job the agent was offered, or refuses it: unsigned,
// altered, signed with an unknown key, for another zone, expired, naming
// an action this agent does not define or parameters it does not declare,
// already finished here (a replay), or older than one finished for its
// service (a rollback). A refusal is reported and nothing runs.
//
// A job runs only once Reflex accepted the agent's claim (its started
// report), while a loop apart from the action renews the lease; a lease
// lost meanwhile (it ran out, or Reflex refused a renewal) stops the
// action. The job is written in the ledger before its end is reported.
func (a *agent) handle(jobs context.Context, offer wire.Offer) {
	log := a.o.Log.With("job", offer.Job, "attempt", offer.Attempt)
	now := a.o.Now()
	job, err := a.o.Keys.Verify(offer.Signed)
	// The calls about a job Reflex signed carry its request id: Reflex's
	// log lines of them are found by it, as the agent's are.
	talk, requestID := a.talk, ""
	if err == nil {
		requestID = job.Event.RequestID
		talk = withRequestID(a.talk, requestID)
		log = log.With("request_id", requestID)
	}
	refuse := func(reason string, verified bool) {
		a.metrics.job(a.actionOf(job), jobRefused)
		log.Warn("job refused", "reason", reason)
		a.report(talk, offer, wire.Report{Kind: wire.ReportRefused, Error: reason, Verified: verified}, log)
	}
	switch {
	case err != nil:
		refuse(err.Error(), false)
		return
	case job.Zone != a.o.Zone:
		refuse(fmt.Sprintf("the job is for zone %q; this agent serves %q", job.Zone, a.o.Zone), true)
		return
	case !now.Before(job.ExpiresAt):
		refuse(fmt.Sprintf("the job expired at %s", job.ExpiresAt.Format(time.RFC3339)), true)
		return
	case !a.o.Actions.Has(job.Action):
		refuse(fmt.Sprintf("this agent's actions file defines no action %q", job.Action), true)
		return
	}
	if err := a.o.Actions.CheckParams(job.Action, job.Params); err != nil {
		refuse(err.Error(), true)
		return
	}
	if err := a.o.Ledger.Check(job); err != nil {
		refuse(err.Error(), true)
		return
	}
	log = log.With("delivery", job.ID, "service", job.Service, "action", job.Action)

	// The claim: nothing runs before Reflex accepted it.
	startedAt := now.UTC()
	var claim wire.Renewal
	// Tried again while the lease can last (by this machine's clock, not
	// the deadline Reflex's clock stamped).
	claimed := time.Now()
	until := claimed.Add(a.pace().leaseTTL)
	err = a.broker.callAgain(talk, until, wire.JobPath(offer.Job, wire.OpReport),
		wire.Report{Lease: offer.Lease, Kind: wire.ReportStarted, At: startedAt}, &claim)
	if err != nil {
		log.Warn("the claim on the job was not accepted; it does not run", "error", err)
		return
	}
	a.contact()
	if claim.Cancel {
		log.Info("the job was cancelled before it started")
		a.metrics.job(job.Action, jobCancelled)
		a.report(talk, offer, wire.Report{Kind: wire.ReportFinished, StartedAt: startedAt, Cancelled: true,
			ExitCode: -1, Error: "cancelled before it started"}, log)
		return
	}

	a.track(offer.Job, true)
	defer a.track(offer.Job, false)
	run, stop := context.WithCancelCause(withRequestID(jobs, requestID))
	defer stop(nil)
	stream := &outputStream{a: a, job: offer.Job, lease: offer.Lease, log: log}
	var loops sync.WaitGroup
	loops.Go(func() { a.renewals(run, stop, offer, claimed, log) })
	loops.Go(func() { stream.run(run) })

	log.Info("running")
	runner := *a.runner
	runner.Env = map[string]string{
		"REFLEX_DELIVERY": job.ID, "REFLEX_SERVICE": job.Service, "REFLEX_ZONE": job.Zone,
		"REFLEX_ACTION": job.Action, "REFLEX_RELEASE": job.Release, "REFLEX_REQUEST_ID": requestID,
	}
	runner.Delivery = job.Delivery
	runner.Stream = stream
	ran := time.Now()
	res := runner.Run(run, job.Action, job.Params)
	a.metrics.ran(job.Action, time.Since(ran))
	cause := context.Cause(run)
	stop(errJobDone)
	loops.Wait()
	stream.flush(talk)

	switch {
	case errors.Is(cause, errLeaseLost):
		log.Warn("the lease was lost while the job ran: it was stopped, and is Reflex's to run again", "error", cause)
		a.metrics.job(job.Action, jobLost)
		return
	case jobs.Err() != nil && !res.OK:
		// Stopped by the agent's shutdown: given back, to run again.
		log.Warn("stopped by the agent's shutdown; the job is given back")
		a.metrics.job(job.Action, jobGivenBack)
		a.release(offer, requestID)
		return
	}
	cancelled := errors.Is(cause, errCancelled) && !res.OK
	// Recorded before it is reported: once Reflex hears the job is over,
	// the same job can never run here again.
	if err := a.o.Ledger.Finish(job); err != nil {
		log.Error("cannot record the finished job in the ledger", "error", err)
	}
	r := wire.Report{Kind: wire.ReportFinished, StartedAt: startedAt, Succeeded: res.OK, Permanent: res.Permanent,
		Cancelled: cancelled, ExitCode: res.ExitCode, Output: res.Output}
	if res.Err != nil {
		r.Error = res.Err.Error()
	}
	if cancelled {
		r.Error = "cancelled while it ran: " + r.Error
	}
	a.report(talk, offer, r, log)
	switch {
	case res.OK:
		a.metrics.job(job.Action, jobSucceeded)
		log.Info("succeeded")
	case cancelled:
		a.metrics.job(job.Action, jobCancelled)
		log.Info("cancelled")
	default:
		a.metrics.job(job.Action, jobFailed)
		log.Warn("failed", "error", res.Err)
	}
}

// Why a running job's context ended.
var (
	errJobDone   = errors.New("the job ended")
	errCancelled = errors.New("the job was cancelled")
)

// track notes a leased job running, or no longer, for heartbeats.
func (a *agent) track(job string, running bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if running {
		a.jobs[job] = true
	} else {
		delete(a.jobs, job)
	}
}

// report sends the report on a job, again while Reflex cannot be reached,
// until talk ends.
func (a *agent) report(talk context.Context, offer wire.Offer, r wire.Report, log *slog.Logger) {
	r.Lease = offer.Lease
	if r.At.IsZero() {
		r.At = a.o.Now().UTC()
	}
	err := a.broker.callAgain(talk, time.Now().Add(reportPatience), wire.JobPath(offer.Job, wire.OpReport), r, nil)
	if err != nil {
		log.Error("report lost", "kind", r.Kind, "error", err)
		return
	}
	a.contact()
}

// renewals renews the lease of a running job every RenewEvery, apart from
// the action. It stops the job when Reflex says it was cancelled, when
// Reflex refuses the renewal (the lease is no longer the agent's), or when
// the lease may have run out: a little before a lease's length after the
// last renewal that went through was sent (by this machine's clock), since
// Reflex may give the job to another agent after that.
func (a *agent) renewals(ctx context.Context, stop context.CancelCauseFunc, offer wire.Offer, since time.Time, log *slog.Logger) {
	pace := a.pace()
	tick := time.NewTicker(pace.renewEvery)
	defer tick.Stop()
	margin := min(pace.leaseTTL/10, 2*time.Second)
	deadline := time.NewTimer(time.Until(since.Add(pace.leaseTTL - margin)))
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			stop(fmt.Errorf("%w: no renewal went through for %s", errLeaseLost, pace.leaseTTL-margin))
			return
		case <-tick.C:
		}
		var ren wire.Renewal
		sent := time.Now()
		cctx, cancel := context.WithTimeout(ctx, min(callTimeout, pace.renewEvery))
		_, err := a.broker.call(cctx, wire.JobPath(offer.Job, wire.OpRenew), wire.LeaseRef{Lease: offer.Lease}, &ren)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errLeaseLost):
			stop(err)
			return
		case err != nil:
			log.Warn("cannot renew the lease; trying again", "error", err)
		case ren.Cancel:
			log.Info("the job was cancelled: stopping it")
			stop(errCancelled)
			return
		default:
			deadline.Reset(time.Until(sent.Add(pace.leaseTTL - margin)))
			a.contact()
		}
	}
}

// outputStream sends a running job's output to Reflex as it comes, in
// chunks, at most once a second and up to a bound; the final report
// carries its own excerpt.
type outputStream struct {
	a     *agent
	job   string
	lease string
	log   *slog.Logger

	mu      sync.Mutex
	pending []byte
	sent    int64 // bytes Reflex holds
	dropped bool  // the bound was reached
	lost    bool  // Reflex no longer takes it
}

// maxStreamed bounds the output sent while a job runs.
const maxStreamed = 1 << 20

// Write keeps p to be sent; it never fails, so output never slows or
// stops an action.
func (s *outputStream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	room := maxStreamed - int(s.sent) - len(s.pending)
	if room <= 0 {
		s.dropped = true
		return len(p), nil
	}
	s.pending = append(s.pending, p[:min(len(p), room)]...)
	return len(p), nil
}

// run sends what is pending every second until ctx ends.
func (s *outputStream) run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.flush(ctx)
		}
	}
}

// flush sends what is pending, a chunk at a time.
func (s *outputStream) flush(ctx context.Context) {
	for {
		s.mu.Lock()
		if s.lost || len(s.pending) == 0 {
			s.mu.Unlock()
			return
		}
		chunk := s.pending[:min(len(s.pending), wire.MaxOutputChunk)]
		offset := s.sent
		s.mu.Unlock()
		var ack wire.OutputAck
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err := s.a.broker.call(cctx, wire.JobPath(s.job, wire.OpOutput), wire.Output{Lease: s.lease, Offset: offset, Data: chunk}, &ack)
		cancel()
		var se *statusError
		switch {
		case err == nil, errors.As(err, &se) && se.status == 416:
			s.mu.Lock()
			// Reflex holds ack.Length bytes: drop what it has.
			took := ack.Length - s.sent
			switch {
			case took >= 0 && took <= int64(len(s.pending)):
				s.pending = s.pending[took:]
			default:
				s.pending = s.pending[:0] // out of step: the report carries the output
			}
			s.sent = ack.Length
			s.mu.Unlock()
		case errors.Is(err, errLeaseLost):
			s.mu.Lock()
			s.lost = true
			s.mu.Unlock()
			return
		default:
			s.log.Debug("cannot send output; it is sent later", "error", err)
			return
		}
	}
}
