package azuredevops

import "github.com/reflexops/reflex/connectors"

// Describe says how the connector verifies and normalizes Azure DevOps'
// service hook deliveries.
func (*Connector) Describe() connectors.Description {
	return connectors.Description{
		Provider:     "Azure DevOps Services and Server (service hooks, Web Hooks consumer: Repos, Pipelines, classic Releases)",
		Scheme:       "Basic credentials or a custom header, constant time",
		Verification: "nothing is signed: the subscription's Basic authentication, user:password compared whole with the source's secret; or, with settings.header, a custom HTTP header holding the secret",
		DeliveryID:   "subscriptionId.notificationId of the body (one notification per event and subscription, kept by retries); the event id when they are absent",
		Setup:        "Web Hooks consumer, an HTTPS URL, Basic authentication user name and password (or the custom header in HTTP headers), resource details to send: All",
		Events: []connectors.EventDoc{
			{Type: "git.push", Kinds: []string{"code.pushed", "branch.created", "branch.deleted", "tag.created", "tag.deleted"}, Note: "one event per refUpdates entry (a batch, ids `<delivery id>.<n>`, when there are several); a zero old id is a creation, a zero new id a deletion"},
			{Type: "git.pullrequest.created", Kinds: []string{"change.created"}},
			{Type: "git.pullrequest.updated", Kinds: []string{"change.updated", "change.merged", "change.abandoned", "other"}, Note: "source branch pushed to (from the message); completed; abandoned; votes and reviewers are other"},
			{Type: "git.pullrequest.merged", Kinds: []string{"change.merged", "other"}, Note: "completed; a merge attempted on an active pull request is other"},
			{Type: "build.complete", Kinds: []string{"build.finished"}, Note: "result succeeded, partiallySucceeded (neutral), failed, canceled; branch or tag of sourceBranch, no ref"},
			{Type: "ms.vss-pipelines.run-state-changed-event", Kinds: []string{"build.started", "build.finished", "other"}, Note: "inProgress, completed; canceling is other"},
			{Type: "ms.vss-pipelines.stage-state-changed-event", Kinds: []string{"task.queued", "task.started", "task.finished"}, Note: "notStarted/waiting, running, completed"},
			{Type: "ms.vss-release.deployment-started-event", Kinds: []string{"deployment.started"}},
			{Type: "ms.vss-release.deployment-completed-event", Kinds: []string{"deployment.finished"}},
		},
		Docs: []string{
			"https://learn.microsoft.com/azure/devops/service-hooks/events",
			"https://learn.microsoft.com/azure/devops/service-hooks/services/webhooks",
		},
	}
}

var _ connectors.Describer = (*Connector)(nil)
