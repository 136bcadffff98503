package bitbucket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/reflexops/reflex/hooks"
	"github.com/reflexops/reflex/hooks/restapi"
)

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

// do sends one request through restapi.Client.Do, with the credentials
// authorize sets; errors never hold them, nor secret.
func (p *Provider) do(ctx context.Context, method, rawURL string, in, out any, secret []byte) (http.Header, error) {
	c := &restapi.Client{
		HTTP: p.client, Service: "Bitbucket", Label: p.name, Limit: "the rate limit of Bitbucket",
		Prepare: p.authorize, Secrets: []string{p.token, p.accessToken}, Retries: p.retries, Now: p.now,
		Fail: func(method, path string, status int, body []byte, redact func(string) string) error {
			return &Error{Method: method, Path: path, StatusCode: status, Message: redact(message(body))}
		},
	}
	return c.Do(ctx, method, rawURL, in, out, secret)
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
		for _, k := range slices.Sorted(maps.Keys(body.Error.Fields)) {
			parts = append(parts, k+": "+strings.Join(body.Error.Fields[k], ", "))
		}
		return restapi.Shorten(strings.Join(parts, "; "), "; ")
	}
	return restapi.Shorten(string(data), "; ")
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
		if n > restapi.MaxPages {
			return fmt.Errorf("%s: more than %d pages", what, restapi.MaxPages)
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
