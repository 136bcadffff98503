// Package restapi is the HTTP client the hook providers share: JSON
// requests with a timeout, an authorization header, rate limits waited out
// (hooks.WaitFor), redirects followed only on the same host for GETs, and
// errors that name the status and the provider's message and never a
// credential.
package restapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/internal/loopback"
)

// MaxBody bounds the answer read from one request.
const MaxBody = 8 << 20

// MaxPages bounds the pages one listing reads.
const MaxPages = 10000

// Credential names what a provider sends to its API, in messages.
type Credential string

// The credentials a provider sends.
const (
	// Token is a single token.
	Token Credential = "the token"
	// Credentials are a username and a password, or any of several.
	Credentials Credential = "the credentials"
)

// goes returns the credential with "goes" or "go" after it.
func (c Credential) goes() string {
	if c == Token {
		return string(c) + " goes"
	}
	return string(c) + " go"
}

// Client sends a provider's requests. A provider builds one for each
// request from its fields, so that tests may change them after New.
type Client struct {
	// HTTP sends the requests; NewHTTPClient makes one.
	HTTP *http.Client
	// Service is the provider's name in errors, e.g. "Gitea".
	Service string
	// Label starts the lines rate-limit waits report, e.g. "gitea".
	Label string
	// Limit names the rate limit in the error of a request still limited
	// after Retries waits. Default: "the rate limit".
	Limit string
	// Prepare sets a request's credentials, and any header of the
	// provider's own.
	Prepare func(req *http.Request)
	// Secrets are the credentials removed from every message.
	Secrets []string
	// EscapedSecret removes a hook's secret path-escaped too, for
	// providers that carry it in a URL.
	EscapedSecret bool
	// ResetHeaders are the headers read, in order, for when a rate limit
	// ends. Default: RateLimit-Reset, then X-RateLimit-Reset.
	ResetHeaders []string
	// Retries bounds the rate-limit waits of one request.
	Retries int
	// Now tells the time, to read an HTTP date. Default: time.Now.
	Now func() time.Time
	// Fail builds the error of a failed answer from its status and body;
	// redact removes the credentials and secrets from a message.
	Fail func(method, path string, status int, body []byte, redact func(string) string) error
}

// JoinURL returns the URL of an API path (already escaped) and query.
func JoinURL(base, path string, query url.Values) string {
	u := base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// Do sends one request to rawURL (one of the API's) with in as its JSON
// body, decodes a successful answer into out, and returns the answer's
// headers, also with the error of a failed answer. It waits out rate
// limits (a 429, or a 403 with Retry-After) through hooks.WaitFor and
// retries, at most c.Retries times. Errors never hold the credentials,
// nor secret (the hook's, when one is sent).
func (c *Client) Do(ctx context.Context, method, rawURL string, in, out any, secret []byte) (http.Header, error) {
	path := PathOf(rawURL)
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %s", method, path, c.Redact(err.Error(), secret))
		}
		if c.Prepare != nil {
			c.Prepare(req)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "reflex-hooks")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
			}
			return nil, fmt.Errorf("%s %s: %s", method, path, c.Redact(err.Error(), secret))
		}
		data, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
		_ = resp.Body.Close()
		if wait, limited := RateLimitWait(resp, attempt, now(), c.ResetHeaders...); limited {
			if attempt >= c.Retries {
				limit := c.Limit
				if limit == "" {
					limit = "the rate limit"
				}
				return nil, fmt.Errorf("%s, still after %d waits: %w", limit, c.Retries, c.fail(method, path, resp.StatusCode, data, secret))
			}
			if err := hooks.WaitFor(ctx, wait, fmt.Sprintf("%s: %s %s: rate limited", c.Label, method, path)); err != nil {
				return nil, fmt.Errorf("%s %s: rate limited: %w", method, path, err)
			}
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return resp.Header, c.fail(method, path, resp.StatusCode, data, secret)
		}
		if readErr != nil {
			return nil, fmt.Errorf("%s %s: read the answer: %w", method, path, readErr)
		}
		if out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return nil, fmt.Errorf("%s %s: decode %s's answer: %w", method, path, c.Service, err)
			}
		}
		return resp.Header, nil
	}
}

// fail builds the error of a failed answer, through c.Fail when set.
func (c *Client) fail(method, path string, status int, data, secret []byte) error {
	redact := func(s string) string { return c.Redact(s, secret) }
	if c.Fail != nil {
		return c.Fail(method, path, status, data, redact)
	}
	return &Error{Service: c.Service, Method: method, Path: path, StatusCode: status, Message: redact(Shorten(string(data), ""))}
}

// Redact removes the credentials and a secret from a message.
func (c *Client) Redact(s string, secret []byte) string {
	for _, v := range c.Secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
		}
	}
	if len(secret) > 0 {
		s = strings.ReplaceAll(s, string(secret), "[REDACTED]")
		if c.EscapedSecret {
			s = strings.ReplaceAll(s, url.PathEscape(string(secret)), "[REDACTED]")
		}
	}
	return s
}

// Error is the answer to a request that failed, for a provider that
// builds no error of its own (Client.Fail unset).
type Error struct {
	// Service is the provider's name, e.g. "Gitea".
	Service string
	// Method and Path are the request's, the path as sent (URL-encoded).
	Method string
	Path   string
	// StatusCode is the HTTP status answered.
	StatusCode int
	// Message is the answer's body, shortened, secrets removed.
	Message string
}

// Error says what the service answered.
func (e *Error) Error() string {
	msg := fmt.Sprintf("%s answered %s %s with %d %s", e.Service, e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// PathOf returns the path of rawURL as sent, for errors.
func PathOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "?"
	}
	return u.EscapedPath()
}

// Shorten collapses white space in a message, trims the characters of
// cutset from its ends, and bounds its length.
func Shorten(s, cutset string) string {
	const max = 500
	s = strings.Join(strings.Fields(s), " ")
	if cutset != "" {
		s = strings.Trim(s, cutset)
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// RateLimitWait says whether an answer is a rate limit, and how long to
// wait before retrying: a 429, or a 403 with Retry-After, waits
// Retry-After (seconds or an HTTP date), else until the first of
// resetHeaders that holds a time (Unix seconds, or seconds from now when
// small; default RateLimit-Reset, then X-RateLimit-Reset), else 1s, 2s,
// 4s… by attempt.
func RateLimitWait(resp *http.Response, attempt int, now time.Time, resetHeaders ...string) (time.Duration, bool) {
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
	if len(resetHeaders) == 0 {
		resetHeaders = []string{"RateLimit-Reset", "X-RateLimit-Reset"}
	}
	for _, k := range resetHeaders {
		s, err := strconv.ParseInt(strings.TrimSpace(h.Get(k)), 10, 64)
		switch {
		case err != nil || s <= 0:
		case s < 1e9: // seconds from now, as a proxy may say it
			return time.Duration(s) * time.Second, true
		default:
			return max(time.Unix(s, 0).Sub(now), time.Second), true
		}
	}
	return time.Second << min(attempt, 6), true
}

// NextLink returns the target of the rel="next" link of Link headers,
// and whether there is one.
func NextLink(links []string) (string, bool) {
	for _, header := range links {
		for _, part := range strings.Split(header, ",") {
			target, params, ok := strings.Cut(part, ";")
			if !ok {
				continue
			}
			for _, param := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
				if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
					return strings.Trim(strings.TrimSpace(target), "<>"), true
				}
			}
		}
	}
	return "", false
}

// SameHost returns the redirect policy of a client that sends cred: it
// refuses a redirect to another host or scheme, which would carry cred
// away, a redirect of anything but a GET, and a sixth redirect.
func SameHost(cred Credential) func(req *http.Request, via []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		first := via[0]
		if req.URL.Scheme != first.URL.Scheme || !strings.EqualFold(req.URL.Host, first.URL.Host) {
			return fmt.Errorf("refused a redirect to %s://%s: %s to %s only", req.URL.Scheme, req.URL.Host, cred.goes(), first.URL.Host)
		}
		if first.Method != http.MethodGet {
			return fmt.Errorf("refused to follow a redirect of a %s", first.Method)
		}
		return nil
	}
}

// NewHTTPClient returns a copy of from (or a new client) whose redirects
// follow SameHost(cred), with timeout as its Timeout, else from's, else
// def.
func NewHTTPClient(from *http.Client, timeout, def time.Duration, cred Credential) *http.Client {
	c := &http.Client{}
	if from != nil {
		*c = *from
	}
	c.CheckRedirect = SameHost(cred)
	if timeout > 0 {
		c.Timeout = timeout
	}
	if c.Timeout <= 0 {
		c.Timeout = def
	}
	return c
}

// Retries returns the rate-limit waits of Options.Retries n: def when
// zero, none when negative.
func Retries(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

// ParseBase parses and checks an instance's base URL: http(s), with a
// host, and no user, query or fragment; plain http only on a loopback
// host, since cred would cross the network unencrypted. example is a URL
// such as the errors show.
func ParseBase(raw, example string, cred Credential) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the base URL %q is not an http(s) URL such as %s", raw, example)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback.Host(u.Hostname()) {
			return nil, fmt.Errorf("the base URL %q is plain http: %s would cross the network unencrypted", raw, cred)
		}
	default:
		return nil, fmt.Errorf("the base URL %q is not an http(s) URL such as %s", raw, example)
	}
	return u, nil
}
