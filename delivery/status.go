package delivery

import (
	"slices"

	"github.com/reflexops/reflex/state"
)

// Status is where a delivery stands, as its deployment record says.
type Status string

// The statuses of a delivery.
const (
	// StatusWaiting: queued behind another delivery of its service.
	StatusWaiting Status = "waiting"
	// StatusQueued: offered to its zone's agents, not yet started by one.
	StatusQueued Status = "queued"
	// StatusRunning: an agent runs it.
	StatusRunning Status = "running"
	// StatusRetrying: an attempt failed and another will be offered after
	// a delay.
	StatusRetrying Status = "retrying"
	// StatusSucceeded: an attempt succeeded.
	StatusSucceeded Status = "succeeded"
	// StatusFailed: the last attempt failed, or the delivery was lost.
	StatusFailed Status = "failed"
	// StatusRefused: an agent would not run it (signature, zone, age or
	// action).
	StatusRefused Status = "refused"
	// StatusCancelled: an operator cancelled it, before it started or
	// while it ran.
	StatusCancelled Status = "cancelled"
	// StatusSuperseded: a newer delivery of its service replaced it while
	// it waited (keep-latest triggers).
	StatusSuperseded Status = "superseded"
)

// Ended reports whether a status is final: nothing moves the delivery on
// but an operator running it again.
func (s Status) Ended() bool {
	switch s {
	case StatusSucceeded, StatusFailed, StatusRefused, StatusCancelled, StatusSuperseded:
		return true
	}
	return false
}

// move is a change of status and what caused it: the statuses it may
// start from. A move from any other status is not applied, so a change
// that lands late (a dispatcher recording "queued" after a fast agent
// already reported the end) never takes a record back.
type move struct {
	to   Status
	from []Status
	// finishes is set on moves that end a delivery's run: they record
	// when.
	finishes bool
}

// The moves the dispatcher makes. Agents' reports are applied by
// HandleReport whatever the record's status, since the agent is the
// authority on what ran.
var (
	// moveQueue offers a dispatched delivery's job to its zone's agents:
	// its first, or the next after a failed attempt.
	moveQueue = move{to: StatusQueued, from: []Status{StatusQueued, StatusWaiting, StatusRetrying}}
	// moveWait holds a delivery behind the one running for its service.
	moveWait = move{to: StatusWaiting, from: []Status{StatusQueued, StatusWaiting}}
	// moveSupersede drops a waiting delivery for a newer one.
	moveSupersede = move{to: StatusSuperseded, from: []Status{StatusQueued, StatusWaiting}}
	// moveCancel is an operator's cancellation before the start, or
	// between attempts.
	moveCancel = move{to: StatusCancelled, from: []Status{StatusWaiting, StatusQueued, StatusRetrying}, finishes: true}
	// moveRunAgain is an operator's retry of a delivery that did not
	// succeed.
	moveRunAgain = move{to: StatusQueued, from: []Status{StatusFailed, StatusRefused, StatusCancelled, StatusSuperseded}}
	// moveLose ends a delivery whose job is gone while it should run.
	moveLose = move{to: StatusFailed, from: []Status{StatusQueued, StatusRunning, StatusRetrying}, finishes: true}
)

// allows reports whether the move may start from status from.
func (m move) allows(from Status) bool { return slices.Contains(m.from, from) }

// only narrows a move to start from one status: the one a caller read
// and decided on, so a record that changed meanwhile is left alone.
func (m move) only(from Status) move {
	if !m.allows(from) {
		return move{to: m.to, finishes: m.finishes}
	}
	return move{to: m.to, from: []Status{from}, finishes: m.finishes}
}

// attemptStatus is where one attempt of a delivery stands.
type attemptStatus string

// The statuses of an attempt.
const (
	attemptRunning     attemptStatus = "running"
	attemptSucceeded   attemptStatus = "succeeded"
	attemptFailed      attemptStatus = "failed"
	attemptInterrupted attemptStatus = "interrupted"
)

// statusOf returns a deployment record's status.
func statusOf(rec *state.Object) Status {
	s, _ := rec.Content["status"].(string)
	return Status(s)
}
