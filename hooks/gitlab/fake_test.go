package gitlab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// testToken is the token the fake accepts.
const testToken = "glpat-test-token-0123456789"

// canned is an answer the fake gives once, before handling a request.
type canned struct {
	status int
	header map[string]string
	body   string
}

// fakeGitLab is an httptest fake of GitLab's hook and project APIs. It
// checks every request it receives (token, method, path, query, body)
// and reports what does not fit through t.Errorf.
type fakeGitLab struct {
	t   *testing.T
	srv *httptest.Server

	// pageSize is how many items a page holds (GitLab caps per_page; the
	// fake pages small to make several pages).
	pageSize int
	// linkOnly pages with the Link header and no X-Next-Page.
	linkOnly bool

	mu     sync.Mutex
	nextID int
	hooks  map[string][]map[string]any // by "projects/<escaped>" or "groups/<escaped>"
	tokens map[string]string           // hook secrets by id, which GitLab never shows
	// projects are full paths; groups and users the namespaces.
	projects []project
	groups   map[string]bool
	users    map[string]bool
	canned   map[string][]canned // by "METHOD escaped-path"
	log      []string            // "METHOD escaped-path?query"
	tests    []string            // "scope id trigger" of test deliveries
}

func newFake(t *testing.T) *fakeGitLab {
	t.Helper()
	f := &fakeGitLab{
		t: t, pageSize: 2, nextID: 100,
		hooks: map[string][]map[string]any{}, tokens: map[string]string{},
		groups: map[string]bool{}, users: map[string]bool{}, canned: map[string][]canned{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// provider returns a Provider on the fake.
func (f *fakeGitLab) provider(o Options) *Provider {
	f.t.Helper()
	if o.Token == "" {
		o.Token = testToken
	}
	o.BaseURL = f.srv.URL
	o.HTTPClient = f.srv.Client()
	p, err := New(o)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// addHook stores a hook at a scope ("projects/acme%2Fapi") with events
// turned on, and returns its id.
func (f *fakeGitLab) addHook(scope, hookURL string, events []string, extra map[string]any) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	h := map[string]any{
		"id": f.nextID, "url": hookURL, "created_at": "2024-05-01T10:00:00.000Z",
		"enable_ssl_verification": true, "alert_status": "executable", "disabled_until": nil,
		"push_events_branch_filter": "", "repository_update_events": false,
	}
	for _, e := range knownEvents {
		h[e+"_events"] = false
	}
	for _, e := range events {
		h[e+"_events"] = true
	}
	for k, v := range extra {
		h[k] = v
	}
	f.hooks[scope] = append(f.hooks[scope], h)
	return strconv.Itoa(f.nextID)
}

// answerOnce makes the fake answer the next "METHOD escaped-path" with c.
func (f *fakeGitLab) answerOnce(key string, c canned) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canned[key] = append(f.canned[key], c)
}

// requests returns the requests received, "METHOD path?query".
func (f *fakeGitLab) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// testDeliveries returns the test deliveries asked for, "scope id trigger".
func (f *fakeGitLab) testDeliveries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tests)
}

// token returns the secret a hook was given.
func (f *fakeGitLab) token(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens[id]
}

// setToken records the secret a hook was given.
func (f *fakeGitLab) setToken(id, token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[id] = token
}

// hook returns a stored hook by scope and id.
func (f *fakeGitLab) hook(scope, id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, h := range f.hooks[scope] {
		if fmt.Sprint(h["id"]) == id {
			return h
		}
	}
	return nil
}

var (
	reHooks    = regexp.MustCompile(`^/api/v4/(projects|groups)/([^/]+)/hooks$`)
	reHook     = regexp.MustCompile(`^/api/v4/(projects|groups)/([^/]+)/hooks/(\d+)$`)
	reTest     = regexp.MustCompile(`^/api/v4/(projects|groups)/([^/]+)/hooks/(\d+)/test/([a-z_]+)$`)
	reProjects = regexp.MustCompile(`^/api/v4/(groups|users)/([^/]+)/projects$`)
)

func (f *fakeGitLab) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	f.mu.Lock()
	f.log = append(f.log, r.Method+" "+p+queryOf(r))
	var c *canned
	if q := f.canned[r.Method+" "+p]; len(q) > 0 {
		c, f.canned[r.Method+" "+p] = &q[0], q[1:]
	}
	f.mu.Unlock()

	if got := r.Header.Get("PRIVATE-TOKEN"); got != testToken {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
		return
	}
	if r.Header.Get("Authorization") != "" {
		f.t.Errorf("%s %s: an Authorization header besides PRIVATE-TOKEN", r.Method, p)
	}
	if c != nil {
		for k, v := range c.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(c.status)
		_, _ = w.Write([]byte(c.body))
		return
	}
	switch m := match(p); {
	case m.re == reHooks && r.Method == http.MethodGet:
		f.checkPageQuery(r, nil)
		f.mu.Lock()
		items := make([]any, 0, len(f.hooks[m.scope]))
		for _, h := range f.hooks[m.scope] {
			items = append(items, h)
		}
		f.mu.Unlock()
		f.page(w, r, items)
	case m.re == reHooks && r.Method == http.MethodPost:
		body := f.checkHookBody(r)
		if body == nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "bad body"})
			return
		}
		f.mu.Lock()
		f.nextID++
		id := f.nextID
		h := map[string]any{"id": id, "created_at": "2024-05-02T10:00:00.000Z", "alert_status": "executable", "disabled_until": nil}
		f.tokens[strconv.Itoa(id)] = body["token"].(string)
		delete(body, "token")
		for k, v := range body {
			h[k] = v
		}
		f.hooks[m.scope] = append(f.hooks[m.scope], h)
		f.mu.Unlock()
		writeJSON(w, http.StatusCreated, h)
	case m.re == reHook && r.Method == http.MethodGet:
		f.checkNoQuery(r)
		if h := f.hook(m.scope, m.id); h != nil {
			writeJSON(w, http.StatusOK, h)
			return
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Not found"})
	case m.re == reHook && r.Method == http.MethodPut:
		body := f.checkHookBody(r)
		h := f.hook(m.scope, m.id)
		if body == nil || h == nil {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Not found"})
			return
		}
		f.mu.Lock()
		f.tokens[m.id] = body["token"].(string)
		delete(body, "token")
		for k, v := range body {
			h[k] = v
		}
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, h)
	case m.re == reHook && r.Method == http.MethodDelete:
		f.checkNoQuery(r)
		f.mu.Lock()
		n := len(f.hooks[m.scope])
		f.hooks[m.scope] = slices.DeleteFunc(f.hooks[m.scope], func(h map[string]any) bool { return fmt.Sprint(h["id"]) == m.id })
		deleted := len(f.hooks[m.scope]) < n
		f.mu.Unlock()
		if !deleted {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Not found"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case m.re == reTest && r.Method == http.MethodPost:
		f.checkNoQuery(r)
		f.mu.Lock()
		f.tests = append(f.tests, m.scope+" "+m.id+" "+m.trigger)
		f.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]any{"message": "201 Created"})
	case m.re == reProjects && r.Method == http.MethodGet:
		f.serveProjects(w, r, m)
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, p)
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Not found"})
	}
}

// matched is a request path matched against the fake's routes.
type matched struct {
	re               *regexp.Regexp
	kind, seg, scope string
	id, trigger      string
}

func match(p string) matched {
	for _, re := range []*regexp.Regexp{reHooks, reHook, reTest, reProjects} {
		if s := re.FindStringSubmatch(p); s != nil {
			m := matched{re: re, kind: s[1], seg: s[2], scope: s[1] + "/" + s[2]}
			if len(s) > 3 {
				m.id = s[3]
			}
			if len(s) > 4 {
				m.trigger = s[4]
			}
			return m
		}
	}
	return matched{}
}

// serveProjects lists a group's or user's projects, checking the query.
func (f *fakeGitLab) serveProjects(w http.ResponseWriter, r *http.Request, m matched) {
	ns, err := url.PathUnescape(m.seg)
	if err != nil || url.PathEscape(ns) != m.seg {
		f.t.Errorf("namespace %q is not path-escaped", m.seg)
	}
	want := map[string]string{"archived": "false", "simple": "true"}
	if m.kind == "groups" {
		want["with_shared"] = "false"
		want["include_subgroups"] = r.URL.Query().Get("include_subgroups")
		if v := want["include_subgroups"]; v != "true" && v != "false" {
			f.t.Errorf("include_subgroups = %q", v)
		}
	}
	f.checkPageQuery(r, want)
	f.mu.Lock()
	known := (m.kind == "groups" && f.groups[ns]) || (m.kind == "users" && f.users[ns])
	var items []any
	for _, pr := range f.projects {
		dir := path.Dir(pr.PathWithNamespace)
		if dir == ns || (want["include_subgroups"] == "true" && strings.HasPrefix(dir, ns+"/")) {
			items = append(items, pr)
		}
	}
	f.mu.Unlock()
	if !known {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 Group Not Found"})
		return
	}
	f.page(w, r, items)
}

// page answers one page of items, with GitLab's pagination headers.
func (f *fakeGitLab) page(w http.ResponseWriter, r *http.Request, items []any) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	from := min((page-1)*f.pageSize, len(items))
	to := min(from+f.pageSize, len(items))
	if to < len(items) {
		if f.linkOnly {
			q := r.URL.Query()
			q.Set("page", strconv.Itoa(page+1))
			next := f.srv.URL + r.URL.EscapedPath() + "?" + q.Encode()
			w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next", <%s>; rel="first"`, next, f.srv.URL))
		} else {
			w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
		}
	} else if !f.linkOnly {
		w.Header().Set("X-Next-Page", "")
	}
	w.Header().Set("X-Page", strconv.Itoa(page))
	writeJSON(w, http.StatusOK, items[from:to])
}

// checkPageQuery checks a listing's query: per_page=100, page ≥ 1, and
// the other parameters want says, nothing else.
func (f *fakeGitLab) checkPageQuery(r *http.Request, want map[string]string) {
	q := r.URL.Query()
	if q.Get("per_page") != "100" {
		f.t.Errorf("%s %s: per_page = %q, want 100", r.Method, r.URL.Path, q.Get("per_page"))
	}
	if n, err := strconv.Atoi(q.Get("page")); err != nil || n < 1 {
		f.t.Errorf("%s %s: page = %q", r.Method, r.URL.Path, q.Get("page"))
	}
	for k := range q {
		if _, ok := want[k]; !ok && k != "per_page" && k != "page" {
			f.t.Errorf("%s %s: unexpected query parameter %s", r.Method, r.URL.Path, k)
		}
	}
	for k, v := range want {
		if q.Get(k) != v {
			f.t.Errorf("%s %s: %s = %q, want %q", r.Method, r.URL.Path, k, q.Get(k), v)
		}
	}
}

func (f *fakeGitLab) checkNoQuery(r *http.Request) {
	if r.URL.RawQuery != "" {
		f.t.Errorf("%s %s: unexpected query %q", r.Method, r.URL.Path, r.URL.RawQuery)
	}
}

// checkHookBody decodes and checks a create or update body: JSON, the
// url and token strings, SSL verification on, every known flag a bool,
// nothing else.
func (f *fakeGitLab) checkHookBody(r *http.Request) map[string]any {
	f.checkNoQuery(r)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("%s %s: body: %v", r.Method, r.URL.Path, err)
		return nil
	}
	if u, _ := body["url"].(string); u == "" {
		f.t.Errorf("%s %s: url = %v", r.Method, r.URL.Path, body["url"])
	}
	if tok, _ := body["token"].(string); tok == "" {
		f.t.Errorf("%s %s: token = %v", r.Method, r.URL.Path, body["token"])
		return nil
	}
	if body["enable_ssl_verification"] != true {
		f.t.Errorf("%s %s: enable_ssl_verification = %v", r.Method, r.URL.Path, body["enable_ssl_verification"])
	}
	for _, e := range knownEvents {
		if _, ok := body[e+"_events"].(bool); !ok {
			f.t.Errorf("%s %s: %s_events = %v, want a bool", r.Method, r.URL.Path, e, body[e+"_events"])
		}
	}
	for k := range body {
		if k != "url" && k != "token" && k != "enable_ssl_verification" && !strings.HasSuffix(k, "_events") {
			f.t.Errorf("%s %s: unexpected field %s", r.Method, r.URL.Path, k)
		}
	}
	return body
}

func queryOf(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return ""
	}
	return "?" + r.URL.RawQuery
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
