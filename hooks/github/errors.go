package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/reflexops/reflex/hooks"
)

// opCreate is the operation Create names, whose 422 may be the hook limit.
const opCreate = "create a hook"

// call runs one API request, waiting out GitHub's rate limits (through
// hooks.WaitFor, which reports the wait) and retrying, at most maxRetries
// times. It returns the request's error as go-github gave it.
func (p *Provider) call(ctx context.Context, what string, f func() (*github.Response, error)) error {
	for attempt := 0; ; attempt++ {
		resp, err := f()
		if err == nil {
			return nil
		}
		wait, why, limited := rateLimitWait(err, resp)
		if !limited {
			return err
		}
		if attempt >= maxRetries {
			return &limitedError{fmt.Errorf("%s, still after %d waits: %w", why, maxRetries, err)}
		}
		if werr := hooks.WaitFor(ctx, wait, what+": "+why); werr != nil {
			return fmt.Errorf("%s: %w", why, werr)
		}
	}
}

// limitedError is a request still rate limited after maxRetries waits.
type limitedError struct{ err error }

func (e *limitedError) Error() string { return e.err.Error() }
func (e *limitedError) Unwrap() error { return e.err }

// rateLimitWait says whether err is a rate limit, and how long to wait:
//   - *github.RateLimitError (a 403 with X-RateLimit-Remaining: 0): until
//     X-RateLimit-Reset, and a second more against clock skew;
//   - *github.AbuseRateLimitError (the secondary limit): its Retry-After,
//     else a minute, as GitHub advises;
//   - a 429, or a 403 naming a rate limit, that go-github did not
//     recognize (it only knows 403s): by Retry-After, or
//     X-RateLimit-Remaining: 0 and X-RateLimit-Reset, else a minute;
//   - the same when refreshing an installation token met one.
func rateLimitWait(err error, resp *github.Response) (time.Duration, string, bool) {
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return untilReset(rl.Rate.Reset.Time), "GitHub's rate limit is used up", true
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) {
		if ab.RetryAfter != nil {
			return max(*ab.RetryAfter, 0), "GitHub's secondary rate limit", true
		}
		return time.Minute, "GitHub's secondary rate limit", true
	}
	var r *http.Response
	msg := ""
	var er *github.ErrorResponse
	var he *ghinstallation.HTTPError
	switch {
	case errors.As(err, &er):
		r, msg = er.Response, er.Message
	case errors.As(err, &he):
		r = he.Response
	case resp != nil:
		r = resp.Response
	}
	if r == nil || (r.StatusCode != http.StatusTooManyRequests && r.StatusCode != http.StatusForbidden) {
		return 0, "", false
	}
	if d, ok := retryAfter(r.Header); ok {
		return d, "GitHub's rate limit", true
	}
	if r.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil && reset > 0 {
			return untilReset(time.Unix(reset, 0)), "GitHub's rate limit is used up", true
		}
		return time.Minute, "GitHub's rate limit is used up", true
	}
	if r.StatusCode == http.StatusTooManyRequests || strings.Contains(strings.ToLower(msg), "rate limit") {
		return time.Minute, "GitHub's rate limit", true
	}
	return 0, "", false
}

// untilReset is the wait until a primary rate limit's reset, a second
// past it.
func untilReset(reset time.Time) time.Duration {
	return max(time.Until(reset), 0) + time.Second
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// status returns the HTTP status of a GitHub error, or 0.
func status(err error) int {
	if r := errResponse(err); r != nil {
		return r.StatusCode
	}
	return 0
}

// errResponse returns the response a GitHub error carries, or nil.
func errResponse(err error) *http.Response {
	var er *github.ErrorResponse
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &er):
		return er.Response
	case errors.As(err, &rl):
		return rl.Response
	case errors.As(err, &ab):
		return ab.Response
	}
	return nil
}

// Permissions a target's hooks need, as errors name them.
const (
	repoHookPermission = `the "Webhooks" repository permission (read and write) for a fine-grained token or a GitHub App, or the admin:repo_hook scope for a classic token`
	orgHookPermission  = `the "Webhooks" organization permission (read and write) for a fine-grained token or a GitHub App, or the admin:org_hook scope for a classic token, held by an owner of the organization`
	listPermission     = `the "Metadata" repository permission (read) for a fine-grained token or a GitHub App, or the repo scope for a classic token to see private repositories`
)

// explain wraps an API error with what was done and where, and says what
// to do about the common ones: bad credentials, a missing permission, a
// target the credentials cannot see, GitHub's hook limit. t is zero for
// requests about no target.
func (p *Provider) explain(err error, t hooks.Target, op string) error {
	where := op
	if t.Name != "" {
		where = t.Kind + " " + t.Name + ": " + op
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", where, err)
	}
	var le *limitedError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", where, err)
	}
	var he *ghinstallation.HTTPError
	if errors.As(err, &he) {
		return fmt.Errorf("%s: the GitHub App %d's installation token could not be had (check the App id, its private key and the installation id): %w", where, p.appID, err)
	}
	r := errResponse(err)
	if r == nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	var er *github.ErrorResponse
	msg := ""
	if errors.As(err, &er) {
		msg = er.Message
	}
	who := "the token"
	if p.token == nil {
		who = "the GitHub App installation"
	}
	switch r.StatusCode {
	case http.StatusUnauthorized:
		hint := "the token is wrong, expired or revoked"
		if p.token == nil {
			hint = "the App id or private key is wrong, or the installation token was revoked"
		}
		return fmt.Errorf("%s: GitHub refused the credentials (401 %s): %s: %w", where, msg, hint, err)
	case http.StatusForbidden:
		need := listPermission
		switch t.Kind {
		case hooks.KindRepository:
			need = repoHookPermission
		case hooks.KindOrganization:
			need = orgHookPermission
		}
		extra := ""
		if v := r.Header.Get("X-Accepted-GitHub-Permissions"); v != "" {
			extra += "; GitHub asks for " + v
		}
		if v := r.Header.Get("X-Accepted-OAuth-Scopes"); v != "" {
			extra += "; GitHub accepts the scopes " + v
			if have := r.Header.Get("X-OAuth-Scopes"); have != "" {
				extra += " (the token has " + have + ")"
			}
		}
		return fmt.Errorf("%s: %s may not (403 %s): it needs %s%s: %w", where, who, msg, need, extra, err)
	case http.StatusNotFound:
		return fmt.Errorf("%s: not found, or %s cannot see it: %w", where, who, err)
	case http.StatusUnprocessableEntity:
		if op == opCreate && isLimit(er) {
			return fmt.Errorf("%s holds the most hooks GitHub allows (20 per event): %s: %w", t.Name, detail(er), hooks.ErrLimit)
		}
		return fmt.Errorf("%s: GitHub refused it (422 %s): %w", where, detail(er), err)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// isLimit reports whether a 422 is GitHub's hook limit: its message (or
// one of its errors') speaks of a limit, or says an event "cannot have
// more than 20 hooks", as github.com does.
func isLimit(er *github.ErrorResponse) bool {
	if er == nil {
		return false
	}
	texts := []string{er.Message}
	for _, e := range er.Errors {
		texts = append(texts, e.Message)
	}
	for _, s := range texts {
		s = strings.ToLower(s)
		if strings.Contains(s, "limit") || strings.Contains(s, "cannot have more than") {
			return true
		}
	}
	return false
}

// detail is a 422's message and its errors' messages.
func detail(er *github.ErrorResponse) string {
	if er == nil {
		return ""
	}
	parts := []string{er.Message}
	for _, e := range er.Errors {
		switch {
		case e.Message != "":
			parts = append(parts, e.Message)
		case e.Code != "":
			parts = append(parts, e.Field+" "+e.Code)
		}
	}
	return strings.Join(parts, ": ")
}
