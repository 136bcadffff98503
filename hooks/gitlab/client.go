package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/restapi"
)

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
	return restapi.JoinURL(p.base, path, query)
}

// do sends one request through restapi.Client.Do, with the token as
// PRIVATE-TOKEN; errors never hold it, nor secret. Only RateLimit-Reset
// tells when GitLab's rate limit ends.
func (p *Provider) do(ctx context.Context, method, rawURL string, in, out any, secret []byte) (http.Header, error) {
	c := &restapi.Client{
		HTTP: p.client, Service: "GitLab", Label: "gitlab", Limit: "GitLab's rate limit",
		Prepare:      func(req *http.Request) { req.Header.Set("PRIVATE-TOKEN", p.token) },
		Secrets:      []string{p.token},
		ResetHeaders: []string{"RateLimit-Reset"},
		Retries:      p.retries, Now: p.now,
		Fail: func(method, path string, status int, body []byte, redact func(string) string) error {
			return &Error{Method: method, Path: path, StatusCode: status, Message: redact(message(body))}
		},
	}
	return c.Do(ctx, method, rawURL, in, out, secret)
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
				return restapi.Shorten(s, "")
			}
			return restapi.Shorten(string(body.Message), "")
		}
		if body.Error != "" {
			return restapi.Shorten(body.Error+": "+body.Description, "")
		}
	}
	return restapi.Shorten(string(data), "")
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
		if n > restapi.MaxPages {
			return fmt.Errorf("%s: more than %d pages", what, restapi.MaxPages)
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
		link, _ := restapi.NextLink(h.Values("Link"))
		if link == "" || len(items) == 0 {
			return nil
		}
		if !strings.HasPrefix(link, p.base+"/") {
			return fmt.Errorf("%s: GitLab's next page %q is not on %s", what, restapi.PathOf(link), p.base)
		}
		if link == next {
			return fmt.Errorf("%s: GitLab's next page is the page just read", what)
		}
		next = link
	}
}
