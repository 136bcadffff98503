// Package github keeps Reflex's webhooks at GitHub and GitHub Enterprise
// Server: it is the hooks.Provider named "github", a hooks.Pinger and a
// hooks.Redeliverer, on the REST API through go-github.
//
// # What it does
//
// Repository hooks (/repos/{owner}/{repo}/hooks) and organization hooks
// (/orgs/{org}/hooks) are listed (every page), created, updated, deleted
// and pinged (…/hooks/{id}/pings). A hook is created and updated as a
// "web" hook, active, with config url, content_type ("json" or "form"),
// secret and insecure_ssl "0" (the receiver's certificate is checked),
// and the declared events, which are GitHub's own event names ("push",
// "pull_request", …) taken 1:1. An update sends the whole configuration,
// secret included: GitHub replaces it, and a configuration without a
// secret would lose it. A hook's LastStatus is its last_response ("200
// OK", "404 misconfigured: Invalid HTTP Response: 404"). Deleting a hook
// that is gone already is not an error.
//
// Deliveries lists a hook's recent deliveries (…/hooks/{id}/deliveries,
// cursor pagination, newest first, stopping at the given time) and
// Redeliver asks for one again (…/deliveries/{delivery_id}/attempts). See
// https://docs.github.com/en/webhooks/testing-and-troubleshooting-webhooks/redelivering-webhooks
// and https://docs.github.com/en/rest/repos/webhooks.
//
// Expand takes repositories "owner/name" as they are; a glob
// "owner/pattern" lists the owner's repositories (archived ones are
// skipped: they are read-only; a user other than the token's shows its
// public ones only); organizations become organization
// targets; Installation is every repository the App's installation can
// see (App credentials only; the configured installation, else the App's
// only one).
//
// # Credentials and the least permissions
//
// Exactly one of a token and a GitHub App.
//
// A classic personal access token needs the admin:repo_hook scope for
// repository hooks and admin:org_hook for organization hooks (and its
// user must own the organization); listing an owner's private
// repositories for a glob also needs repo. See
// https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps.
//
// A fine-grained personal access token needs, on the repositories it is
// given, the "Webhooks" repository permission (read and write) and
// "Metadata" (read, always granted); for organization hooks the
// "Webhooks" organization permission (read and write). See
// https://docs.github.com/en/rest/authentication/permissions-required-for-fine-grained-personal-access-tokens.
//
// A GitHub App needs the repository permission "Webhooks" (read and
// write), the organization permission "Webhooks" (read and write) for
// organization hooks, and "Metadata" (read). It is installed on each
// account whose hooks it keeps. Its JWT (RS256, issued 60 seconds in the
// past against clock drift, expiring 5 minutes on; GitHub takes at most
// 10) is signed per request by ghinstallation's AppsTransport, and only
// asks for installation tokens and finds installations; every other
// request carries an installation token (ghinstallation.Transport, one
// per installation, kept until a minute before it expires, then fetched
// again). The installation is the configured one, or else found once per
// owner: GET /repos/{owner}/{repo}/installation, /orgs/{org}/installation
// or /users/{user}/installation. See
// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
// and
// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation.
//
// A 401 says the credentials were refused; a 403 names the permission
// above that is missing (and GitHub's X-Accepted-GitHub-Permissions when
// it sends one); a 404 says the repository or organization does not
// exist or the credentials cannot see it (GitHub hides what a token may
// not see). GitHub keeps at most 20 hooks per event at a repository or
// organization: its 422 ("The "push" event cannot have more than 20
// hooks") is wrapped with hooks.ErrLimit, naming the repository. See
// https://docs.github.com/en/webhooks/using-webhooks/creating-webhooks.
//
// # GitHub Enterprise Server
//
// Options.APIURL is https://HOST/api/v3/ ("/api/v3/" is added to a bare
// host); App tokens are asked of the same base. Requests never follow a
// redirect to another host: the credentials go to the API's host only.
// Its rate limits are off unless the site administrator sets them. See
// https://docs.github.com/en/enterprise-server@latest/rest/enterprise-admin
// (the API's base URL).
//
// # Rate limits
//
// A primary rate limit (403 or 429 with X-RateLimit-Remaining: 0; go-github's
// RateLimitError) is waited out until X-RateLimit-Reset, a secondary one
// (go-github's AbuseRateLimitError, or any 403/429 with Retry-After) for
// its Retry-After, else a minute, as GitHub advises. Each wait goes
// through hooks.WaitFor, so it is reported to the context's Progress and
// bounded by hooks.MaxWait; a request is retried after at most 5 waits.
// See https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
// and https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api.
//
// Every request is bounded by Options.Timeout (30 seconds by default),
// installation token refreshes included.
package github
