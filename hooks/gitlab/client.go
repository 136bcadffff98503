package gitlab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/hooks"
)

// maxBody bounds the answer read from one request.
const maxBody = 8 << 20

// maxPages bounds the pages one listing reads.
const maxPages = 10000

// Error is GitLab's answer to a request that failed.
type Error struct {
	// Method and Path are the request's, the path as sent (URL-encoded).
	Method string
	Path   string
	// StatusCode is the HTTP status GitLab answered.
	StatusCode int
	// Message is GitLab's message, secrets removed.
	Message string
}

// Error says what GitLab answered and, for 401 and 403, what to check.
func (e *Error) Error() string {
	msg := fmt.Sprintf("GitLab answered %s %s with %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		msg += " (the token is invalid, expired or revoked)"
	case http.StatusForbidden:
		msg += " (the token needs the api scope, and its user the Maintainer role on the project or the Owner role on the group)"
	}
	return msg
}

// statusOf returns the HTTP status of a GitLab error, or 0.
func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// apiURL returns the URL of an API path (already escaped) and query.
func (p *Provider) apiURL(path string, query url.Values) string {
	u := p.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// do sends one request to rawURL (one of the API's) with in as its JSON
// body, decodes a successful answer into out, and returns the answer's
// headers. It waits out rate limits (a 429, or a 403 with Retry-After)
// through hooks.WaitFor and retries, at most p.retries times. Errors
// never hold the token, nor secret (the hook's, when one is sent).
func (p *Provider) do(ctx context.Context, method, rawURL string, in, out any, secret []byte) (http.Header, error) {
	path := pathOf(rawURL)
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %s", method, path, p.redact(err.Error(), secret))
		}
		req.Header.Set("PRIVATE-TOKEN", p.token)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "reflex-hooks")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := p.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
			}
			return nil, fmt.Errorf("%s %s: %s", method, path, p.redact(err.Error(), secret))
		}
		data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		_ = resp.Body.Close()
		if wait, limited := rateLimitWait(resp, attempt, p.now()); limited {
			if attempt >= p.retries {
				return nil, fmt.Errorf("GitLab's rate limit, still after %d waits: %w", p.retries, p.apiError(method, path, resp.StatusCode, data, secret))
			}
			if err := hooks.WaitFor(ctx, wait, fmt.Sprintf("gitlab: %s %s: rate limited", method, path)); err != nil {
				return nil, fmt.Errorf("%s %s: rate limited: %w", method, path, err)
			}
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return resp.Header, p.apiError(method, path, resp.StatusCode, data, secret)
		}
		if readErr != nil {
			return nil, fmt.Errorf("%s %s: read the answer: %w", method, path, readErr)
		}
		if out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return nil, fmt.Errorf("%s %s: decode GitLab's answer: %w", method, path, err)
			}
		}
		return resp.Header, nil
	}
}

// pathOf returns the path of rawURL as sent, for errors.
func pathOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "?"
	}
	return u.EscapedPath()
}

// apiError builds the Error of a failed answer.
func (p *Provider) apiError(method, path string, status int, data []byte, secret []byte) *Error {
	return &Error{Method: method, Path: path, StatusCode: status, Message: p.redact(message(data), secret)}
}

// message returns GitLab's message in an error's body: {"message": …}
// (a string, or an object of field errors), {"error": …,
// "error_description": …}, or the text itself, shortened.
func message(data []byte) string {
	var body struct {
		Message     json.RawMessage `json:"message"`
		Error       string          `json:"error"`
		Description string          `json:"error_description"`
	}
	if err := json.Unmarshal(data, &body); err == nil {
		if len(body.Message) > 0 && string(body.Message) != "null" {
			var s string
			if json.Unmarshal(body.Message, &s) == nil {
				return shorten(s)
			}
			return shorten(string(body.Message))
		}
		if body.Error != "" {
			return shorten(strings.TrimSpace(body.Error + ": " + body.Description))
		}
	}
	return shorten(strings.TrimSpace(string(data)))
}

// shorten bounds a message's length.
func shorten(s string) string {
	const max = 500
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// redact removes the token and a secret from a message.
func (p *Provider) redact(s string, secret []byte) string {
	if p.token != "" {
		s = strings.ReplaceAll(s, p.token, "[REDACTED]")
	}
	if len(secret) > 0 {
		s = strings.ReplaceAll(s, string(secret), "[REDACTED]")
	}
	return s
}

// rateLimitWait says whether an answer is GitLab's rate limit, and how
// long to wait before retrying: a 429, or a 403 with Retry-After, waits
// Retry-After (seconds or an HTTP date), else until RateLimit-Reset (Unix
// seconds, as GitLab sends it, or seconds from now when small), else 1s,
// 2s, 4s… by attempt.
func rateLimitWait(resp *http.Response, attempt int, now time.Time) (time.Duration, bool) {
	h := resp.Header
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
	case resp.StatusCode == http.StatusForbidden && h.Get("Retry-After") != "":
	default:
		return 0, false
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
			return time.Duration(s) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), time.Second), true
		}
	}
	if s, err := strconv.ParseInt(strings.TrimSpace(h.Get("RateLimit-Reset")), 10, 64); err == nil && s > 0 {
		if s < 1e9 { // seconds from now, as a proxy may say it
			return time.Duration(s) * time.Second, true
		}
		return max(time.Unix(s, 0).Sub(now), time.Second), true
	}
	return time.Second << min(attempt, 6), true
}

// each reads every page of a listing at path: per_page=100, the next
// page from X-Next-Page, else from the Link header's rel="next" (which
// must stay on the API's base URL). Each page's items go to f.
func (p *Provider) each(ctx context.Context, what, path string, query url.Values, f func(json.RawMessage) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("per_page", "100")
	q.Set("page", "1")
	next := p.apiURL(path, q)
	page := 1
	for n := 1; ; n++ {
		if n > maxPages {
			return fmt.Errorf("%s: more than %d pages", what, maxPages)
		}
		if n > 1 {
			hooks.Report(ctx, "gitlab: %s: page %d", what, n)
		}
		var items []json.RawMessage
		h, err := p.do(ctx, http.MethodGet, next, nil, &items, nil)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := f(it); err != nil {
				return err
			}
		}
		if v := strings.TrimSpace(h.Get("X-Next-Page")); v != "" {
			np, err := strconv.Atoi(v)
			if err != nil || np <= page {
				return fmt.Errorf("%s: GitLab's X-Next-Page %q does not follow page %d", what, v, page)
			}
			page = np
			q.Set("page", v)
			next = p.apiURL(path, q)
			continue
		}
		link := nextLink(h.Values("Link"))
		if link == "" || len(items) == 0 {
			return nil
		}
		if !strings.HasPrefix(link, p.base+"/") {
			return fmt.Errorf("%s: GitLab's next page %q is not on %s", what, pathOf(link), p.base)
		}
		if link == next {
			return fmt.Errorf("%s: GitLab's next page is the page just read", what)
		}
		next = link
	}
}

// nextLink returns the rel="next" URL of Link headers, or "".
func nextLink(links []string) string {
	for _, header := range links {
		for _, part := range strings.Split(header, ",") {
			target, params, ok := strings.Cut(part, ";")
			if !ok {
				continue
			}
			for _, param := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
				if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
					return strings.Trim(strings.TrimSpace(target), "<>")
				}
			}
		}
	}
	return ""
}

// sameHost refuses a redirect to another host or scheme, which would
// carry the token away, and a redirect of anything but a GET.
func sameHost(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	first := via[0]
	if req.URL.Scheme != first.URL.Scheme || !strings.EqualFold(req.URL.Host, first.URL.Host) {
		return fmt.Errorf("refused a redirect to %s://%s: the token goes to %s only", req.URL.Scheme, req.URL.Host, first.URL.Host)
	}
	if first.Method != http.MethodGet {
		return fmt.Errorf("refused to follow a redirect of a %s", first.Method)
	}
	return nil
}

// loopback reports whether host is this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
