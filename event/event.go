// Package event holds Reflex's one event model: the normalized form every
// connector turns a provider's webhook into, whatever the provider.
package event

import "time"

// Event is one accepted webhook delivery, normalized. Fields that a
// provider's event does not carry stay empty and are left out of its JSON.
type Event struct {
	// ID is the provider's delivery id (for GitHub, X-GitHub-Delivery),
	// or what stands in for one, as IDFrom says.
	ID string `json:"id"`
	// IDFrom says where ID came from when it is not a delivery id the
	// provider sent: "content-hash" for the SHA-256 of the body (a resend
	// is a duplicate only when byte for byte the same), "attributes" for
	// a hash of a CloudEvent's source and id. Empty for a delivery id.
	IDFrom string `json:"id_from,omitempty"`
	// Source is the name of the Reflex source the delivery arrived on.
	Source string `json:"source"`
	// Connector names the connector that verified and normalized it.
	Connector string `json:"connector"`
	// Type is the provider's own event type, e.g. "push" or "workflow_run".
	Type string `json:"type"`
	// Action refines Type where the provider sends one, e.g. "closed".
	Action string `json:"action,omitempty"`
	// Kind is the normalized meaning of the event.
	Kind Kind `json:"kind"`
	// Repository is the subject of the event: the repository it concerns.
	Repository *Repository `json:"repository,omitempty"`

	// Ref is the full Git reference, e.g. "refs/heads/main".
	Ref string `json:"ref,omitempty"`
	// Branch is the branch name the event concerns, if any.
	Branch string `json:"branch,omitempty"`
	// Tag is the tag name the event concerns, if any.
	Tag string `json:"tag,omitempty"`
	// Commit is the commit SHA the event points at.
	Commit string `json:"commit,omitempty"`
	// Before is the commit SHA a ref pointed at before a push.
	Before string `json:"before,omitempty"`
	// Actor is the login of whoever caused the event.
	Actor string `json:"actor,omitempty"`
	// URL is a human-readable page for the event (compare view, pull
	// request, release, run).
	URL string `json:"url,omitempty"`

	// Change describes a change request (pull or merge request).
	Change *Change `json:"change,omitempty"`
	// Release describes a published release.
	Release *Release `json:"release,omitempty"`
	// Build describes a build, pipeline run or one of its jobs.
	Build *Build `json:"build,omitempty"`
	// Artifact describes a published artifact such as a container image.
	Artifact *Artifact `json:"artifact,omitempty"`
	// Deployment describes a deployment and its latest status.
	Deployment *Deployment `json:"deployment,omitempty"`

	// ReceivedAt is when Reflex received the delivery.
	ReceivedAt time.Time `json:"received_at"`
	// RequestID is the id of the HTTP request that brought the event in:
	// the sender's X-Request-Id when it sent a usable one, else Reflex's
	// own. Every log line of the event's journey (its job, its
	// deliveries, their agents and reports) carries it as "request_id".
	// It is a label to follow the event by, never trusted for anything
	// else. Processing the event again keeps it.
	RequestID string `json:"request_id,omitempty"`
	// Status is where the event is in Reflex's processing.
	Status Status `json:"status,omitempty"`
	// Attempts counts processing attempts that failed so far.
	Attempts int `json:"attempts,omitempty"`
	// Error is the last processing error, if any.
	Error string `json:"error,omitempty"`
	// TriggerErrors are the triggers that could not decide on the event:
	// an expression that failed to evaluate, a service that does not exist
	// or has no zone. Such a trigger delivers nothing; the others do.
	TriggerErrors []string `json:"trigger_errors,omitempty"`
	// ProcessedAt is when processing finished, successfully or not.
	ProcessedAt *time.Time `json:"processed_at,omitempty"`
	// Replays counts the times an operator had the event processed again
	// (reflex events replay); ReplayedAt is when the last was asked.
	Replays    int        `json:"replays,omitempty"`
	ReplayedAt *time.Time `json:"replayed_at,omitempty"`
	// Confirmation is what the provider said when asked whether the
	// event is true, for a source that asks (a registry that signs
	// nothing: does the tag exist, with this digest?). Nil when the
	// source does not ask.
	Confirmation *Confirmation `json:"confirmation,omitempty"`
}

// Repository identifies the repository an event concerns.
type Repository struct {
	// Name is the full name, e.g. "acme/widget".
	Name string `json:"name"`
	// URL is the repository's web page.
	URL string `json:"url,omitempty"`
	// DefaultBranch is the repository's default branch, when sent.
	DefaultBranch string `json:"default_branch,omitempty"`
}

// Change describes a change request: a pull request or merge request.
type Change struct {
	// Number is the change's number within its repository.
	Number int `json:"number"`
	// Title is the change's title.
	Title string `json:"title,omitempty"`
	// SourceBranch is the branch the change comes from.
	SourceBranch string `json:"source_branch,omitempty"`
	// TargetBranch is the branch the change goes into.
	TargetBranch string `json:"target_branch,omitempty"`
	// Merged is true once the change has been merged.
	Merged bool `json:"merged,omitempty"`
}

// Release describes a published release.
type Release struct {
	// Name is the release's title.
	Name string `json:"name,omitempty"`
	// Prerelease marks a pre-release.
	Prerelease bool `json:"prerelease,omitempty"`
}

// Build describes a build, a pipeline run, or one job of a run.
type Build struct {
	// ID is the provider's id of the run or job.
	ID string `json:"id,omitempty"`
	// Name is the workflow, pipeline or job name.
	Name string `json:"name,omitempty"`
	// Pipeline is the workflow or pipeline a job belongs to.
	Pipeline string `json:"pipeline,omitempty"`
	// RunID is the id of the run a job belongs to.
	RunID string `json:"run_id,omitempty"`
	// Number is the run's sequence number, when the provider has one.
	Number int `json:"number,omitempty"`
	// Attempt is the run attempt, starting at 1.
	Attempt int `json:"attempt,omitempty"`
	// Status is queued, running or finished.
	Status BuildStatus `json:"status,omitempty"`
	// Outcome is set once Status is finished.
	Outcome Outcome `json:"outcome,omitempty"`
	// Trigger is what started the run, e.g. "push".
	Trigger string `json:"trigger,omitempty"`
	// URL is the run's web page.
	URL string `json:"url,omitempty"`
	// StartedAt is when the run or job started, when sent.
	StartedAt *time.Time `json:"started_at,omitempty"`
	// UpdatedAt is the provider's last update time, used to order updates.
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// Artifact describes a published artifact, typically a container image.
type Artifact struct {
	// Type is the package ecosystem, e.g. "container" or "npm".
	Type string `json:"type,omitempty"`
	// Repository is the image or package repository, e.g. "ghcr.io/acme/api".
	Repository string `json:"repository"`
	// Tag is the tag that was pushed, if any.
	Tag string `json:"tag,omitempty"`
	// Digest is the content digest, e.g. "sha256:…".
	Digest string `json:"digest,omitempty"`
	// DigestMissing is true when the provider's event names no digest
	// (Docker Hub's, Quay's): the tag may have moved since, and only a
	// confirmation with the registry can say what it points at.
	DigestMissing bool `json:"digest_missing,omitempty"`
	// Version is the package version for non-image packages.
	Version string `json:"version,omitempty"`
	// Reference is a complete reference to pull the artifact by.
	Reference string `json:"reference,omitempty"`
}

// Deployment describes a deployment and its latest reported state.
type Deployment struct {
	// ID is the provider's deployment id.
	ID string `json:"id,omitempty"`
	// Environment is the target environment, e.g. "production".
	Environment string `json:"environment,omitempty"`
	// Ref is what was deployed as the provider names it: a branch, tag or
	// SHA.
	Ref string `json:"ref,omitempty"`
	// State is the provider's state, e.g. "success" or "in_progress".
	State string `json:"state,omitempty"`
	// URL is the deployment's target or log URL, when sent.
	URL string `json:"url,omitempty"`
}

// Status is where an event is in Reflex's processing.
type Status string

// The processing statuses an event moves through.
const (
	// StatusQueued: accepted and durably queued, not yet processed.
	StatusQueued Status = "queued"
	// StatusProcessed: the worker stored it and updated live state.
	StatusProcessed Status = "processed"
	// StatusRetrying: processing failed and will be tried again.
	StatusRetrying Status = "retrying"
	// StatusFailed: processing failed for good.
	StatusFailed Status = "failed"
	// StatusDenied: verified, but refused by policy; no job was queued.
	StatusDenied Status = "denied"
	// StatusUnconfirmed: accepted, but the provider, asked, did not
	// confirm it (Confirmation says what it said): it changed nothing and
	// triggered nothing.
	StatusUnconfirmed Status = "unconfirmed"
)

// BuildStatus is the normalized progress of a build or job.
type BuildStatus string

// The build progress values.
const (
	BuildQueued   BuildStatus = "queued"
	BuildRunning  BuildStatus = "running"
	BuildFinished BuildStatus = "finished"
)

// Outcome is the normalized result of a finished build or job.
type Outcome string

// The outcomes a finished build or job can have.
const (
	OutcomeSuccess   Outcome = "success"
	OutcomeFailure   Outcome = "failure"
	OutcomeCancelled Outcome = "cancelled"
	OutcomeTimedOut  Outcome = "timed_out"
	OutcomeSkipped   Outcome = "skipped"
	OutcomeNeutral   Outcome = "neutral"
)

// Confirmation is the outcome of asking a provider whether an event it
// could not sign is true.
type Confirmation struct {
	// By names what was asked, e.g. "registry registry-1.docker.io".
	By string `json:"by"`
	// Confirmed is true when the provider confirmed the event.
	Confirmed bool `json:"confirmed"`
	// Detail says what was found, e.g. "tag v1.4.2 is sha256:…", or why
	// the event was not confirmed.
	Detail string `json:"detail"`
	// At is when the provider answered.
	At time.Time `json:"at"`
}
