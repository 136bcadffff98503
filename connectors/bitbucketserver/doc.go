// Package bitbucketserver is the connector for Bitbucket Server and
// Bitbucket Data Center project and repository webhooks.
//
// It implements the delivery contract documented at
// https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html
// and https://confluence.atlassian.com/bitbucketserver/manage-webhooks-938025878.html:
// deliveries are typed by X-Event-Key (also the payload's eventKey),
// identified by X-Request-Id and, when the webhook has a secret, signed in
// X-Hub-Signature with "sha256=" and the hex HMAC-SHA256 of the raw body.
// Reflex requires the signature: a webhook without a secret is refused,
// and so is Basic authentication, the other option Bitbucket offers.
//
// A push (repo:refs_changed) can change several refs (changes), e.g. two
// branches pushed together. A push of one change is one event with the
// delivery id; a push of several is a batch of one event per change, in
// order, identified "<delivery id>.1", "<delivery id>.2", …, each kept
// with the whole payload. A push of more than connectors.MaxBatch changes
// is refused. The "Test connection" button sends diagnostics:ping, which
// is answered as a ping.
package bitbucketserver
