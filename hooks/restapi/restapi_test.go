package restapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reflexops/reflex/hooks"
)

const token = "tok-3f9a1c77e2"

// client returns a Client of srv that sends token as a bearer token.
func client(srv *httptest.Server, retries int) *Client {
	return &Client{
		HTTP:    NewHTTPClient(srv.Client(), 5*time.Second, time.Minute, Token),
		Service: "Forge", Label: "forge",
		Prepare: func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) },
		Secrets: []string{token}, Retries: retries,
	}
}

func TestRateLimitWait(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		status  int
		header  map[string]string
		attempt int
		reset   []string
		want    time.Duration
		limited bool
	}{
		{"a success", 200, nil, 0, nil, 0, false},
		{"a 403 without Retry-After", 403, map[string]string{"RateLimit-Reset": "5"}, 0, nil, 0, false},
		{"a 404", 404, map[string]string{"Retry-After": "5"}, 0, nil, 0, false},
		{"Retry-After seconds", 429, map[string]string{"Retry-After": "7"}, 0, nil, 7 * time.Second, true},
		{"a 403 with Retry-After", 403, map[string]string{"Retry-After": "3"}, 0, nil, 3 * time.Second, true},
		{"Retry-After an HTTP date", 429, map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, 0, nil, 90 * time.Second, true},
		{"Retry-After a past date", 429, map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, 0, nil, time.Second, true},
		{"RateLimit-Reset seconds from now", 429, map[string]string{"RateLimit-Reset": "12"}, 0, nil, 12 * time.Second, true},
		{"RateLimit-Reset Unix seconds", 429, map[string]string{"RateLimit-Reset": fmt.Sprint(now.Add(time.Minute).Unix())}, 0, nil, time.Minute, true},
		{"X-RateLimit-Reset by default", 429, map[string]string{"X-RateLimit-Reset": "4"}, 0, nil, 4 * time.Second, true},
		{"X-RateLimit-Reset not asked for", 429, map[string]string{"X-RateLimit-Reset": "4"}, 2, []string{"RateLimit-Reset"}, 4 * time.Second, true},
		{"backoff by attempt", 429, nil, 3, nil, 8 * time.Second, true},
		{"backoff capped", 429, nil, 20, nil, 64 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
			for k, v := range tc.header {
				resp.Header.Set(k, v)
			}
			got, limited := RateLimitWait(resp, tc.attempt, now, tc.reset...)
			if got != tc.want || limited != tc.limited {
				t.Errorf("RateLimitWait = %s, %t; want %s, %t", got, limited, tc.want, tc.limited)
			}
		})
	}
}

func TestDoRateLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		limited  int // answers 429 before a 200
		retries  int
		wantReqs int32
		wantErr  string
	}{
		{"no limit", 0, 3, 1, ""},
		{"waited out and retried", 2, 3, 3, ""},
		{"still limited after the retries", 5, 2, 3, "the rate limit, still after 2 waits: Forge answered GET /api/items with 429 Too Many Requests: slow down"},
		{"no retries", 1, 0, 1, "the rate limit, still after 0 waits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var reqs atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if int(reqs.Add(1)) <= tc.limited {
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(http.StatusTooManyRequests)
					fmt.Fprint(w, "slow down "+token)
					return
				}
				fmt.Fprint(w, `{"id": 7}`)
			}))
			defer srv.Close()
			var lines atomic.Int32
			ctx := hooks.WithProgress(t.Context(), func(string, ...any) { lines.Add(1) })
			var out struct{ ID int }
			_, err := client(srv, tc.retries).Do(ctx, http.MethodGet, JoinURL(srv.URL, "/api/items", nil), nil, &out, nil)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr == "" && out.ID != 7:
				t.Errorf("decoded %+v", out)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want %q", err, tc.wantErr)
			case err != nil && strings.Contains(err.Error(), token):
				t.Errorf("error %q holds the token", err)
			}
			if n := reqs.Load(); n != tc.wantReqs {
				t.Errorf("%d requests, want %d", n, tc.wantReqs)
			}
		})
	}
}

func TestDoWaitCancelled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := client(srv, 3).Do(ctx, http.MethodGet, srv.URL+"/x", nil, nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "GET /x: rate limited") {
		t.Errorf("error %v, want the wait cancelled", err)
	}
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the other host got %s %s with Authorization %q", r.Method, r.URL, r.Header.Get("Authorization"))
	}))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
		case "/moved":
			http.Redirect(w, r, "/here", http.StatusTemporaryRedirect)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/here":
			fmt.Fprint(w, `{}`)
		}
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name, method, path, wantErr string
	}{
		{"a GET on the same host", http.MethodGet, "/moved", ""},
		{"to another host", http.MethodGet, "/away", "refused a redirect to http://" + strings.TrimPrefix(other.URL, "http://") + ": the token goes to"},
		{"of a POST", http.MethodPost, "/moved", "refused to follow a redirect of a POST"},
		{"of a DELETE", http.MethodDelete, "/moved", "refused to follow a redirect of a DELETE"},
		{"endless", http.MethodGet, "/loop", "stopped after 5 redirects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := client(srv, 0).Do(t.Context(), tc.method, srv.URL+tc.path, nil, nil, nil)
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestSameHostCredentials(t *testing.T) {
	t.Parallel()
	first, _ := http.NewRequest(http.MethodGet, "https://a.example/x", nil)
	next, _ := http.NewRequest(http.MethodGet, "https://b.example/x", nil)
	for cred, want := range map[Credential]string{Token: "the token goes to a.example only", Credentials: "the credentials go to a.example only"} {
		if err := SameHost(cred)(next, []*http.Request{first}); err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("SameHost(%q) = %v, want %q", cred, err, want)
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	const secret = "s3cr/et+hook"
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		escaped bool
		fail    bool
		want    string
	}{
		{"the status and message", 404, "no such hook", false, false, "Forge answered GET /api/h/1 with 404 Not Found: no such hook"},
		{"the token echoed", 401, "bad token " + token, false, false, "401 Unauthorized: bad token [REDACTED]"},
		{"the secret echoed", 422, "secret " + secret + " is weak", false, false, "secret [REDACTED] is weak"},
		{"the escaped secret", 422, "url /h?s=" + url.PathEscape(secret), true, false, "url /h?s=[REDACTED]"},
		{"the provider's error", 409, "taken by " + token, false, true, "custom 409 on /api/h/1: taken by [REDACTED]"},
		{"a long message shortened", 500, strings.Repeat("x ", 400), false, false, strings.Repeat("x ", 250) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			c := client(srv, 0)
			c.EscapedSecret = tc.escaped
			if tc.fail {
				c.Fail = func(method, path string, status int, body []byte, redact func(string) string) error {
					return fmt.Errorf("custom %d on %s: %s", status, path, redact(string(body)))
				}
			}
			h, err := c.Do(t.Context(), http.MethodGet, srv.URL+"/api/h/1", nil, nil, []byte(secret))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), url.PathEscape(secret)) {
				t.Errorf("error %q holds a credential", err)
			}
			if h == nil {
				t.Error("no headers with a failed answer")
			}
			var e *Error
			if errors.As(err, &e) != !tc.fail || (e != nil && e.StatusCode != tc.status) {
				t.Errorf("error %#v, want an *Error of %d unless Fail is set", err, tc.status)
			}
		})
	}
}

func TestDoJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		answer  string
		wantErr string
		wantOut string
	}{
		{"decoded", `{"name": "ci"}`, "", "ci"},
		{"an empty answer", " \n", "", ""},
		{"not JSON", `<html>oops</html>`, "POST /api/hooks: decode Forge's answer: invalid character", ""},
		{"the wrong type", `{"name": 7}`, "decode Forge's answer: json: cannot unmarshal number", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer "+token {
					t.Errorf("headers %v", r.Header)
				}
				fmt.Fprint(w, tc.answer)
			}))
			defer srv.Close()
			var out struct{ Name string }
			_, err := client(srv, 0).Do(t.Context(), http.MethodPost, srv.URL+"/api/hooks", map[string]string{"url": "x"}, &out, nil)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want %q", err, tc.wantErr)
			case out.Name != tc.wantOut:
				t.Errorf("decoded %q, want %q", out.Name, tc.wantOut)
			}
		})
	}
	if _, err := (&Client{Service: "Forge"}).Do(t.Context(), http.MethodPost, "http://127.0.0.1/x", func() {}, nil, nil); err == nil || !strings.Contains(err.Error(), "encode POST /x") {
		t.Errorf("an unencodable body: %v", err)
	}
}

func TestParseBase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw     string
		cred    Credential
		wantErr string
	}{
		{"https://forge.example.com/sub/", Token, ""},
		{"http://localhost:3000", Token, ""},
		{"http://127.0.0.1", Credentials, ""},
		{"http://[::1]:8080", Token, ""},
		{"http://forge.example.com", Token, "is plain http: the token would cross the network unencrypted"},
		{"http://10.0.0.1", Credentials, "is plain http: the credentials would cross"},
		{"ftp://forge.example.com", Token, "is not an http(s) URL such as https://x.example"},
		{"https://user:pw@forge.example.com", Token, "is not an http(s) URL"},
		{"https://forge.example.com/?q=1", Token, "is not an http(s) URL"},
		{"https://forge.example.com/#f", Token, "is not an http(s) URL"},
		{"forge.example.com", Token, "is not an http(s) URL"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			u, err := ParseBase(tc.raw, "https://x.example", tc.cred)
			if tc.wantErr == "" && (err != nil || u == nil) {
				t.Fatalf("ParseBase = %v, %v", u, err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, want int }{{0, 3}, {-1, 0}, {5, 5}} {
		if got := Retries(tc.n, 3); got != tc.want {
			t.Errorf("Retries(%d, 3) = %d, want %d", tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		from    *http.Client
		timeout time.Duration
		want    time.Duration
	}{
		{nil, 0, time.Minute},
		{nil, time.Second, time.Second},
		{&http.Client{Timeout: 2 * time.Second}, 0, 2 * time.Second},
		{&http.Client{Timeout: 2 * time.Second}, time.Second, time.Second},
	} {
		c := NewHTTPClient(tc.from, tc.timeout, time.Minute, Token)
		if c.Timeout != tc.want || c.CheckRedirect == nil || c == tc.from {
			t.Errorf("NewHTTPClient(%v, %s) timeout %s, want %s, a copy with a redirect policy", tc.from, tc.timeout, c.Timeout, tc.want)
		}
	}
}

func TestNextLink(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		links  []string
		want   string
		wantOK bool
	}{
		{nil, "", false},
		{[]string{`<https://a/x?page=2>; rel="next", <https://a/x?page=9>; rel="last"`}, "https://a/x?page=2", true},
		{[]string{`<https://a/x?page=1>; rel="prev"`, `<https://a/x?page=3>; rel=next`}, "https://a/x?page=3", true},
		{[]string{`<https://a/x?page=1>; rel="prev"`}, "", false},
	} {
		if got, ok := NextLink(tc.links); got != tc.want || ok != tc.wantOK {
			t.Errorf("NextLink(%q) = %q, %t; want %q, %t", tc.links, got, ok, tc.want, tc.wantOK)
		}
	}
}
