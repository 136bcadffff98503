package gitea

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

// pageSize is the limit asked of every listing: Gitea's default
// [api] MAX_RESPONSE_ITEMS, which caps it.
const pageSize = 50

// Error is Gitea's answer to a request that failed.
type Error struct {
	// Method and Path are the request's, the path as sent (URL-encoded).
	Method string
	Path   string
	// StatusCode is the HTTP status Gitea answered.
	StatusCode int
	// Message is Gitea's message, secrets removed.
	Message string
}

// Error says what Gitea answered and, for a 401, what to check.
func (e *Error) Error() string {
	msg := fmt.Sprintf("Gitea answered %s %s with %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.StatusCode == http.StatusUnauthorized {
		msg += " (the token is invalid, expired or revoked)"
	}
	return msg
}

// statusOf returns the HTTP status of a Gitea error, or 0.
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
// "Authorization: token …"; errors never hold it, nor secret.
func (p *Provider) do(ctx context.Context, method, rawURL string, in, out any, secret []byte) (http.Header, error) {
	c := &restapi.Client{
		HTTP: p.client, Service: "Gitea", Label: p.name,
		Prepare: func(req *http.Request) { req.Header.Set("Authorization", "token "+p.token) },
		Secrets: []string{p.token}, Retries: p.retries, Now: p.now,
		Fail: func(method, path string, status int, body []byte, redact func(string) string) error {
			return &Error{Method: method, Path: path, StatusCode: status, Message: redact(message(body))}
		},
	}
	return c.Do(ctx, method, rawURL, in, out, secret)
}

// message returns Gitea's message in an error's body ({"message": …,
// "errors": […]}), or the text itself, shortened.
func message(data []byte) string {
	var body struct {
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	if err := json.Unmarshal(data, &body); err == nil && (body.Message != "" || len(body.Errors) > 0) {
		return restapi.Shorten(strings.Join(append([]string{body.Message}, body.Errors...), "; "), "; ")
	}
	return restapi.Shorten(string(data), "; ")
}

// each reads every page of a listing at path, limit=50 a page: until
// X-Total-Count items were read, or a page is empty (Gitea may cap the
// limit lower, so a short page does not end it).
func (p *Provider) each(ctx context.Context, what, path string, query url.Values, f func(json.RawMessage) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("limit", strconv.Itoa(pageSize))
	seen := 0
	for page := 1; ; page++ {
		if page > restapi.MaxPages {
			return fmt.Errorf("%s: more than %d pages", what, restapi.MaxPages)
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
		if total, err := strconv.Atoi(h.Get("X-Total-Count")); err == nil && seen >= total {
			return nil
		}
	}
}
