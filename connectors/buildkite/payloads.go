package buildkite

import (
	"time"

	"github.com/reflexops/reflex/connectors/convert"
)

// The parts of Buildkite's payloads the connector reads, and nothing else.
// Every pipeline event has the same top level: event, and the objects it
// concerns. The build and job objects are those of the REST API
// (https://buildkite.com/docs/apis/rest-api/builds), a build without its
// jobs; the sub-keys read here follow that reference.
type payload struct {
	Event    string    `json:"event"`
	Build    *build    `json:"build"`
	Job      *job      `json:"job"`
	Pipeline *pipeline `json:"pipeline"`
}

type build struct {
	ID         string    `json:"id"`
	Number     int       `json:"number"`
	State      string    `json:"state"`
	Blocked    bool      `json:"blocked"`
	WebURL     string    `json:"web_url"`
	Commit     string    `json:"commit"`
	Branch     string    `json:"branch"`
	Tag        string    `json:"tag"`
	Source     string    `json:"source"`
	Author     *person   `json:"author"`
	Creator    *person   `json:"creator"`
	CreatedAt  timestamp `json:"created_at"`
	StartedAt  timestamp `json:"started_at"`
	FinishedAt timestamp `json:"finished_at"`
}

// person is a build's author (the commit's, for a build from a webhook)
// or creator (who started it in the UI or through the API).
type person struct {
	Username string `json:"username"`
	Name     string `json:"name"`
}

type job struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Name         string    `json:"name"`
	Label        string    `json:"label"`
	StepKey      string    `json:"step_key"`
	State        string    `json:"state"`
	WebURL       string    `json:"web_url"`
	SoftFailed   bool      `json:"soft_failed"`
	ExitStatus   *int      `json:"exit_status"`
	RetriesCount *int      `json:"retries_count"`
	ScheduledAt  timestamp `json:"scheduled_at"`
	StartedAt    timestamp `json:"started_at"`
	FinishedAt   timestamp `json:"finished_at"`
}

type pipeline struct {
	Slug       string `json:"slug"`
	Name       string `json:"name"`
	Repository string `json:"repository"`
}

// timestamp is an ISO 8601 time of Buildkite's. One that is absent, null
// or in no form it reads is left out rather than refused: a time is
// descriptive, and the event is no less true without it.
type timestamp struct{ t time.Time }

// UnmarshalJSON reads an RFC 3339 string; anything else leaves the time
// unset.
func (ts *timestamp) UnmarshalJSON(b []byte) error {
	ts.t = time.Time{}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return nil
	}
	if t, err := time.Parse(time.RFC3339Nano, string(b[1:len(b)-1])); err == nil {
		ts.t = t
	}
	return nil
}

// ptr returns the time in UTC, or nil when it is unset.
func (ts timestamp) ptr() *time.Time { return convert.UTC(&ts.t) }

// first returns the first of times that is set, in UTC, or nil.
func first(times ...timestamp) *time.Time {
	for _, t := range times {
		if p := t.ptr(); p != nil {
			return p
		}
	}
	return nil
}
