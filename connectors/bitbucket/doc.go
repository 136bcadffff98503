// Package bitbucket is the connector for Bitbucket Cloud repository and
// workspace webhooks.
//
// It implements the delivery contract documented at
// https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/ and
// https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/:
// deliveries are typed by X-Event-Key, identified by X-Request-UUID and,
// when the webhook has a secret, signed in X-Hub-Signature with
// "sha256=" and the hex HMAC-SHA256 of the raw body
// (https://bitbucket.org/blog/enhanced-webhook-security). Reflex requires
// the signature: a webhook without a secret is refused.
//
// One repo:push delivery can carry several ref changes (push.changes),
// e.g. a branch and a tag pushed together. A push of one change is one
// event with the delivery id; a push of several is a batch of one event
// per change, in order, identified "<delivery id>.1", "<delivery id>.2",
// …, each kept with the whole payload. A push of more than
// connectors.MaxBatch changes is refused.
//
// Actor is the account's nickname, or its display name when it has none:
// the display name is free text its owner may change at any time.
//
// Pull request payloads name commits abbreviated (12 hex digits), which
// Commit does not hold: it holds only full commit ids, as for every
// provider, and stays empty for pull request events; the payload keeps
// the abbreviated ids.
//
// Bitbucket Pipelines names the commit status of each run after the run
// ("Pipeline #128 for main"). Build.Name is that name without its run
// part (" #128 for main", here "Pipeline"), so every run of a pipeline
// has the same name, and Build.Number is the run's number.
package bitbucket
