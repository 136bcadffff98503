package wire

import "time"

// Report kinds.
const (
	// ReportStarted says an attempt is about to start. It is also the
	// agent's claim on the job: an agent runs nothing until Reflex has
	// accepted it.
	ReportStarted = "started"
	// ReportFinished says an attempt ended, with its outcome.
	ReportFinished = "finished"
	// ReportRefused says the agent refused the job and ran nothing.
	ReportRefused = "refused"
)

// Report is what an agent tells Reflex about the job it holds a lease on.
// Reflex takes who sent it from the agent's credential and which job it
// is about from the lease; nothing in a report can name another agent,
// zone or delivery.
type Report struct {
	// Lease is the lease id the job was offered with.
	Lease string `json:"lease"`
	Kind  string `json:"kind"`
	// Verified is true when a refused job's signature checked (it was
	// refused for its zone, age, action, parameters or the ledger).
	Verified bool `json:"verified,omitempty"`
	// StartedAt is when a finished attempt started.
	StartedAt time.Time `json:"started_at,omitzero"`
	// Succeeded is set on a finished report whose action succeeded.
	Succeeded bool `json:"succeeded,omitempty"`
	// Permanent marks a failure another attempt cannot fix (an undefined
	// variable in the agent's own actions file, say).
	Permanent bool `json:"permanent,omitempty"`
	// Cancelled marks an attempt stopped because Reflex cancelled the job.
	Cancelled bool   `json:"cancelled,omitempty"`
	ExitCode  int    `json:"exit_code,omitempty"`
	Output    string `json:"output,omitempty"`
	Error     string `json:"error,omitempty"`
	// At is when it happened, by the agent's clock.
	At time.Time `json:"at"`
}
