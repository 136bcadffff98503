// Package quay is the hooks.Provider (and hooks.Pinger, hooks.Replacer)
// of Quay.io and Red Hat Quay: it lists, creates and deletes the webhook
// notifications of repositories through the API v1, with plain net/http.
//
// API: GET/POST /api/v1/repository/{namespace}/{name}/notification/,
// DELETE …/notification/{uuid}, POST …/notification/{uuid}/test, and GET
// /api/v1/repository?namespace=… for globs (every page, by next_page).
// References: https://docs.quay.io/api/swagger/ (the API),
// https://docs.quay.io/guides/notifications.html (notifications and their
// events), https://docs.projectquay.io/use_quay.html#repository-events,
// and Quay's source, https://github.com/quay/quay
// (endpoints/api/repositorynotification.py, data/model/notification.py). A repository's
// notifications are listed in one answer (Quay does not page them).
//
// # Credentials and the least they need
//
// The token is an OAuth 2 access token of an application created in a
// Quay organization (Applications → Generate Token, see
// https://docs.redhat.com/en/documentation/red_hat_quay/3/html/red_hat_quay_api_guide/oauth2-access-tokens),
// sent as "Authorization: Bearer <token>". The least it needs is the
// repo:admin scope ("Administer Repositories"), which every notification
// request checks (require_repo_admin), and its user the Admin role on
// each repository (an organization's admins have it on all its
// repositories); globs list a namespace's repositories with repo:read,
// which repo:admin includes.
//
// # One hook, several notifications
//
// A Quay notification has one event and cannot be edited; a Reflex hook
// declares several events. So a Reflex hook at Quay is a group of
// webhook notifications, one per declared event, each posting to
//
//	<hook URL>/<secret>?event=<event>
//
// The quay connector takes deliveries at /hooks/{source}/{token} (Quay
// signs nothing: the URL carries the source's secret, path-escaped, so
// a secret with a '/' is refused), and reads the event from the event
// parameter, which Quay sends nowhere else. Each notification is titled
// "Reflex: <source> (<event>)", with an empty event config (every
// build, every vulnerability level).
//
// List shows such a group as one hooks.Hook: a webhook notification whose
// URL has the shape …/hooks/{source}/{token}[?query] belongs to the group
// of its URL less the token and query, and that URL is the hook's ID and
// URL. So the core's URL comparison and ownership work unchanged, and no
// plan or listing shows a secret. The hook's Events are its
// notifications' events, ContentType "json", Active false when Quay
// disabled one of them (it stops sending a notification after 3 failed
// deliveries in a row), LastStatus the failures Quay counts ("repo_push:
// 2 failed deliveries in a row"; "" when none failed). Any other
// notification (another URL, another method: email, Slack…) is a hook of
// its own, its uuid as ID, its config.url as URL ("" for a method
// without one), never grouped: a foreign notification is listed as Quay
// holds it, but for a foreign URL of Reflex's shape (another Reflex),
// whose token is not shown either.
//
// Create, Update and Replace are one operation: for each declared event
// they keep one enabled notification posting exactly to the declared
// URL (with the declared secret and event), create the missing ones,
// and only then delete the group's others (another event, a former
// secret, a disabled one, a duplicate). A new secret thus makes new
// notifications before the old ones go, and the hook's ID stays its URL,
// so the ledger's fingerprint follows it. An apply that fails midway
// leaves a group the next plan shows different, and the next apply
// completes. A notification's title or event config changed by hand is
// kept while it posts as declared.
//
// # Events
//
// Events are Quay's own repository event names, those the quay connector
// takes (Events): repo_push, build_queued, build_start, build_success,
// build_failure, build_cancelled, vulnerability_found,
// repo_mirror_sync_started, repo_mirror_sync_success,
// repo_mirror_sync_failed. Others (repo_image_expiry, which needs an
// event config; quota_warning and quota_error, namespace events) are
// refused.
//
// # Test deliveries, rate limits, limits
//
// Ping asks Quay to queue a test notification (the event's sample data)
// for each notification of the hook. quay.io answers 429 to a client
// over its request rate: that, or a 403 with Retry-After, is waited out
// through hooks.WaitFor (Retry-After, else RateLimit-Reset or
// X-RateLimit-Reset, else a growing pause) and the request retried, at
// most Options.Retries times. Quay sets no limit on a repository's
// notifications: nothing maps to hooks.ErrLimit.
//
// # Expand
//
// See Provider.Expand: repositories by name, and globs over a
// namespace's repositories.
package quay
