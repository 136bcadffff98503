package harbor

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

// pageSize is the page_size asked of every listing: Harbor's maximum.
const pageSize = 100

// Error is Harbor's answer to a request that failed.
type Error struct {
	// Method and Path are the request's, the path as sent (URL-encoded).
	Method string
	Path   string
	// StatusCode is the HTTP status Harbor answered.
	StatusCode int
	// Code is the code of Harbor's first error ("FORBIDDEN",
	// "CONFLICT", …), when it gave one.
	Code string
	// Message is Harbor's message, secrets removed.
	Message string
}

// Error says what Harbor answered and, for a 401, what to check.
func (e *Error) Error() string {
	msg := fmt.Sprintf("Harbor answered %s %s with %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.StatusCode == http.StatusUnauthorized {
		msg += " (the username or password is wrong, or the robot account is disabled or expired; a robot's username is robot$<name>, as Harbor shows it)"
	}
	return msg
}

// statusOf returns the HTTP status of a Harbor error, or 0.
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
// headers. A request on a project (…/projects/{name}/…) says that the
// project is named, with X-Is-Resource-Name. It waits out rate limits (a
// 429, or a 403 with Retry-After) through hooks.WaitFor and retries, at
// most p.retries times. Errors never hold the password, nor secret (the
// hook's, when one is sent).
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
		req.SetBasicAuth(p.username, p.password)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "reflex-hooks")
		if strings.HasPrefix(path, p.prefix+"/api/v2.0/projects/") {
			req.Header.Set("X-Is-Resource-Name", "true")
		}
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
				return nil, fmt.Errorf("the rate limit, still after %d waits: %w", p.retries, p.apiError(method, path, resp.StatusCode, data, secret))
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
				return nil, fmt.Errorf("%s %s: decode Harbor's answer: %w", method, path, err)
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
	code, msg := message(data)
	return &Error{Method: method, Path: path, StatusCode: status, Code: code, Message: p.redact(msg, secret)}
}

// message returns the code and the messages of Harbor's error body
// ({"errors": [{"code": …, "message": …}]}), or the text itself,
// shortened.
func message(data []byte) (string, string) {
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(data, &body); err == nil && len(body.Errors) > 0 {
		msgs := make([]string, 0, len(body.Errors))
		for _, e := range body.Errors {
			msgs = append(msgs, strings.TrimSpace(e.Code+": "+e.Message))
		}
		return body.Errors[0].Code, shorten(strings.Join(msgs, "; "))
	}
	return "", shorten(strings.TrimSpace(string(data)))
}

// shorten bounds a message's length.
func shorten(s string) string {
	const max = 500
	s = strings.Trim(strings.Join(strings.Fields(s), " "), "; :")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// redact removes the password and a secret from a message.
func (p *Provider) redact(s string, secret []byte) string {
	if p.password != "" {
		s = strings.ReplaceAll(s, p.password, "[REDACTED]")
	}
	if len(secret) > 0 {
		s = strings.ReplaceAll(s, string(secret), "[REDACTED]")
	}
	return s
}

// rateLimitWait says whether an answer is a rate limit (Harbor has none
// of its own; a proxy in front of it may), and how long to wait before
// retrying: a 429, or a 403 with Retry-After, waits Retry-After (seconds
// or an HTTP date), else until RateLimit-Reset or X-RateLimit-Reset (Unix
// seconds, or seconds from now when small), else 1s, 2s, 4s… by attempt.
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

// each reads every page of a listing at path, page_size=100 a page,
// numbering the pages itself (Harbor's Link header is relative to the
// request Harbor saw, which a proxy with a path prefix changes): it reads
// on while the Link header has a rel="next" or fewer than X-Total-Count
// items were read, and stops at an empty page.
func (p *Provider) each(ctx context.Context, what, path string, query url.Values, f func(json.RawMessage) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("page_size", strconv.Itoa(pageSize))
	seen := 0
	for page := 1; ; page++ {
		if page > maxPages {
			return fmt.Errorf("%s: more than %d pages", what, maxPages)
		}
		if page > 1 {
			hooks.Report(ctx, "%s: %s: page %d", p.name, what, page)
		}
		q.Set("page", strconv.Itoa(page))
		var items []json.RawMessage
		h, err := p.do(ctx, http.MethodGet, p.apiURL(path, q), nil, &items, nil)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := f(it); err != nil {
				return err
			}
		}
		seen += len(items)
		if len(items) == 0 {
			return nil
		}
		total, totalErr := strconv.Atoi(strings.TrimSpace(h.Get("X-Total-Count")))
		links := h.Values("Link")
		switch {
		case hasNext(links):
		case totalErr == nil && seen < total:
		case totalErr != nil && len(links) == 0 && len(items) >= pageSize:
		default:
			return nil
		}
	}
}

// hasNext reports whether Link headers have a rel="next".
func hasNext(links []string) bool {
	for _, header := range links {
		for _, part := range strings.Split(header, ",") {
			_, params, ok := strings.Cut(part, ";")
			if !ok {
				continue
			}
			for _, param := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
				if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
					return true
				}
			}
		}
	}
	return false
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
