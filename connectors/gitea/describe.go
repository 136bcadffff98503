package gitea

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes Gitea's and
// Forgejo's deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Gitea and Forgejo (webhooks of type Gitea or Forgejo: repository, organization, user and system hooks)",
		Scheme:       "HMAC-SHA256 of the body (X-Gitea-Signature)",
		Verification: "X-Gitea-Signature or X-Forgejo-Signature: bare hex HMAC-SHA256 of the body (of a form-encoded body, its payload field) with the webhook's secret (X-Hub-Signature-256 when those are absent); an empty signature, sent by a hook without a secret, is refused",
		DeliveryID:   "X-Gitea-Delivery (X-Forgejo-Delivery), a new UUID per attempt: duplicates of one attempt are caught, a redelivery from the webhook page is a new event",
		Setup:        "method POST, content type application/json (form-encoded is read too), a secret, the events to send",
		Events: []connectors.EventDoc{
			{Type: "push", Kinds: []string{"code.pushed", "branch.created", "branch.deleted", "tag.created", "tag.deleted"}, Note: "created and deleted from an all-zero before or after"},
			{Type: "create", Kinds: []string{"branch.created", "tag.created"}},
			{Type: "delete", Kinds: []string{"branch.deleted", "tag.deleted"}},
			{Type: "pull_request", Kinds: []string{"change.created", "change.updated", "change.merged", "change.abandoned"}, Note: "opened/reopened, synchronized, closed merged, closed unmerged"},
			{Type: "release", Kinds: []string{"release.published"}, Note: "published"},
			{Type: "status", Kinds: []string{"build.started", "build.finished"}, Note: "pending; success, failure, error, warning"},
			{Type: "workflow_run", Kinds: []string{"build.queued", "build.started", "build.finished"}},
			{Type: "workflow_job", Kinds: []string{"task.queued", "task.started", "task.finished"}},
			{Type: "package", Kinds: []string{"artifact.published"}, Note: "created"},
		},
		Docs: []string{
			"https://docs.gitea.com/usage/repository/webhooks",
			"https://forgejo.org/docs/latest/user/webhooks/",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
