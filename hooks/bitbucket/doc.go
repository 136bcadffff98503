// Package bitbucket is the hooks.Provider of Bitbucket Cloud: it lists,
// creates, updates and deletes repository webhooks and workspace
// webhooks through the REST API 2.0, with plain net/http.
//
// API (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-webhooks/
// and https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/):
// GET/POST /2.0/repositories/{workspace}/{repo_slug}/hooks, GET/PUT/DELETE
// /2.0/repositories/{workspace}/{repo_slug}/hooks/{uid}, and the same
// under /2.0/workspaces/{workspace}/hooks. A hook's id (uid) is its UUID
// in braces, "{1b2c…}", escaped in paths ("%7B1b2c…%7D"). Listings are
// read 100 a page (pagelen), following each page's "next" URL, and only
// while it stays on the API's base URL (scheme, host and path): a next
// page elsewhere is an error, not a request. Webhooks in general:
// https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/.
//
// Bitbucket Cloud's REST API has no request for a test delivery of a
// hook, nor one listing a hook's deliveries (its OpenAPI description
// has no path under …/hooks/{uid}): the Provider is no hooks.Pinger
// and no hooks.Redeliverer.
//
// # Credentials and the least they need
//
// One of:
//   - an API token (Atlassian account settings, "Create API token with
//     scopes", app Bitbucket:
//     https://support.atlassian.com/bitbucket-cloud/docs/using-api-tokens/),
//     sent with Basic authentication, the username being the Atlassian
//     account's email address. Scopes: read:webhook:bitbucket,
//     write:webhook:bitbucket, delete:webhook:bitbucket; for globs
//     read:repository:bitbucket;
//   - an app password, sent with Basic authentication and the Bitbucket
//     username. Permissions: "Webhooks: Read and write"; for globs
//     "Repositories: Read". Bitbucket stopped issuing app passwords on
//     9 September 2025, and those left stop working on 9 June 2026;
//   - a repository, project or workspace access token (the last two
//     on the Premium plan;
//     https://support.atlassian.com/bitbucket-cloud/docs/repository-access-token-permissions/),
//     sent as "Authorization: Bearer <token>". Scopes: "Webhooks: Read
//     and write" (webhook); for globs "Repositories: Read" and a
//     workspace access token (the others cannot list a workspace's
//     repositories). Whether "Repositories: Admin", which the same page
//     says lists and edits a repository's webhooks, is needed as well
//     is UNCONFIRMED.
//
// Bitbucket also wants, to create or change a hook, the read scope of
// each kind of event it subscribes to: read:pullrequest:bitbucket
// ("Pull requests: Read") for pullrequest:* events, read:issue:bitbucket
// ("Issues: Read") for issue:*, read:repository:bitbucket
// ("Repositories: Read") for repo:*. Repository hooks need the account
// (or token) to administer the repository; workspace hooks, an owner of
// the workspace (whether a workspace access token may keep workspace
// hooks is UNCONFIRMED).
//
// # Events
//
// Events are Bitbucket's own event keys, taken 1:1 (they are the
// X-Event-Key header Reflex receives): repo:push, repo:fork,
// repo:updated, repo:commit_comment_created,
// repo:commit_status_created, repo:commit_status_updated,
// pullrequest:created, pullrequest:updated, pullrequest:approved,
// pullrequest:unapproved, pullrequest:changes_request_created,
// pullrequest:changes_request_removed, pullrequest:fulfilled (merged),
// pullrequest:rejected (declined), pullrequest:comment_created,
// pullrequest:comment_updated, pullrequest:comment_deleted,
// pullrequest:comment_resolved, pullrequest:comment_reopened,
// issue:created, issue:updated, issue:comment_created, and for
// workspace hooks also repo:created, repo:deleted, repo:imported,
// repo:transfer and project:updated. The full list, per subject, is
// public at GET https://api.bitbucket.org/2.0/hook_events/repository
// (and …/workspace). A key of another form ("category:action") is
// refused before any request; a well-formed key Bitbucket does not know
// makes it refuse the request (400), and the error names it.
//
// Bitbucket always posts JSON: a hook's content type is "json", and
// "form" is refused. Hooks are created and updated with description
// "Reflex", active, their URL, events and secret (at most 128
// characters of text), with which Bitbucket signs each delivery (an
// HMAC-SHA256 of the body in X-Hub-Signature, see
// https://bitbucket.org/blog/enhanced-webhook-security).
// An update (PUT) sends all of these, secret included: Bitbucket keeps a
// hook's secret when the field is left out, replaces it when it is
// given. Bitbucket never shows a secret, only "secret_set": Create and
// Update fail when their answer says false, or lacks a declared event.
// A secret removed by hand at Bitbucket is not seen by a plan (the
// hooks.Hook of a listing has no place for secret_set).
//
// # Status, rate limits, limits
//
// Bitbucket's API reports no delivery status on a hook: LastStatus is
// empty. Bitbucket limits requests per rolling hour (1,000 for webhook
// data, 1,000 to 10,000 for /2.0/repositories/*), answering 429
// "Rate limit for this resource has been exceeded"
// (https://support.atlassian.com/bitbucket-cloud/docs/api-request-limits/).
// A 429, or a 403 with Retry-After, is waited out through hooks.WaitFor
// (Retry-After, else RateLimit-Reset or X-RateLimit-Reset, else 1s, 2s,
// 4s… by attempt; whether Bitbucket sends Retry-After is UNCONFIRMED)
// and the request retried, at most Options.Retries times. No documented
// limit on the hooks of a repository or workspace was found; a 4xx
// whose message speaks of a hook limit, maximum or too many hooks is
// wrapped in hooks.ErrLimit (its wording is UNCONFIRMED).
//
// # Expand
//
// See Provider.Expand: repositories by "workspace/repo-slug", globs over
// a workspace's repositories, workspaces (Organizations) by slug.
package bitbucket
