package bitbucket

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes Bitbucket
// Cloud's deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Bitbucket Cloud (repository and workspace webhooks, Bitbucket Pipelines build statuses)",
		Verification: "X-Hub-Signature: \"sha256=\" and the HMAC-SHA256 of the body with the webhook's secret; a webhook without a secret is refused",
		DeliveryID:   "X-Request-UUID; the SHA-256 of the body when it is absent",
		Setup:        "a secret, the triggers to send",
		Events: []connectors.EventDoc{
			{Type: "repo:push", Kinds: []string{"code.pushed", "branch.created", "branch.deleted", "tag.created", "tag.deleted"}, Note: "the first of push.changes; old null is a creation, new null a deletion"},
			{Type: "pullrequest:created", Kinds: []string{"change.created"}},
			{Type: "pullrequest:updated", Kinds: []string{"change.updated"}},
			{Type: "pullrequest:fulfilled", Kinds: []string{"change.merged"}},
			{Type: "pullrequest:rejected", Kinds: []string{"change.abandoned"}},
			{Type: "repo:commit_status_created", Kinds: []string{"build.started", "build.finished"}, Note: "INPROGRESS; SUCCESSFUL, FAILED, STOPPED"},
			{Type: "repo:commit_status_updated", Kinds: []string{"build.started", "build.finished"}, Note: "INPROGRESS; SUCCESSFUL, FAILED, STOPPED"},
		},
		Docs: []string{
			"https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/",
			"https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
