package bitbucket

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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/hooks"
)

// maxBody bounds the answer read from one request.
const maxBody = 8 << 20

// maxPages bounds the pages one listing reads.
const maxPages = 10000

// pageLen is the page length every listing asks for: the most
// Bitbucket's paginated endpoints allow.
const pageLen = "100"

// Error is Bitbucket's answer to a request that failed.
type Error struct {
	// Method and Path are the request's, the path as sent (URL-encoded).
	Method string
	Path   string
	// StatusCode is the HTTP status Bitbucket answered.
	StatusCode int
	// Message is Bitbucket's message, credentials and secrets removed.
	Message string
}

// Error says what Bitbucket answered.
func (e *Error) Error() string {
	msg := fmt.Sprintf("Bitbucket answered %s %s with %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// statusOf returns the HTTP status of a Bitbucket error, or 0.
func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// authorize sets a request's credentials.
func (p *Provider) authorize(req *http.Request) {
	if p.accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+p.accessToken)
		return
	}
	req.SetBasicAuth(p.username, p.token)
}

// do sends one request to rawURL (one of the API's) with in as its JSON
// body, decodes a successful answer into out, and returns the answer's
// headers. It waits out rate limits (a 429, or a 403 with Retry-After)
// through hooks.WaitFor and retries, at most p.retries times. Errors
// never hold the credentials, nor secret (the hook's, when one is sent).
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
		p.authorize(req)
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
				return nil, fmt.Errorf("the rate limit of Bitbucket, still after %d waits: %w", p.retries, p.apiError(method, path, resp.StatusCode, data, secret))
			}
			if err := hooks.WaitFor(ctx, wait, fmt.Sprintf("%s: %s %s: rate limited", p.name, method, path)); err != nil {
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
				return nil, fmt.Errorf("%s %s: decode Bitbucket's answer: %w", method, path, err)
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

// message returns Bitbucket's message in an error's body ({"type":
// "error", "error": {"message": …, "detail": …, "fields": {…}}}), or the
// text itself, shortened.
func message(data []byte) string {
	var body struct {
		Error struct {
			Message string              `json:"message"`
			Detail  string              `json:"detail"`
			Fields  map[string][]string `json:"fields"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &body); err == nil && (body.Error.Message != "" || body.Error.Detail != "") {
		parts := []string{body.Error.Message, body.Error.Detail}
		for _, k := range sortedKeys(body.Error.Fields) {
			parts = append(parts, k+": "+strings.Join(body.Error.Fields[k], ", "))
		}
		return shorten(strings.Join(parts, "; "))
	}
	return shorten(strings.TrimSpace(string(data)))
}

// shorten bounds a message's length.
func shorten(s string) string {
	const max = 500
	s = strings.Trim(strings.Join(strings.Fields(s), " "), "; ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// redact removes the credentials and a secret from a message.
func (p *Provider) redact(s string, secret []byte) string {
	for _, v := range []string{p.token, p.accessToken, string(secret)} {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
		}
	}
	return s
}

// rateLimitWait says whether an answer is a rate limit, and how long to
// wait before retrying: a 429 (Bitbucket's "Rate limit for this resource
// has been exceeded"), or a 403 with Retry-After, waits Retry-After
// (seconds or an HTTP date), else until RateLimit-Reset or
// X-RateLimit-Reset (Unix seconds, or seconds from now when small), else
// 1s, 2s, 4s… by attempt.
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
	for _, k := range []string{"RateLimit-Reset", "X-RateLimit-Reset"} {
		s, err := strconv.ParseInt(strings.TrimSpace(h.Get(k)), 10, 64)
		switch {
		case err != nil || s <= 0:
		case s < 1e9:
			return time.Duration(s) * time.Second, true
		default:
			return max(time.Unix(s, 0).Sub(now), time.Second), true
		}
	}
	return time.Second << min(attempt, 6), true
}

// page is one page of a Bitbucket listing.
type page struct {
	Values []json.RawMessage `json:"values"`
	Next   string            `json:"next"`
}

// each reads every page of a listing at path (escaped, after the base
// URL), pagelen=100, following each page's "next" URL while it stays on
// the API's base URL. Each page's values go to f.
func (p *Provider) each(ctx context.Context, what, path string, f func(json.RawMessage) error) error {
	next := p.base + path + "?" + url.Values{"pagelen": {pageLen}}.Encode()
	seen := map[string]bool{}
	for n := 1; ; n++ {
		if n > maxPages {
			return fmt.Errorf("%s: more than %d pages", what, maxPages)
		}
		if n > 1 {
			hooks.Report(ctx, "%s: %s: page %d", p.name, what, n)
		}
		seen[next] = true
		var pg page
		if _, err := p.do(ctx, http.MethodGet, next, nil, &pg, nil); err != nil {
			return err
		}
		for _, v := range pg.Values {
			if err := f(v); err != nil {
				return err
			}
		}
		if pg.Next == "" {
			return nil
		}
		if err := p.onAPI(pg.Next); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if seen[pg.Next] {
			return fmt.Errorf("%s: the next page Bitbucket gave is one already read", what)
		}
		next = pg.Next
	}
}

// onAPI checks that a URL Bitbucket gave (a next page) is on the API's
// base URL: the same scheme and host, under its path. Any other would
// receive the credentials.
func (p *Provider) onAPI(raw string) error {
	u, err := url.Parse(raw)
	if err == nil && u.User == nil && u.Fragment == "" && strings.HasPrefix(u.Scheme+"://"+u.Host+u.EscapedPath(), p.base+"/") {
		b, _ := url.Parse(p.base)
		if strings.EqualFold(u.Host, b.Host) && u.Scheme == b.Scheme {
			return nil
		}
	}
	redacted := "?"
	if err == nil {
		redacted = u.Scheme + "://" + u.Host + u.EscapedPath()
	}
	return fmt.Errorf("the next page Bitbucket gave, %s, is not on %s: not followed", redacted, p.base)
}

// sameHost refuses a redirect to another host or scheme, which would
// carry the credentials away, and a redirect of anything but a GET.
func sameHost(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	first := via[0]
	if req.URL.Scheme != first.URL.Scheme || !strings.EqualFold(req.URL.Host, first.URL.Host) {
		return fmt.Errorf("refused a redirect to %s://%s: the credentials go to %s only", req.URL.Scheme, req.URL.Host, first.URL.Host)
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

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
