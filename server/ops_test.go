package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/reflexops/reflex/fixtures"
	"github.com/reflexops/reflex/server"
)

// opsReaderRights let the key "reader" read events, but not operate the
// queues.
const opsReaderRights = `
policies:
  - {name: reader, expression: 'caller.name == "reader"'}
scopes:
  - {name: read-events, actions: [read], types: [event, deployment, agent, source], mode: global, policies: [reader]}
`

// opsBrowser is an HTTP client that keeps cookies and does not follow
// redirects, as a browser's session would be seen from the server.
type opsBrowser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newOpsBrowser(t *testing.T, in *instance) *opsBrowser {
	jar, _ := cookiejar.New(nil)
	return &opsBrowser{t: t, base: in.URL, client: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// request sends a request with the browser's cookies and returns the
// status, the Location and the body.
func (b *opsBrowser) request(method, path string, form url.Values, header ...string) (int, string, string) {
	b.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		sb.WriteString(sc.Text() + "\n")
	}
	return resp.StatusCode, resp.Header.Get("Location"), sb.String()
}

// cookie returns the browser's cookie of that name for /ops/.
func (b *opsBrowser) cookie(name string) string {
	u, _ := url.Parse(b.base + "/ops/")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// signIn signs in with key through the form, as a browser does.
func (b *opsBrowser) signIn(key string) int {
	b.t.Helper()
	_, _, page := b.request("GET", "/ops/login", nil)
	token := between(page, `name="csrf_token" value="`, `"`)
	status, _, _ := b.request("POST", "/ops/login", url.Values{"csrf_token": {token}, "apikey": {key}, "next": {"/ops/"}})
	return status
}

func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}

// TestOpsSessions: a key signs in once; the session carries the key's
// rights (reading events opens /ops/, operating queues needs more); the
// CSRF token guards every state-changing request; deleting the key ends
// the session at once; signing out ends it too.
func TestOpsSessions(t *testing.T) {
	in := start(t, newRedis(t), withDeclarations(t, opsReaderRights), func(o *server.Options) { o.KeyCacheTTL = time.Millisecond })
	key := newKey(t, in, "reader")

	b := newOpsBrowser(t, in)
	if s := b.signIn("reader.wrong"); s != http.StatusUnauthorized {
		t.Fatalf("sign in with a wrong key = %d, want 401", s)
	}
	if b.cookie("reflex_session") != "" {
		t.Fatal("a wrong key got a session")
	}
	if s := b.signIn(key); s != http.StatusSeeOther {
		t.Fatalf("sign in = %d, want 303", s)
	}
	if s, _, page := b.request("GET", "/ops/", nil); s != http.StatusOK || !strings.Contains(page, `<tbody id="rows"`) {
		t.Fatalf("/ops/ = %d, want the events page", s)
	}
	if s, _, _ := b.request("GET", "/ops/queues/api/queues", nil); s != http.StatusForbidden {
		t.Errorf("queue UI for a key that may only read = %d, want 403", s)
	}

	admin := newOpsBrowser(t, in)
	if s := admin.signIn(adminKey); s != http.StatusSeeOther {
		t.Fatalf("admin sign in = %d", s)
	}
	csrf := admin.cookie("XSRF-TOKEN")
	mustCreate(t, in, "pipeline", `{"name":"web","services":["web-prod"]}`)
	mustCreate(t, in, "service", `{"name":"web-prod","pipeline":"web","zone":"production"}`)
	if _, _, page := admin.request("GET", "/ops/", nil); !strings.Contains(page, `<tr id="zone-production"><td data-label="Zone">production</td><td data-label="Waiting">0</td>`) {
		t.Errorf("the events page does not show the production zone's queue:\n%s", between(page, "<main>", "</main>"))
	}
	for _, tc := range []struct {
		name   string
		header []string
		want   int
	}{
		{"no token", nil, http.StatusForbidden},
		{"another token", []string{"X-XSRF-TOKEN", "not-the-token"}, http.StatusForbidden},
		{"from another site", []string{"X-XSRF-TOKEN", csrf, "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"the token, same origin", []string{"X-XSRF-TOKEN", csrf, "Sec-Fetch-Site", "same-origin"}, http.StatusNoContent},
	} {
		s, _, body := admin.request("POST", "/ops/queues/api/queues/events:pause", nil, tc.header...)
		if s != tc.want {
			t.Errorf("pause %s = %d %s, want %d", tc.name, s, body, tc.want)
		}
	}

	// Deleting the key ends its session at its next request.
	if r, _ := master(t, in, "DELETE", "/api/v1/apikey/reader", ""); r.Code != http.StatusOK {
		t.Fatalf("delete key: %d", r.Code)
	}
	if s, loc, _ := b.request("GET", "/ops/", nil); s != http.StatusSeeOther || !strings.HasPrefix(loc, "/ops/login") {
		t.Errorf("/ops/ after the key was deleted = %d %q, want the sign-in form", s, loc)
	}

	// Signing out needs the token too, and then the cookie is worthless.
	if s, _, _ := admin.request("POST", "/ops/logout", url.Values{}); s != http.StatusForbidden {
		t.Errorf("sign out without the token = %d, want 403", s)
	}
	session := admin.cookie("reflex_session")
	if s, _, _ := admin.request("POST", "/ops/logout", url.Values{"csrf_token": {csrf}}); s != http.StatusSeeOther {
		t.Errorf("sign out = %d, want 303", s)
	}
	req, _ := http.NewRequest("GET", in.URL+"/ops/queues/api/queues", nil)
	req.AddCookie(&http.Cookie{Name: "reflex_session", Value: session})
	if r := do(t, req); r.Code != http.StatusUnauthorized {
		t.Errorf("the cookie after signing out = %d, want 401", r.Code)
	}
}

// TestOpsLoginForm: the form's own token must come back with it, and the
// address it returns to stays on /ops/.
func TestOpsLoginForm(t *testing.T) {
	in := start(t, newRedis(t), nil)
	b := newOpsBrowser(t, in)
	if s, _, _ := b.request("POST", "/ops/login", url.Values{"apikey": {adminKey}}); s != http.StatusForbidden {
		t.Errorf("sign in without the form's token = %d, want 403", s)
	}
	for _, next := range []string{"https://evil.example/", "//evil.example/ops/", "/api/v1/events", `/\evil.example`} {
		_, _, page := b.request("GET", "/ops/login", nil)
		token := between(page, `name="csrf_token" value="`, `"`)
		s, loc, _ := b.request("POST", "/ops/login", url.Values{"csrf_token": {token}, "apikey": {adminKey}, "next": {next}})
		if s != http.StatusSeeOther || loc != "/ops/" {
			t.Errorf("sign in with next=%q went to %d %q, want /ops/", next, s, loc)
		}
	}
	_, _, page := b.request("GET", "/ops/login", nil)
	token := between(page, `name="csrf_token" value="`, `"`)
	if _, loc, _ := b.request("POST", "/ops/login", url.Values{"csrf_token": {token}, "apikey": {adminKey}, "next": {"/ops/events/a/b?x=1"}}); loc != "/ops/events/a/b?x=1" {
		t.Errorf("sign in with a page of /ops/ went to %q", loc)
	}
}

// TestEventsFeed: GET /api/v1/events/feed reports what arrives after it
// opened, filtered: an accepted event (again once processed), a duplicate
// and a refusal with its reason.
func TestEventsFeed(t *testing.T) {
	in := start(t, newRedis(t), nil)
	f := fixture(t, "push.branch")
	deliver(t, in, withID(f, "before-the-feed"))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", in.URL+"/api/v1/events/feed?source=acme-github", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("feed = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	items := make(chan map[string]any, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var m map[string]any
				_ = json.Unmarshal([]byte(data), &m)
				items <- m
			}
		}
		close(items)
	}()
	time.Sleep(200 * time.Millisecond) // the feed reports from when it opened
	deliver(t, in, withID(f, "feed-1"))
	deliver(t, in, withID(f, "feed-1"))
	bad := signedHeaders(f, f.Body, "not-the-secret")
	post(t, in.URL+"/hooks/acme-github", bad, f.Body)

	// The event is reported as it stands at the feed's next look, and again
	// when that changes: processed, at the latest.
	want := map[string]bool{"event accepted processed": false, "intake duplicate ": false, "intake refused unauthorized": false}
	for !allSeen(want) {
		select {
		case m, ok := <-items:
			if !ok {
				t.Fatalf("the feed ended; seen %v", want)
			}
			key := m["type"].(string) + " " + m["outcome"].(string) + " "
			if ev, ok := m["event"].(map[string]any); ok {
				if ev["id"] == "before-the-feed" {
					t.Error("the feed reported an event received before it opened")
				}
				key += ev["status"].(string)
			}
			if e, ok := m["intake"].(map[string]any); ok {
				reason, _ := e["reason"].(string)
				key += reason
			}
			if _, known := want[key]; known {
				want[key] = true
			}
		case <-ctx.Done():
			t.Fatalf("not all reported within 20s: %v", want)
		}
	}
	r, _ := master(t, in, "GET", "/api/v1/events/feed?outcome=maybe", "")
	if r.Code != http.StatusBadRequest {
		t.Errorf("an unknown outcome = %d, want 400", r.Code)
	}
}

func allSeen(m map[string]bool) bool {
	for _, ok := range m {
		if !ok {
			return false
		}
	}
	return true
}

// withID is a fixture delivered under another delivery id.
func withID(f fixtures.Fixture, id string) fixtures.Fixture {
	f.Header = f.Header.Clone()
	f.Header.Set("X-GitHub-Delivery", id)
	return f
}
