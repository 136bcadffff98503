package harbor

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
	return restapi.JoinURL(p.base, path, query)
}

// do sends one request through restapi.Client.Do, with the username and
// password (HTTP Basic); errors never hold the password, nor secret. A
// request on a project (…/projects/{name}/…) says that the project is
// named, with X-Is-Resource-Name.
func (p *Provider) do(ctx context.Context, method, rawURL string, in, out any, secret []byte) (http.Header, error) {
	c := &restapi.Client{
		HTTP: p.client, Service: "Harbor", Label: p.name,
		Prepare: func(req *http.Request) {
			req.SetBasicAuth(p.username, p.password)
			if strings.HasPrefix(req.URL.EscapedPath(), p.prefix+"/api/v2.0/projects/") {
				req.Header.Set("X-Is-Resource-Name", "true")
			}
		},
		Secrets: []string{p.password}, Retries: p.retries, Now: p.now,
		Fail: func(method, path string, status int, body []byte, redact func(string) string) error {
			code, msg := message(body)
			return &Error{Method: method, Path: path, StatusCode: status, Code: code, Message: redact(msg)}
		},
	}
	return c.Do(ctx, method, rawURL, in, out, secret)
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
		return body.Errors[0].Code, restapi.Shorten(strings.Join(msgs, "; "), "; :")
	}
	return "", restapi.Shorten(string(data), "; :")
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
	_, ok := restapi.NextLink(links)
	return ok
}
