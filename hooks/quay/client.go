package quay

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

// Error is Quay's answer to a request that failed.
type Error struct {
	// Method and Path are the request's, the path as sent (URL-encoded).
	Method string
	Path   string
	// StatusCode is the HTTP status Quay answered.
	StatusCode int
	// Type is Quay's error_type ("invalid_token", "insufficient_scope",
	// "invalid_request", …), when it gave one.
	Type string
	// Message is Quay's message, secrets removed.
	Message string
}

// Error says what Quay answered and, for a 401, what to check.
func (e *Error) Error() string {
	msg := fmt.Sprintf("Quay answered %s %s with %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.StatusCode == http.StatusUnauthorized {
		msg += " (the token is invalid, expired or revoked)"
	}
	return msg
}

// statusOf returns the HTTP status of a Quay error, or 0.
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
// never hold the token, nor secret (the hook's, as it is and as it
// travels in a URL, when one is sent).
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
		req.Header.Set("Authorization", "Bearer "+p.token)
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
				return nil, fmt.Errorf("%s %s: decode Quay's answer: %w", method, path, err)
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
	typ, msg := message(data)
	return &Error{Method: method, Path: path, StatusCode: status, Type: typ, Message: p.redact(msg, secret)}
}

// message returns the type and message of Quay's error body (an RFC
// 7807 problem: {"title", "detail", "error_message", "error_type"}, or
// {"message"} or {"error", "error_description"}), or the text itself,
// shortened.
func message(data []byte) (string, string) {
	var body struct {
		Detail       string `json:"detail"`
		ErrorMessage string `json:"error_message"`
		ErrorType    string `json:"error_type"`
		Message      string `json:"message"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	if err := json.Unmarshal(data, &body); err == nil {
		typ := body.ErrorType
		if typ == "" {
			typ = body.Error
		}
		for _, m := range []string{body.ErrorMessage, body.Detail, body.Message, body.Description, body.Error} {
			if m != "" {
				if typ != "" && typ != m {
					m = typ + ": " + m
				}
				return typ, shorten(m)
			}
		}
	}
	return "", shorten(strings.TrimSpace(string(data)))
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

// redact removes the token and a secret (as it is, and path-escaped)
// from a message.
func (p *Provider) redact(s string, secret []byte) string {
	if p.token != "" {
		s = strings.ReplaceAll(s, p.token, "[REDACTED]")
	}
	if len(secret) > 0 {
		s = strings.ReplaceAll(s, string(secret), "[REDACTED]")
		s = strings.ReplaceAll(s, url.PathEscape(string(secret)), "[REDACTED]")
	}
	return s
}

// rateLimitWait says whether an answer is a rate limit (quay.io answers
// 429 to a client over its request rate), and how long to wait before
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
