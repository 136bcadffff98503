package wire

import (
	"encoding/json"
	"net/url"
	"time"
)

// The agent API: what `reflex agent` sends to `reflex serve` over HTTPS,
// and what it gets back. Every call carries the agent's own API key (kind
// agent), which names the agent and binds it to one zone; nothing an agent
// states about itself in a body is trusted for either.
//
//	POST PathConnect     Hello → Welcome            on start, and after the broker was unreachable
//	POST PathHeartbeat   Heartbeat → 204            every Welcome.HeartbeatEvery
//	POST PathDisconnect  → 204                      on shutdown
//	POST PathNext?wait=  → 200 Offer, or 204        a long poll for the zone's next job
//	POST JobPath(j, OpRenew)   LeaseRef → Renewal   every Welcome.RenewEvery while the job runs
//	POST JobPath(j, OpOutput)  Output → OutputAck   output as it comes, in bounded chunks
//	POST JobPath(j, OpReport)  Report → 202         started (the claim), then finished; or refused
//	POST JobPath(j, OpRelease) LeaseRef → 204       give a job back unrun (the agent stops)
//
// A lease that is no longer the caller's is answered 409 (it ran out, or
// was never granted) or 403 (another agent's, or no job of the agent's
// zone): the agent stops the job and reports nothing more about it.
const (
	PathConnect    = "/api/v1/agents/connect"
	PathHeartbeat  = "/api/v1/agents/heartbeat"
	PathDisconnect = "/api/v1/agents/disconnect"
	PathNext       = "/api/v1/agents/jobs/next"
)

// The operations on a leased job, the last segment of JobPath.
const (
	OpRenew   = "renew"
	OpOutput  = "output"
	OpReport  = "report"
	OpRelease = "release"
)

// JobPath returns the path of an operation on the leased job job.
func JobPath(job, op string) string {
	return "/api/v1/agents/jobs/" + url.PathEscape(job) + "/" + op
}

// MaxPollWait bounds how long a poll for the next job is held open.
const MaxPollWait = 60 * time.Second

// MaxOutputChunk bounds the data of one Output call.
const MaxOutputChunk = 64 << 10

// Hello is what an agent says when it connects.
type Hello struct {
	// Zone is the zone the agent was started for. Reflex refuses the
	// connection (409) when the agent's key is bound to another: an agent
	// checks every job against its own zone, so the two must agree.
	Zone string `json:"zone"`
	// Version is the agent's build.
	Version string `json:"version,omitempty"`
	// Hostname is where it runs.
	Hostname string `json:"hostname,omitempty"`
	// Actions are the names of the actions its file defines.
	Actions []string `json:"actions"`
	// Concurrency is how many jobs it runs at once.
	Concurrency int `json:"concurrency"`
}

// Welcome is Reflex's answer to Hello: who the agent is, and the cadence
// it keeps.
type Welcome struct {
	// Agent is the agent's name: its API key's.
	Agent string `json:"agent"`
	// Zone is the zone its key is bound to.
	Zone string `json:"zone"`
	// PollWaitMS is how long a poll for the next job may be held open.
	PollWaitMS int64 `json:"poll_wait_ms"`
	// LeaseTTLMS is how long a lease lasts without renewal.
	LeaseTTLMS int64 `json:"lease_ttl_ms"`
	// RenewEveryMS is how often a running job's lease is renewed.
	RenewEveryMS int64 `json:"renew_every_ms"`
	// HeartbeatEveryMS is how often the agent says it is alive.
	HeartbeatEveryMS int64 `json:"heartbeat_every_ms"`
}

// Heartbeat says an agent is alive, and which jobs it runs.
type Heartbeat struct {
	// Jobs are the leased jobs it is running.
	Jobs []string `json:"jobs"`
}

// Offer is a job leased to the agent that polled.
type Offer struct {
	// Job is the leased job's id, in the paths of its operations.
	Job string `json:"job"`
	// Lease is the lease id: unguessable, presented with every operation
	// on the job, valid until the lease runs out or the job is finished.
	Lease string `json:"lease"`
	// Attempt is 1 for the job's first lease, one more for each lease
	// after one that ran out.
	Attempt int `json:"attempt"`
	// LeaseExpiresAt is when the lease runs out unless renewed.
	LeaseExpiresAt time.Time `json:"lease_expires_at"`
	// Signed is the job as Reflex signed it; the agent verifies it before
	// anything else (Verifier.Verify).
	Signed json.RawMessage `json:"signed"`
}

// LeaseRef names the lease an operation is made under.
type LeaseRef struct {
	Lease string `json:"lease"`
}

// Renewal answers a renewed lease.
type Renewal struct {
	// Cancel is true when the job was cancelled: the agent stops it and
	// reports it finished, cancelled.
	Cancel bool `json:"cancel"`
	// LeaseExpiresAt is the lease's new deadline.
	LeaseExpiresAt time.Time `json:"lease_expires_at"`
}

// Output is a chunk of a running job's output, at its byte offset in the
// whole. A chunk sent again is taken once; one that would leave a gap is
// refused (416) with the length Reflex holds, from which the agent sends
// again.
type Output struct {
	Lease  string `json:"lease"`
	Offset int64  `json:"offset"`
	// Data is the output's bytes as they came (base64 in JSON).
	Data []byte `json:"data"`
}

// OutputAck says how much of a job's output Reflex holds.
type OutputAck struct {
	Length int64 `json:"length"`
}
