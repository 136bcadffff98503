package wire

import "time"

// Report kinds.
const (
	// ReportStarted says an attempt started.
	ReportStarted = "started"
	// ReportFinished says an attempt ended, with its outcome.
	ReportFinished = "finished"
	// ReportRefused says the agent refused the job and ran nothing.
	ReportRefused = "refused"
)

// Report is what an agent tells Reflex about a job.
type Report struct {
	// ID is the delivery id ("" when a refused job could not be read).
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Agent string `json:"agent"`
	Zone  string `json:"zone"`
	// TaskID is the queue's id of the job, for refusals of unreadable jobs.
	TaskID string `json:"task_id,omitempty"`
	// Verified is true when the refused job's signature checked (it was
	// refused for its zone, age or action).
	Verified bool `json:"verified,omitempty"`
	// Run identifies one attempt: its started and finished reports carry
	// the same run.
	Run string `json:"run,omitempty"`
	// StartedAt is when a finished attempt started.
	StartedAt time.Time `json:"started_at,omitzero"`
	// Succeeded is set on a finished report.
	Succeeded bool `json:"succeeded,omitempty"`
	// Final is true when no further attempt will follow.
	Final    bool      `json:"final,omitempty"`
	ExitCode int       `json:"exit_code,omitempty"`
	Output   string    `json:"output,omitempty"`
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
}
