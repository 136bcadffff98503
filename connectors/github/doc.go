// Package github is the connector for GitHub and GitHub Enterprise Server
// repository, organization and App webhooks.
//
// It implements the delivery contract documented at
// https://docs.github.com/webhooks/webhook-events-and-payloads and
// https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries:
// deliveries are verified with X-Hub-Signature-256 (HMAC-SHA256 of the raw
// body), typed by X-GitHub-Event and identified by X-GitHub-Delivery, which
// a manual redelivery keeps, so it is the de-duplication key.
package github
