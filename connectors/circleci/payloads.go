package circleci

import (
	"time"

	"github.com/reflexops/reflex/connectors/convert"
)

// The parts of CircleCI's payloads the connector reads, and nothing else.
// Both event types share one shape: workflow-completed has no job block,
// and its workflow block has a status, which job-completed's lacks. Field
// names follow the outbound webhooks reference
// (https://circleci.com/docs/reference/outbound-webhooks-reference/).
type payload struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	HappenedAt timestamp `json:"happened_at"`
	Project    struct {
		Slug string `json:"slug"`
	} `json:"project"`
	Workflow struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		Status    string    `json:"status"`
		URL       string    `json:"url"`
		CreatedAt timestamp `json:"created_at"`
		StoppedAt timestamp `json:"stopped_at"`
	} `json:"workflow"`
	Pipeline pipeline `json:"pipeline"`
	Job      *struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		Number    int       `json:"number"`
		Status    string    `json:"status"`
		StartedAt timestamp `json:"started_at"`
		StoppedAt timestamp `json:"stopped_at"`
	} `json:"job"`
}

// pipeline is the pipeline block. A project on GitHub (OAuth app) or
// Bitbucket Cloud describes its commit in vcs; one on GitLab, a GitHub App
// or Bitbucket Data Center in trigger_parameters instead.
type pipeline struct {
	Number  int `json:"number"`
	Trigger struct {
		Type string `json:"type"`
	} `json:"trigger"`
	VCS *struct {
		TargetRepositoryURL string `json:"target_repository_url"`
		OriginRepositoryURL string `json:"origin_repository_url"`
		Revision            string `json:"revision"`
		Branch              string `json:"branch"`
		Tag                 string `json:"tag"`
	} `json:"vcs"`
	TriggerParameters *struct {
		Git struct {
			CheckoutURL string `json:"checkout_url"`
			CheckoutSHA string `json:"checkout_sha"`
			Ref         string `json:"ref"`
			Branch      string `json:"branch"`
			Tag         string `json:"tag"`
		} `json:"git"`
		GitLab struct {
			WebURL       string `json:"web_url"`
			UserUsername string `json:"user_username"`
			CheckoutSHA  string `json:"checkout_sha"`
		} `json:"gitlab"`
	} `json:"trigger_parameters"`
}

// timestamp is an ISO 8601 time of CircleCI's. One that is absent, null
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
