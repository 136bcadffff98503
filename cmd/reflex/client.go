package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// apiClient talks to a running Reflex's /api/v1.
type apiClient struct {
	url    string
	apikey string
	http   *http.Client
}

// defaultURL is the server the API commands talk to without --url or
// REFLEX_URL.
const defaultURL = "http://localhost:8080"

// apiFlags registers --url and --apikey (REFLEX_URL, REFLEX_APIKEY) on a
// command and returns the client they configure.
func apiFlags(cmd *cobra.Command) *apiClient {
	c := &apiClient{http: &http.Client{Timeout: 30 * time.Second}}
	cmd.PersistentFlags().StringVar(&c.url, "url", "", "base URL of the Reflex server (default "+defaultURL+") [$REFLEX_URL]")
	cmd.PersistentFlags().StringVar(&c.apikey, "apikey", "", "API key (name.secret); prefer the variable, which stays out of process listings [$REFLEX_APIKEY]")
	return c
}

// base is the server's base URL: --url, else REFLEX_URL, else defaultURL.
// The client reads the variables itself, so they work however flags are
// bound to the environment.
func (c *apiClient) base() string {
	u := c.url
	if u == "" {
		u = os.Getenv("REFLEX_URL")
	}
	if u == "" {
		u = defaultURL
	}
	return strings.TrimRight(u, "/")
}

// apiError is a failed API answer.
type apiError struct {
	status  int
	message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, http.StatusText(e.status), e.message)
}

// do sends a request and decodes a JSON answer into out (when not nil). It
// returns the response headers, for the Link of a list's next page (see
// list) among others.
func (c *apiClient) do(ctx context.Context, method, path string, header http.Header, body []byte, out any) (http.Header, error) {
	resp, err := c.send(ctx, method, path, header, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		return resp.Header, answerError(resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.Header, fmt.Errorf("decode the answer: %w", err)
		}
	}
	return resp.Header, nil
}

// maxPages bounds how many pages list follows.
const maxPages = 1000

// list GETs a list and every page after it, following each answer's Link
// rel="next", and returns the items of all the pages in order, each as the
// server sent it.
func (c *apiClient) list(ctx context.Context, path string) ([]json.RawMessage, error) {
	all := []json.RawMessage{}
	for range maxPages {
		var page []json.RawMessage
		h, err := c.do(ctx, http.MethodGet, path, nil, nil, &page)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if path, err = c.nextPage(h); err != nil || path == "" {
			return all, err
		}
	}
	return nil, fmt.Errorf("GET %s: more than %d pages", path, maxPages)
}

// nextPage returns the path (and query) of the next page that a list
// answer's Link header names with rel="next", "" on the last page. A link
// to another server is refused: it would receive the API key.
func (c *apiClient) nextPage(h http.Header) (string, error) {
	next := linkNext(h)
	if next == "" {
		return "", nil
	}
	base, err := url.Parse(c.base() + "/")
	if err != nil {
		return "", fmt.Errorf("--url: %w", err)
	}
	u, err := base.Parse(next)
	if err != nil {
		return "", fmt.Errorf("the next page's link %q: %w", next, err)
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return "", fmt.Errorf("the next page's link %q leaves %s", next, c.base())
	}
	// A link is the server's path; --url may carry a prefix before it.
	path := strings.TrimPrefix(u.RequestURI(), strings.TrimRight(base.Path, "/"))
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return path, nil
}

// linkNext returns the target of the rel="next" link of a Link header
// (RFC 8288), "" when there is none.
func linkNext(h http.Header) string {
	for _, v := range h.Values("Link") {
		for v != "" {
			open := strings.IndexByte(v, '<')
			end := strings.IndexByte(v, '>')
			if open < 0 || end < open {
				break
			}
			target, rest := v[open+1:end], v[end+1:]
			params, after, _ := strings.Cut(rest, "<") // the next link starts at its <
			v = ""
			if after != "" {
				v = "<" + after
			}
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.Trim(strings.TrimSpace(p), ","), "=")
				rels := strings.Fields(strings.ToLower(strings.Trim(strings.TrimSpace(val), `", `)))
				if strings.EqualFold(strings.TrimSpace(k), "rel") && slices.Contains(rels, "next") {
					return target
				}
			}
		}
	}
	return ""
}

func (c *apiClient) send(ctx context.Context, method, path string, header http.Header, body []byte) (*http.Response, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base()+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	key := c.apikey
	if key == "" {
		key = os.Getenv("REFLEX_APIKEY")
	}
	if key == "" {
		return nil, fmt.Errorf("no API key: set REFLEX_APIKEY (or --apikey) to name.secret")
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, nil
}

// pageFlags are the paging flags of a list command.
type pageFlags struct {
	limit  int
	cursor string
	all    bool
}

func (p *pageFlags) register(cmd *cobra.Command, what string) {
	fl := cmd.Flags()
	fl.IntVar(&p.limit, "limit", 50, "how many "+what+" to show (1-1000)")
	fl.StringVar(&p.cursor, "cursor", "", "continue after the page that printed this cursor")
	fl.BoolVar(&p.all, "all", false, "every page, not just the first --limit "+what)
}

// fetch reads a list: one page of p.limit items (after p.cursor), or with
// --all every page. When more items follow a single page, it says on
// stderr how to see them.
func (p *pageFlags) fetch(ctx context.Context, c *apiClient, path string, q url.Values, stderr io.Writer) ([]json.RawMessage, error) {
	if p.limit < 1 || p.limit > 1000 {
		return nil, fmt.Errorf("--limit %d: want 1 to 1000", p.limit)
	}
	q.Set("limit", strconv.Itoa(p.limit))
	if p.all {
		q.Set("limit", "1000")
	}
	if p.cursor != "" {
		q.Set("cursor", p.cursor)
	}
	path += "?" + q.Encode()
	if p.all {
		return c.list(ctx, path)
	}
	var page []json.RawMessage
	h, err := c.do(ctx, http.MethodGet, path, nil, nil, &page)
	if err != nil {
		return nil, err
	}
	next, err := c.nextPage(h)
	if err != nil {
		return nil, err
	}
	if u, err := url.Parse(next); next != "" && err == nil {
		fmt.Fprintf(stderr, "reflex: more follow: add --cursor %s (or --all)\n", u.Query().Get("cursor"))
	}
	return page, nil
}

// answerError is the error of a failed answer: its status, and the
// message of its JSON body (or the body itself).
func answerError(status int, raw []byte) *apiError {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Message == "" {
		e.Message = strings.TrimSpace(string(raw))
	}
	return &apiError{status: status, message: e.Message}
}
