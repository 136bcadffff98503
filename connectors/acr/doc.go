// Package acr is the connector for Azure Container Registry webhooks: the
// registry's pushes and deletions of images and Helm charts.
//
// It implements the delivery contract documented at
// https://learn.microsoft.com/azure/container-registry/container-registry-webhook-reference
// (the payload of each action, and the headers: Content-Type
// application/json and the webhook's custom headers, nothing else),
// https://learn.microsoft.com/azure/container-registry/container-registry-webhook
// and https://learn.microsoft.com/cli/azure/acr/webhook (creating a
// webhook: its service URI, actions, scope and custom headers). Timeouts
// and retries are not documented.
//
// The registry signs nothing. A webhook's custom headers are where a
// secret can travel: Verify compares the whole value of one header with
// each of the source's secrets in constant time. It is the Authorization
// header by default, so that --headers "Authorization=Bearer s3cr3t"
// makes the source's secret "Bearer s3cr3t" (the value as sent, scheme
// included); settings.header names another, e.g. X-Reflex-Token, as long
// as it is neither a header policies are shown nor one HTTP gives a
// meaning of its own (connectors.CheckCredentialHeader). settings.confirm
// asks the registry, through its API
// (github.com/reflexops/reflex/connectors/registryv2), whether a pushed
// image's tag exists and names the digest the event names before the
// event changes anything; settings.confirm.registry, the registry's
// https base URL, is required then, and is the only host ever asked.
//
// The event type is the payload's action and the delivery id its id,
// the webhook event's id. push becomes artifact.published: the image
// "<request.host>/<target.repository>" (request.host being the
// registry's login server, e.g. myregistry.azurecr.io), its tag and
// digest; a push by digest alone has no tag and is referenced by its
// digest. delete (of a manifest, or of a whole repository; removing a tag
// sends nothing) is other with action "deleted". chart_push, a Helm chart
// in the registry's legacy chart repositories (az acr helm push), is
// artifact.published with Artifact.Type "helm", named
// "<login server>/<target.repository>/<target.name>" with its version;
// its payload has no request, so the login server comes from
// settings.login_server, and a chart event is refused without it. A
// chart cannot be confirmed through the registry API and is refuted when
// the source asks for confirmation. chart_delete is other ("deleted").
//
// UNCONFIRMED, not in the reference: the payload of quarantine (taken to
// be a push's; other, action "quarantined"), of the ping that
// az acr webhook ping sends (taken to be one with action "ping",
// answered without an event; third-party receivers see that), and the
// actor object (its name becomes Event.Actor when present).
package acr
