package github

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes GitHub's
// deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "GitHub and GitHub Enterprise Server (repository, organization and App webhooks; GitHub Actions and Packages events)",
		Scheme:       "HMAC-SHA256 of the body (X-Hub-Signature-256)",
		Verification: "X-Hub-Signature-256: HMAC-SHA256 of the body with the webhook's secret; the SHA-1 X-Hub-Signature alone is refused",
		DeliveryID:   "X-GitHub-Delivery, which a redelivery keeps",
		Setup:        "content type application/json (form-encoded is read too), a secret, the events to send",
		Events: []connectors.EventDoc{
			{Type: "push", Kinds: []string{"code.pushed", "branch.created", "branch.deleted", "tag.created", "tag.deleted"}},
			{Type: "create", Kinds: []string{"branch.created", "tag.created"}},
			{Type: "delete", Kinds: []string{"branch.deleted", "tag.deleted"}},
			{Type: "pull_request", Kinds: []string{"change.created", "change.updated", "change.merged", "change.abandoned"}, Note: "opened/reopened, synchronize, closed merged, closed unmerged"},
			{Type: "release", Kinds: []string{"release.published"}, Note: "published"},
			{Type: "workflow_run", Kinds: []string{"build.queued", "build.started", "build.finished"}},
			{Type: "workflow_job", Kinds: []string{"task.queued", "task.started", "task.finished"}},
			{Type: "check_suite", Kinds: []string{"build.queued", "build.finished"}},
			{Type: "deployment_status", Kinds: []string{"deployment.started", "deployment.finished"}},
			{Type: "package", Kinds: []string{"artifact.published"}, Note: "published, updated"},
			{Type: "registry_package", Kinds: []string{"artifact.published"}, Note: "published, updated"},
		},
		Docs: []string{
			"https://docs.github.com/webhooks/webhook-events-and-payloads",
			"https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
