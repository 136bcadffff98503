// Package azuredevops is the connector for Azure DevOps Services and Azure
// DevOps Server service hooks sent by the Web Hooks consumer (consumer
// "webHooks", action "httpRequest"): Repos pushes and pull requests,
// Pipelines builds, runs and stages, and classic Release deployments.
//
// It implements the delivery contract documented at
// https://learn.microsoft.com/azure/devops/service-hooks/events (the
// payload of each event type),
// https://learn.microsoft.com/azure/devops/service-hooks/services/webhooks
// (the consumer's settings) and
// https://learn.microsoft.com/rest/api/azure/devops/hooks/notifications
// (what a notification is).
//
// Azure DevOps signs nothing. A subscription can send Basic credentials
// (its "Basic authentication username" and "password"), which is the
// default here: the source's secret is "username:password", compared whole
// in constant time with what the Authorization header carries. With the
// header setting, a custom HTTP header of the subscription ("Name:value",
// one per line in its "HTTP headers") holds the secret instead; Azure
// DevOps shows such headers to anyone who can view the subscription, so
// Basic authentication is the better choice where it fits. The header may
// not be one policies are shown (User-Agent, X-Request-Id, …) nor one
// HTTP gives a meaning of its own (Authorization, Content-*, Host), as
// connectors.CheckCredentialHeader says.
//
// The event type and the ids travel in the body. A notification is the
// delivery of one event to one subscription, and its number is unique
// within the subscription, so the delivery id is subscriptionId and
// notificationId joined by '.'; a body without them falls back to the
// event id ("id"), which every subscription to the same event shares.
//
// A git.push can update several refs (refUpdates), e.g. two branches
// pushed together. A push of one update is one event with the delivery
// id; a push of several is a batch of one event per update, in order,
// identified "<delivery id>.1", "<delivery id>.2", …, each kept with the
// whole payload. A push of more than connectors.MaxBatch updates is
// refused.
//
// Build, run and stage events name what they built as every connector's
// build events do: Branch for a refs/heads/ ref, Tag for a refs/tags/
// one, and no Ref; a pull request's merge ref (refs/pull/42/merge) sets
// neither, and stays in the payload.
package azuredevops
