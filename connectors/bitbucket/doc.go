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
// One repo:push delivery can carry several ref changes (push.changes);
// the event is normalized from the first, which is the only one a push
// of a single ref has. The whole payload is kept with the event.
package bitbucket
