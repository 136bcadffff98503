// Package circleci is the connector for CircleCI's outbound webhooks
// (CircleCI cloud, and server 4 and later): workflow-completed and
// job-completed events.
//
// It implements the delivery contract documented at
// https://circleci.com/docs/guides/integration/outbound-webhooks/ and the
// payloads of https://circleci.com/docs/reference/outbound-webhooks-reference/:
//
//   - Authentication: circleci-signature holds a comma-separated list of
//     versioned signatures ("v1=<hex>,v2=…"). v1, the only version there
//     is, is the hex HMAC-SHA256 of the raw body with the webhook's secret
//     token; a delivery verifies when one of its v1 entries matches one of
//     the source's secrets, compared in constant time. Entries of other
//     versions are ignored, never trusted, so no version Reflex does not
//     check can stand in for v1 (the downgrade CircleCI's documentation
//     warns of). A webhook without a secret token sends no signature, and
//     its deliveries are refused. The scheme signs no timestamp: a
//     captured delivery can be replayed, and only de-duplication by its id
//     catches it.
//   - Event type: the payload's type, which the signature covers; the
//     circleci-event-type header carries it too, and when both are sent
//     they must agree. A test delivery whose type is "ping" is answered as
//     a ping. The "Test Ping Event" button's abbreviated payload is not
//     documented: that its type is "ping" is UNCONFIRMED, and a test
//     delivery of another type is parsed as what its type says.
//   - Delivery id: the payload's id, which identifies the event; CircleCI
//     may deliver an event more than once, always with the same id. There
//     is no delivery id header.
//   - Normalization: workflow-completed is build.finished (Build.ID the
//     workflow's id, Name its name, Pipeline the project slug, Number the
//     pipeline number, URL the workflow's page); job-completed is
//     task.finished (Build.Name the job's name, Pipeline and RunID its
//     workflow's name and id, Number the job number, URL the job's page,
//     made from the workflow's). The status gives the outcome: success;
//     failed, error and unauthorized are failure; canceled is cancelled.
//     The webhook documentation lists no other; the API's timedout
//     (timed_out), not_run (skipped), failing, infrastructure_fail and
//     terminated-unknown (failure) are read too, and any other status
//     makes the event "other". The status is the event's Action. The
//     repository, commit and branch or tag come from the pipeline's vcs
//     block (the target repository, else the origin) or, for projects on
//     GitLab, a GitHub App or Bitbucket Data Center, from its
//     trigger_parameters; a repository URL becomes the "owner/name" path
//     the other connectors use, and only a full commit SHA is kept. A
//     payload sub-entity's key names other than those the reference's
//     samples show are UNCONFIRMED.
package circleci
