// Package gitea is the hooks.Provider (and hooks.Pinger) of Gitea and
// Forgejo (Codeberg included): it lists, creates, updates and deletes
// repository hooks and organization hooks through the REST API v1, with
// plain net/http.
//
// API: GET/POST /api/v1/repos/{owner}/{repo}/hooks, PATCH/DELETE
// /api/v1/repos/{owner}/{repo}/hooks/{id}, POST …/hooks/{id}/tests, and
// the same under /api/v1/orgs/{org}/hooks (no tests). References:
// https://docs.gitea.com/usage/webhooks, the API's own reference at
// https://gitea.com/api/swagger (and https://codeberg.org/api/swagger
// for Forgejo), https://forgejo.org/docs/latest/user/webhooks/.
// Listings are read 50 a page (page, limit; Gitea caps limit at [api]
// MAX_RESPONSE_ITEMS, 50 by default) until X-Total-Count items were
// read, or a page comes back empty.
//
// # Credentials and the least they need
//
// The token is sent as "Authorization: token <token>". With scoped
// tokens (https://docs.gitea.com/development/oauth2-provider#scopes):
//   - repository hooks: write:repository, and admin rights on each
//     repository;
//   - organization hooks: write:organization, and ownership of the
//     organization;
//   - globs over an owner's repositories list them with GET
//     /orgs/{org}/repos (read:organization) or GET /users/{user}/repos
//     (read:user); which scope each listing checks is UNCONFIRMED.
//
// # Events
//
// Events are Gitea's own names, as its API takes them: push, create,
// delete, fork, issues, issue_assign, issue_label, issue_milestone,
// issue_comment, pull_request, pull_request_assign, pull_request_label,
// pull_request_milestone, pull_request_comment, pull_request_review,
// pull_request_sync, pull_request_review_request, wiki, repository,
// release, package, status, workflow_run, workflow_job (Forgejo:
// action_run_failure, action_run_recover, action_run_success).
//
// "issues" turns on every issue event, "pull_request" every pull request
// event; "issues_only" and "pull_request_only" the issue or pull request
// alone. Gitea lists each event it turned on, so List maps them back:
// "issues" with all its issue events is "issues", "issues" alone is
// "issues_only" (the same for "pull_request"), and older versions'
// three review events are "pull_request_review". A declaration naming
// "issues" and one of its events (or "pull_request" and one of its) is
// refused, as Gitea could not list it back. When Gitea's answer does not
// show a declared event (a name this version does not know), Create and
// Update fail and name it.
//
// Content types are "json" and "form". Hooks are created of type
// "gitea" (Options.HookType: "forgejo" for Forgejo's own type), active,
// with branch_filter "*". The secret is the hook's config.secret, with
// which Gitea signs X-Gitea-Signature (Forgejo also
// X-Forgejo-Signature). An update clears an authorization header set by
// hand (Gitea's edit takes it from the request).
//
// # A new secret needs a new hook
//
// Gitea's and Forgejo's edit of a hook ignores config.secret (read in
// routers/api/v1/utils/hook.go, editHook, of go-gitea/gitea and of
// Forgejo; a pull request to change that, go-gitea/gitea#23142, was
// closed). So Update, before it patches, reads the hook: when it already
// has the declared URL, content type, events and is active, the update
// can only be for the secret, and Update fails with
// ErrSecretUnchangeable. Replace creates a hook with the new secret and
// deletes the old one. When a secret changes together with other
// fields, the patch changes those fields only: UNCONFIRMED that no
// Gitea or Forgejo version applies config.secret on an edit.
//
// Forgejo's edit also leaves package, action_run_* and workflow_job as
// they were (read in its editHook); Update then fails naming them.
//
// # Status, rate limits, limits
//
// Gitea's API reports no delivery status on a hook: LastStatus is empty.
// Gitea limits no request rate itself; a proxy in front of it may (a
// 429, or a 403 with Retry-After): that is waited out through
// hooks.WaitFor (Retry-After, else RateLimit-Reset or X-RateLimit-Reset,
// else a growing pause) and the request retried, at most
// Options.Retries times. No limit on the hooks of a repository or an
// organization was found in Gitea's or Forgejo's code: nothing maps to
// hooks.ErrLimit.
//
// # Expand
//
// See Provider.Expand: repositories by name, globs over an
// organization's or a user's repositories, organizations by name.
package gitea
