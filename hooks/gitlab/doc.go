// Package gitlab is the hooks.Provider (and hooks.Pinger and
// hooks.Redeliverer) of GitLab.com and self-managed GitLab: it lists,
// creates, updates and deletes the project hooks and group hooks of
// GitLab's REST API v4, with plain net/http, and lists and resends their
// webhook events (GET …/hooks/:hook_id/events, the last seven days';
// POST …/events/:hook_event_id/resend, GitLab 17.4 and later).
//
// API: https://docs.gitlab.com/api/project_webhooks/ (project hooks,
// GET/POST /projects/:id/hooks, PUT/DELETE /projects/:id/hooks/:hook_id,
// POST /projects/:id/hooks/:hook_id/test/:trigger) and
// https://docs.gitlab.com/api/group_webhooks/ (the same under
// /groups/:id/hooks). A project or group is named by its full path,
// URL-encoded ("group%2Fsub%2Fproject"). Listings are read 100 a page,
// following X-Next-Page (else the Link header's rel="next").
//
// # Credentials and the least they need
//
// The token is sent in the PRIVATE-TOKEN header (a personal, project or
// group access token; an OAuth token would go in Authorization: Bearer,
// which this package does not do). GitLab's classic scopes have nothing
// narrower than api that writes hooks (read_api only lists them), so:
//   - project hooks: the api scope, and the Maintainer role on each
//     project (a project access token with the Maintainer role scopes
//     it to one project);
//   - group hooks: the api scope, the Owner role on the group, and GitLab
//     Premium or Ultimate (a 403 or 404 on a group's hooks says so);
//   - globs over a group's projects need the token's user to see them.
//
// GitLab's fine-grained personal access tokens (beta, see
// https://docs.gitlab.com/auth/tokens/fine_grained_access_tokens/) may
// grant webhook permissions alone; which ones is UNCONFIRMED.
// Roles: https://docs.gitlab.com/user/permissions/; scopes:
// https://docs.gitlab.com/user/profile/personal_access_tokens/#personal-access-token-scopes.
//
// # Events
//
// GitLab turns events on with boolean flags, <event>_events. In Reflex's
// configuration an event is the flag's name without "_events":
//
//	push                  push_events
//	tag_push              tag_push_events
//	merge_requests        merge_requests_events
//	issues                issues_events
//	confidential_issues   confidential_issues_events
//	note                  note_events (comments)
//	confidential_note     confidential_note_events
//	job                   job_events
//	pipeline              pipeline_events
//	wiki_page             wiki_page_events
//	deployment            deployment_events
//	releases              releases_events
//	feature_flag          feature_flag_events
//	emoji                 emoji_events
//	resource_access_token resource_access_token_events
//	milestone             milestone_events
//	vulnerability         vulnerability_events (Ultimate)
//	member, subgroup,     member_events, subgroup_events, project_events
//	project               (group hooks only)
//
// Create and Update send every flag above, true for the declared events
// and false for the others; a declared name not in the table is sent as
// <name>_events: true, for newer GitLab versions. When GitLab's answer
// does not show a declared event turned on (GitLab ignores flags it does
// not know), Create and Update fail and name it. List maps every true
// <event>_events flag of a hook back to its name.
//
// GitLab always posts JSON: a hook's content type is "json", and "form"
// is refused. enable_ssl_verification is always true. The secret is the
// hook's token, which GitLab sends back verbatim in X-Gitlab-Token (it
// must be UTF-8 text without line breaks). A branch filter or custom
// headers set by hand are left as they are.
//
// # Status
//
// GitLab disables a failing hook (alert_status): "temporarily_disabled"
// after server errors, until disabled_until, then tries again;
// "disabled" after client errors, until a test delivery succeeds. A
// Hook's LastStatus is that status ("temporarily_disabled until <time>"),
// and Active is false only for "disabled": an update does not enable
// such a hook again (Update then fails with ErrDisabled), a successful
// Ping does.
//
// # Rate limits and limits
//
// A 429 (or a 403 with Retry-After) is waited out through hooks.WaitFor
// (Retry-After, else RateLimit-Reset, else a growing pause) and the
// request retried, at most Options.Retries times. GitLab's limit on hooks
// ("Maximum number of project hooks (100) exceeded"; group hooks have
// their own) is wrapped in hooks.ErrLimit.
//
// # Expand
//
// See Provider.Expand: projects by full path; globs in the last segment
// over a group's projects ("acme/*"), with subgroups ("acme/**",
// "acme/**/api-*"), or a user's; groups by full path. Repositories and
// Organizations are taken as projects and groups.
package gitlab
