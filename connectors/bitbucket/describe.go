package bitbucket

import "github.com/reflexops/reflex/connectors"

// prNote and statusNote describe the pull request and commit status events.
const (
	prNote     = "no commit: Bitbucket sends abbreviated commit ids, which only the payload keeps"
	statusNote = "INPROGRESS; SUCCESSFUL, FAILED, STOPPED; the build's name without the run part (\"Pipeline #128 for main\" is \"Pipeline\", number 128)"
)

// Describe says how the connector verifies and normalizes Bitbucket
// Cloud's deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Bitbucket Cloud (repository and workspace webhooks, Bitbucket Pipelines build statuses)",
		Scheme:       "HMAC-SHA256 of the body (X-Hub-Signature)",
		Verification: "X-Hub-Signature: \"sha256=\" and the HMAC-SHA256 of the body with the webhook's secret; a webhook without a secret is refused",
		DeliveryID:   "X-Request-UUID; the SHA-256 of the body when it is absent",
		Setup:        "a secret, the triggers to send",
		Events: []connectors.EventDoc{
			{Type: "repo:push", Kinds: []string{"code.pushed", "branch.created", "branch.deleted", "tag.created", "tag.deleted"}, Note: "one event per push.changes entry (a batch, ids `<delivery id>.<n>`, when there are several); old null is a creation, new null a deletion"},
			{Type: "pullrequest:created", Kinds: []string{"change.created"}, Note: prNote},
			{Type: "pullrequest:updated", Kinds: []string{"change.updated"}, Note: prNote},
			{Type: "pullrequest:fulfilled", Kinds: []string{"change.merged"}, Note: prNote},
			{Type: "pullrequest:rejected", Kinds: []string{"change.abandoned"}, Note: prNote},
			{Type: "repo:commit_status_created", Kinds: []string{"build.started", "build.finished"}, Note: statusNote},
			{Type: "repo:commit_status_updated", Kinds: []string{"build.started", "build.finished"}, Note: statusNote},
		},
		Docs: []string{
			"https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/",
			"https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
