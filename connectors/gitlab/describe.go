package gitlab

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes GitLab's
// deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "GitLab (GitLab.com and self-managed; project, group and system hooks, GitLab CI pipeline and job events)",
		Scheme:       "token in constant time, or a Standard Webhooks signing token",
		Verification: "webhook-signature (Standard Webhooks v1, HMAC-SHA256 of id.timestamp.body with the webhook's signing token \"whsec_…\", timestamp within settings.tolerance, default 5m) when sent, and then it must verify; else X-Gitlab-Token equal to the webhook's secret token, unless settings.require_signature",
		DeliveryID:   "for a signed delivery the webhook-id the signature covers, which GitLab sets to the Idempotency-Key (one that differs is refused); else Idempotency-Key, which retries and resends keep; else X-Gitlab-Event-UUID; else a hash of the body",
		Setup:        "a secret token or a signing token (whsec_…), the events to send",
		Events: []connectors.EventDoc{
			{Type: "push", Kinds: []string{"code.pushed", "branch.created", "branch.deleted"}, Note: "before all zeros creates the branch, after all zeros deletes it"},
			{Type: "tag_push", Kinds: []string{"tag.created", "tag.deleted"}},
			{Type: "merge_request", Kinds: []string{"change.created", "change.updated", "change.merged", "change.abandoned", "other"}, Note: "open/reopen, update with new commits (oldrev), merge, close; approvals and other updates are other"},
			{Type: "release", Kinds: []string{"release.published", "other"}, Note: "create; update and delete are other"},
			{Type: "pipeline", Kinds: []string{"build.queued", "build.started", "build.finished", "other"}, Note: "created/pending/waiting_for_resource/preparing/scheduled, running, success/failed/canceled/skipped; manual is other"},
			{Type: "build", Kinds: []string{"task.queued", "task.started", "task.finished", "other"}, Note: "the Job Hook, by build_status as a pipeline's"},
			{Type: "deployment", Kinds: []string{"deployment.started", "deployment.finished", "other"}, Note: "created/running, success/failed/canceled; deployment.state in GitHub's words: queued, in_progress, success, failure, inactive (canceled)"},
			{Type: "system", Kinds: []string{"code.pushed", "branch.created", "branch.deleted", "tag.created", "tag.deleted", "change.created", "change.updated", "change.merged", "change.abandoned", "other", "unnormalized"}, Note: "push, tag_push and merge_request as a project hook's; others unnormalized"},
		},
		Docs: []string{
			"https://docs.gitlab.com/user/project/integrations/webhooks/",
			"https://docs.gitlab.com/user/project/integrations/webhook_events/",
			"https://docs.gitlab.com/administration/system_hooks/",
			"https://www.standardwebhooks.com/",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
