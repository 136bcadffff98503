package bitbucketserver

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes Bitbucket
// Server's deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Bitbucket Server and Bitbucket Data Center (project and repository webhooks)",
		Scheme:       "HMAC-SHA256 of the body (X-Hub-Signature)",
		Verification: "X-Hub-Signature: \"sha256=\" and the HMAC-SHA256 of the body with the webhook's secret; a webhook without a secret, or with Basic authentication only, is refused",
		DeliveryID:   "X-Request-Id; the SHA-256 of the body when it is absent",
		Setup:        "a secret (algorithm HmacSHA256), the events to send; Test connection (diagnostics:ping) is answered as a ping",
		Events: []connectors.EventDoc{
			{Type: "repo:refs_changed", Kinds: []string{"code.pushed", "branch.created", "branch.deleted", "tag.created", "tag.deleted"}, Note: "one event per changes entry (a batch, ids `<delivery id>.<n>`, when there are several); ADD, UPDATE, DELETE"},
			{Type: "pr:opened", Kinds: []string{"change.created"}},
			{Type: "pr:from_ref_updated", Kinds: []string{"change.updated"}},
			{Type: "pr:merged", Kinds: []string{"change.merged"}},
			{Type: "pr:declined", Kinds: []string{"change.abandoned"}},
		},
		Docs: []string{
			"https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html",
			"https://confluence.atlassian.com/bitbucketserver/manage-webhooks-938025878.html",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
