package quay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/reflexops/reflex/hooks/restapi"
)

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
	return restapi.JoinURL(p.base, path, query)
}

// do sends one request through restapi.Client.Do, with the token as
// "Authorization: Bearer …"; errors never hold it, nor secret (as it is
// and as it travels in a URL).
func (p *Provider) do(ctx context.Context, method, rawURL string, in, out any, secret []byte) (http.Header, error) {
	c := &restapi.Client{
		HTTP: p.client, Service: "Quay", Label: p.name,
		Prepare: func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+p.token) },
		Secrets: []string{p.token}, EscapedSecret: true, Retries: p.retries, Now: p.now,
		Fail: func(method, path string, status int, body []byte, redact func(string) string) error {
			typ, msg := message(body)
			return &Error{Method: method, Path: path, StatusCode: status, Type: typ, Message: redact(msg)}
		},
	}
	return c.Do(ctx, method, rawURL, in, out, secret)
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
				return typ, restapi.Shorten(m, "")
			}
		}
	}
	return "", restapi.Shorten(string(data), "")
}
