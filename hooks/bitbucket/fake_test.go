package bitbucket

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The credentials the fake accepts.
const (
	testUser        = "reflex@example.com"
	testToken       = "ATATT3xFfGF0-test-api-token"
	testAccessToken = "ATCTT3xFfGN0-test-access-token"
)

// canned is an answer the fake gives once, before handling a request.
type canned struct {
	status int
	header map[string]string
	body   string
}

// fakeHook is a webhook subscription the fake holds, as Bitbucket shows
// it.
type fakeHook struct {
	Type        string   `json:"type"`
	UUID        string   `json:"uuid"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	SubjectType string   `json:"subject_type"`
	Active      bool     `json:"active"`
	Events      []string `json:"events"`
	SecretSet   bool     `json:"secret_set"`
	CreatedAt   string   `json:"created_at"`
	secret      string
}

// fakeBitbucket is an httptest fake of Bitbucket Cloud's webhook and
// repository APIs. It checks every request it receives (credentials,
// method, path as sent, query, body) and reports what does not fit
// through t.Errorf.
type fakeBitbucket struct {
	t   *testing.T
	srv *httptest.Server

	// pageSize is how many values a page holds (Bitbucket may give
	// fewer than the pagelen asked).
	pageSize int
	// bearer makes the fake expect the access token rather than Basic
	// authentication.
	bearer bool

	mu     sync.Mutex
	n      int
	hooks  map[string][]*fakeHook // by "repositories/<ws>/<slug>" or "workspaces/<ws>"
	repos  map[string][]string    // slugs by workspace
	canned map[string][]canned    // by "METHOD path-as-sent"
	log    []string               // "METHOD path-as-sent?query"
}

func newFake(t *testing.T) *fakeBitbucket {
	t.Helper()
	f := &fakeBitbucket{t: t, pageSize: 2, hooks: map[string][]*fakeHook{}, repos: map[string][]string{}, canned: map[string][]canned{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// provider returns a Provider on the fake, with the credentials it
// expects unless o has others.
func (f *fakeBitbucket) provider(o Options) *Provider {
	f.t.Helper()
	switch {
	case o.Token != "" || o.AccessToken != "":
	case f.bearer:
		o.AccessToken = testAccessToken
	default:
		o.Username, o.Token = testUser, testToken
	}
	o.BaseURL = f.srv.URL
	o.HTTPClient = f.srv.Client()
	p, err := New(o)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// uuid returns the fake's nth hook id.
func uuid(n int) string { return fmt.Sprintf("{%08x-0000-4000-8000-%012x}", n, n) }

// addHook stores a hook at a scope ("repositories/acme/api") and returns
// its id.
func (f *fakeBitbucket) addHook(scope, hookURL string, events []string, active bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	h := &fakeHook{
		Type: "webhook_subscription", UUID: uuid(f.n), URL: hookURL, Description: "by hand", SubjectType: subjectType(scope),
		Active: active, Events: slices.Clone(events), SecretSet: true, CreatedAt: "2024-05-01T10:00:00.000000+00:00", secret: "old-secret",
	}
	f.hooks[scope] = append(f.hooks[scope], h)
	return h.UUID
}

func subjectType(scope string) string {
	if strings.HasPrefix(scope, "workspaces/") {
		return "workspace"
	}
	return "repository"
}

// answerOnce makes the fake answer the next "METHOD path-as-sent" with c.
func (f *fakeBitbucket) answerOnce(key string, c canned) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canned[key] = append(f.canned[key], c)
}

// requests returns the requests received, "METHOD path-as-sent?query".
func (f *fakeBitbucket) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// hook returns a copy of a stored hook, or nil.
func (f *fakeBitbucket) hook(scope, id string) *fakeHook {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h := f.find(scope, id); h != nil {
		c := *h
		c.Events = slices.Clone(h.Events)
		return &c
	}
	return nil
}

// find returns a stored hook; the caller holds f.mu.
func (f *fakeBitbucket) find(scope, id string) *fakeHook {
	for _, h := range f.hooks[scope] {
		if h.UUID == id {
			return h
		}
	}
	return nil
}

// knownByFake are the event keys the fake knows; it refuses others, as
// Bitbucket does.
var knownByFake = []string{
	"repo:push", "repo:fork", "repo:updated", "repo:commit_status_created", "repo:commit_status_updated",
	"pullrequest:created", "pullrequest:updated", "pullrequest:fulfilled", "pullrequest:rejected",
	"pullrequest:comment_created", "issue:created",
}

var (
	reHooks = regexp.MustCompile(`^/2\.0/(repositories/[^/]+/[^/]+|workspaces/[^/]+)/hooks$`)
	reHook  = regexp.MustCompile(`^/2\.0/(repositories/[^/]+/[^/]+|workspaces/[^/]+)/hooks/([^/]+)$`)
	reRepos = regexp.MustCompile(`^/2\.0/repositories/([^/]+)$`)
	reID    = regexp.MustCompile(`^%7B[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}%7D$`)
)

func (f *fakeBitbucket) serve(w http.ResponseWriter, r *http.Request) {
	// The path as the client sent it, escapes and all.
	sent, _, _ := strings.Cut(r.RequestURI, "?")
	f.mu.Lock()
	f.log = append(f.log, r.Method+" "+sent+queryOf(r))
	var c *canned
	if q := f.canned[r.Method+" "+sent]; len(q) > 0 {
		c, f.canned[r.Method+" "+sent] = &q[0], q[1:]
	}
	f.mu.Unlock()

	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testToken))
	if f.bearer {
		want = "Bearer " + testAccessToken
	}
	if got := r.Header.Get("Authorization"); got != want {
		writeJSON(w, http.StatusUnauthorized, bbError("Token is invalid, expired, or not supported for this endpoint."))
		return
	}
	if c != nil {
		for k, v := range c.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(c.status)
		_, _ = w.Write([]byte(c.body))
		return
	}
	if s := reHooks.FindStringSubmatch(sent); s != nil && r.Method == http.MethodGet {
		scope := f.scope(s[1])
		f.mu.Lock()
		items := make([]any, 0, len(f.hooks[scope]))
		for _, h := range f.hooks[scope] {
			items = append(items, *h)
		}
		f.mu.Unlock()
		f.page(w, r, sent, items)
		return
	}
	if s := reHooks.FindStringSubmatch(sent); s != nil && r.Method == http.MethodPost {
		scope := f.scope(s[1])
		body, bad := f.checkHookBody(r)
		if body == nil {
			writeJSON(w, http.StatusBadRequest, bad)
			return
		}
		f.mu.Lock()
		f.n++
		h := &fakeHook{
			Type: "webhook_subscription", UUID: uuid(f.n), URL: body.URL, Description: body.Description, SubjectType: subjectType(scope),
			Active: *body.Active, Events: body.Events, SecretSet: body.Secret != "", CreatedAt: "2024-05-02T10:00:00.000000+00:00", secret: body.Secret,
		}
		f.hooks[scope] = append(f.hooks[scope], h)
		out := *h
		f.mu.Unlock()
		w.Header().Set("Location", f.srv.URL+sent+"/"+url.PathEscape(h.UUID))
		writeJSON(w, http.StatusCreated, out)
		return
	}
	if s := reHook.FindStringSubmatch(sent); s != nil {
		f.checkNoQuery(r)
		if !reID.MatchString(s[2]) {
			f.t.Errorf("%s %s: the hook id %q is not a UUID in escaped braces", r.Method, sent, s[2])
		}
		scope := f.scope(s[1])
		id, _ := url.PathUnescape(s[2])
		f.mu.Lock()
		h := f.find(scope, id)
		f.mu.Unlock()
		if h == nil {
			writeJSON(w, http.StatusNotFound, bbError("Resource not found"))
			return
		}
		switch r.Method {
		case http.MethodGet:
			f.mu.Lock()
			out := *h
			f.mu.Unlock()
			writeJSON(w, http.StatusOK, out)
		case http.MethodPut:
			body, bad := f.checkHookBody(r)
			if body == nil {
				writeJSON(w, http.StatusBadRequest, bad)
				return
			}
			f.mu.Lock()
			h.URL, h.Description, h.Active, h.Events = body.URL, body.Description, *body.Active, body.Events
			h.secret, h.SecretSet = body.Secret, body.Secret != ""
			out := *h
			f.mu.Unlock()
			writeJSON(w, http.StatusOK, out)
		case http.MethodDelete:
			f.mu.Lock()
			f.hooks[scope] = slices.DeleteFunc(f.hooks[scope], func(x *fakeHook) bool { return x == h })
			f.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		default:
			f.t.Errorf("unexpected request %s %s", r.Method, sent)
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
		return
	}
	if s := reRepos.FindStringSubmatch(sent); s != nil && r.Method == http.MethodGet {
		workspace, _ := url.PathUnescape(s[1])
		f.mu.Lock()
		slugs, ok := f.repos[workspace]
		items := make([]any, 0, len(slugs))
		for _, slug := range slugs {
			items = append(items, map[string]any{
				"type": "repository", "slug": slug, "name": strings.ToUpper(slug[:1]) + slug[1:],
				"full_name": workspace + "/" + slug, "uuid": uuid(1000 + len(items)), "is_private": true,
			})
		}
		f.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, bbError("No workspace with identifier '"+workspace+"'."))
			return
		}
		f.page(w, r, sent, items)
		return
	}
	f.t.Errorf("unexpected request %s %s", r.Method, sent)
	writeJSON(w, http.StatusNotFound, bbError("not found"))
}

// scope unescapes a matched scope.
func (f *fakeBitbucket) scope(escaped string) string {
	s, err := url.PathUnescape(escaped)
	if err != nil {
		f.t.Errorf("scope %q: %v", escaped, err)
	}
	return s
}

// page checks a listing's query (pagelen=100; page ≥ 2 after the first;
// nothing else) and answers one page of items, with the next page's URL
// while more remain.
func (f *fakeBitbucket) page(w http.ResponseWriter, r *http.Request, sent string, items []any) {
	q := r.URL.Query()
	if q.Get("pagelen") != "100" {
		f.t.Errorf("%s %s: pagelen = %q, want 100", r.Method, sent, q.Get("pagelen"))
	}
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			f.t.Errorf("%s %s: page = %q", r.Method, sent, v)
		}
		page = n
	}
	for k := range q {
		if k != "pagelen" && k != "page" {
			f.t.Errorf("%s %s: unexpected query parameter %s", r.Method, sent, k)
		}
	}
	from := min((page-1)*f.pageSize, len(items))
	to := min(from+f.pageSize, len(items))
	out := map[string]any{"pagelen": f.pageSize, "size": len(items), "page": page, "values": append([]any{}, items[from:to]...)}
	if to < len(items) {
		out["next"] = f.srv.URL + sent + "?" + url.Values{"page": {strconv.Itoa(page + 1)}, "pagelen": {"100"}}.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeBitbucket) checkNoQuery(r *http.Request) {
	if r.URL.RawQuery != "" {
		f.t.Errorf("%s %s: unexpected query %q", r.Method, r.URL.Path, r.URL.RawQuery)
	}
}

// sentBody is a create or update body as the fake reads it.
type sentBody struct {
	Description string   `json:"description"`
	URL         string   `json:"url"`
	Active      *bool    `json:"active"`
	Events      []string `json:"events"`
	Secret      string   `json:"secret"`
}

// checkHookBody decodes and checks a create or update body: JSON, and
// exactly description "Reflex", url, active true, events (sorted, known
// to the fake) and secret. It returns nil and Bitbucket's error body for
// events it does not know.
func (f *fakeBitbucket) checkHookBody(r *http.Request) (*sentBody, any) {
	f.checkNoQuery(r)
	where := r.Method + " " + r.URL.Path
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("%s: Content-Type %q", where, ct)
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		f.t.Errorf("%s: body: %v", where, err)
		return nil, bbError("Bad request")
	}
	for _, k := range []string{"description", "url", "active", "events", "secret"} {
		if _, ok := raw[k]; !ok {
			f.t.Errorf("%s: no %s", where, k)
		}
	}
	for k := range raw {
		if !slices.Contains([]string{"description", "url", "active", "events", "secret"}, k) {
			f.t.Errorf("%s: unexpected field %s", where, k)
		}
	}
	data, _ := json.Marshal(raw)
	var b sentBody
	if err := json.Unmarshal(data, &b); err != nil {
		f.t.Errorf("%s: body: %v", where, err)
		return nil, bbError("Bad request")
	}
	if b.Description != Description {
		f.t.Errorf("%s: description = %q, want %q", where, b.Description, Description)
	}
	if !strings.HasPrefix(b.URL, "https://") {
		f.t.Errorf("%s: url = %q", where, b.URL)
	}
	if b.Secret == "" {
		f.t.Errorf("%s: no secret", where)
	}
	if b.Active == nil || !*b.Active {
		f.t.Errorf("%s: active = %v, want true", where, b.Active)
		return nil, bbError("Bad request")
	}
	if len(b.Events) == 0 || !slices.IsSorted(b.Events) {
		f.t.Errorf("%s: events = %v, want some, sorted", where, b.Events)
	}
	for _, e := range b.Events {
		if !slices.Contains(knownByFake, e) {
			return nil, map[string]any{"type": "error", "error": map[string]any{
				"message": "Bad request", "fields": map[string][]string{"events": {"'" + e + "' is not a valid event"}},
			}}
		}
	}
	return &b, nil
}

// bbError is Bitbucket's error body.
func bbError(msg string) any {
	return map[string]any{"type": "error", "error": map[string]any{"message": msg}}
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

// hooksAt returns copies of the hooks stored at a scope.
func (f *fakeBitbucket) hooksAt(scope string) []fakeHook {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeHook
	for _, h := range f.hooks[scope] {
		c := *h
		c.Events = slices.Clone(h.Events)
		out = append(out, c)
	}
	return out
}
