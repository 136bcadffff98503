// Package harbor is the hooks.Provider of Harbor (v2.x): it lists,
// creates, updates and deletes the webhook policies of Harbor projects
// through the API v2.0, with plain net/http.
//
// API: GET/POST /api/v2.0/projects/{project_name_or_id}/webhook/policies,
// GET/PUT/DELETE …/webhook/policies/{webhook_policy_id}, with
// X-Is-Resource-Name: true as projects are named; GET /api/v2.0/projects
// for globs. References: https://goharbor.io/docs/main/working-with-projects/project-configuration/configure-webhooks/
// and the API's own reference,
// https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml
// (browsable on every instance at https://<harbor>/devcenter-api-2.0).
// Listings are read 100 a page (page, page_size), numbered here, while
// the Link header has a rel="next" or fewer than X-Total-Count items were
// read.
//
// # Credentials and the least they need
//
// Requests carry HTTP Basic authentication. The least is a robot account
// (https://goharbor.io/docs/main/administration/robot-accounts/) whose
// permissions on the selected projects include Webhook (the
// notification-policy resource): List, Read, Create, Update and Delete.
// Robot accounts can hold that permission since Harbor 2.10; on older
// versions, a user with the Project Admin role on each project
// (maintainers may only read policies). Its username is the robot's full
// name as Harbor shows it, robot$<name> (robot$<project>+<name> for a
// project robot), its password the robot's secret. Globs list the
// projects the account sees: a system robot covering every project sees
// them all; a project robot its projects and the public ones.
//
// # Policies, events, secret
//
// A Reflex hook is one webhook policy, named "reflex-<source>" (with a
// suffix from the URL's hash when another policy of the project has that
// name), enabled, with one target: type http, the hook's URL as its
// address, the source's secret as its auth_header, skip_cert_verify
// false, payload_format Default. Harbor sends the auth header, whole and
// as it is, as the Authorization header of each delivery, which the
// harbor connector compares with the source's secret: so the secret must
// be header-safe text (no control characters, no white space at either
// end). A policy is listed as a hooks.Hook: its id, its first http
// target's address as URL ("" for a policy with none, e.g. Slack's), its
// event_types as Events, ContentType "json", Active = enabled.
//
// Events are Harbor's own event types, as its API takes them:
// PUSH_ARTIFACT, PULL_ARTIFACT, DELETE_ARTIFACT, SCANNING_COMPLETED,
// SCANNING_FAILED, SCANNING_STOPPED, QUOTA_EXCEED, QUOTA_WARNING,
// REPLICATION, TAG_RETENTION (older versions also UPLOAD_CHART,
// DOWNLOAD_CHART, DELETE_CHART). GET …/webhook/events lists an
// instance's; Harbor refuses a type it does not know (400 "unsupported
// event type").
//
// Harbor keeps a target address's scheme, host and path only: a hook URL
// with a query, a fragment, a trailing slash or escaped characters in its
// path is refused, as Harbor would store another URL than declared.
//
// An update sends the whole policy back (Harbor's PUT replaces every
// field, its creator and creation time included): it reads the policy,
// changes enabled, event_types and targets (leaving the one target
// above: a second target added by hand goes), and keeps the rest.
//
// # Status, test deliveries, rate limits, limits
//
// LastStatus is empty: a policy's deliveries are executions
// (…/policies/{id}/executions), one more request per policy, not read.
// Harbor removed its test endpoint (POST …/webhook/policies/test) in
// v2.3: the Provider is no hooks.Pinger. Harbor limits no request rate
// itself; a proxy in front of it may (a 429, or a 403 with Retry-After):
// that is waited out through hooks.WaitFor (Retry-After, else
// RateLimit-Reset or X-RateLimit-Reset, else a growing pause) and the
// request retried, at most Options.Retries times. Harbor sets no limit on
// a project's policies: nothing maps to hooks.ErrLimit.
//
// # Expand
//
// See Provider.Expand: projects by name, and globs over the projects the
// account sees (public projects it may not manage skipped).
package harbor
