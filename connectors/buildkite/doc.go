// Package buildkite is the connector for Buildkite Pipelines webhooks
// (webhook notification services): build, job and ping events.
//
// It implements the delivery contract documented at
// https://buildkite.com/docs/apis/webhooks/pipelines and the payloads of
// https://buildkite.com/docs/apis/webhooks/pipelines/build-events,
// https://buildkite.com/docs/apis/webhooks/pipelines/job-events and
// https://buildkite.com/docs/apis/webhooks/pipelines/ping-events, whose
// build and job objects are those of
// https://buildkite.com/docs/apis/rest-api/builds:
//
//   - Authentication: a webhook's Token is sent one of two ways, as its
//     settings in Buildkite choose. X-Buildkite-Signature,
//     "timestamp=<unix seconds>,signature=<hex>", is the HMAC-SHA256 of
//     "<timestamp>.<raw body>" with the token; the timestamp is when
//     Buildkite dispatched the request, and a delivery whose timestamp
//     lies further than the source's tolerance (settings.tolerance,
//     default 5 minutes, as Buildkite's documentation suggests) from the
//     receive time is refused as stale (connectors.ErrStale), so a
//     captured delivery cannot be replayed later. X-Buildkite-Token is the
//     token in clear text, compared in constant time; it binds nothing to
//     the body or to a time. A delivery carries exactly one of them: one
//     with both, or neither, is refused.
//   - settings.require_signature refuses deliveries with the token only.
//     It is off by default, because Buildkite sends X-Buildkite-Token
//     unless its webhook is set to sign, and the same token keys both
//     (whoever holds it can sign as well as send it). Turn it on once the
//     webhook signs: a webhook set to sign sends only the signature, so
//     nothing genuine is lost, and a token leaked from a log or a proxy
//     can then no longer be replayed in a header.
//   - Event type: X-Buildkite-Event ("build.finished", "job.started",
//     "ping", …); the payload's event must agree when it is there.
//   - Delivery id: Buildkite sends none (no delivery id header is
//     documented: UNCONFIRMED that none exists), so the id is the SHA-256
//     of the body (connectors.IDFromContentHash). A build's events differ
//     in their state and times, so distinct events have distinct ids, and
//     a redelivery of the same body is a duplicate.
//   - Normalization: build.scheduled is build.queued, build.running
//     build.started, build.finished (and build.skipped) build.finished,
//     with Build.ID the build's id, Number its number, Name and Pipeline
//     the pipeline's slug, URL its web_url, Trigger its source (webhook,
//     api, ui, schedule, trigger_job). The state gives the outcome: passed
//     success, failed failure, canceled cancelled, skipped and not_run
//     skipped; a build has no timed-out state (its jobs time out, and it
//     fails). A build.finished for a blocked build (blocked: true, waiting
//     on a block step) is "other", its Action "blocked": it has not
//     finished. build.failing is
//     "other". job.scheduled, job.started and job.finished are
//     task.queued, task.started and task.finished (Build.Name the step's
//     name, label or key, Pipeline the pipeline's slug, RunID the build's
//     id); a finished job's state gives its outcome: passed success,
//     failed failure (neutral when soft-failed, which does not fail the
//     build), timed_out and expired (no agent took it in time) timed_out,
//     canceled cancelled, and skipped, broken, waiting_failed,
//     blocked_failed and unblocked_failed (it never ran) skipped. A state
//     the connector does not know makes the event "other"; the state is
//     the event's Action. The repository is pipeline.repository, a clone
//     URL, as the "owner/name" path the other connectors use, with the
//     https page on its host; only a full commit SHA is kept (a build
//     started without one names "HEAD"); the branch or tag is the
//     build's; the actor is the commit author's username, else the
//     build's creator's name. Agent and other events are accepted
//     unnormalized; a ping is answered and not queued.
//
// Buildkite's retry policy and timeout, and its User-Agent, are not
// documented (UNCONFIRMED).
package buildkite
