package gitea

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// testToken is the token the fake accepts.
const testToken = "gitea-test-token-0123456789"

// canned is an answer the fake gives once, before handling a request.
type canned struct {
	status int
	header map[string]string
	body   string
}

// fakeHook is a hook the fake holds.
type fakeHook struct {
	ID          int               `json:"id"`
	Type        string            `json:"type"`
	Config      map[string]string `json:"config"`
	Events      []string          `json:"events"`
	Active      bool              `json:"active"`
	BranchFiler string            `json:"branch_filter"`
	AuthHeader  string            `json:"authorization_header"`
	Created     string            `json:"created_at"`
	secret      string
}

// knownByFake are the events the fake's Gitea knows; it drops others,
// as Gitea does. (Forgejo's action_run_* are not among them.)
var knownByFake = []string{
	"create", "delete", "fork", "push", "issues", "issue_assign", "issue_label", "issue_milestone", "issue_comment",
	"pull_request", "pull_request_assign", "pull_request_label", "pull_request_milestone", "pull_request_comment",
	"pull_request_review", "pull_request_sync", "pull_request_review_request",
	"wiki", "repository", "release", "package", "status", "workflow_run", "workflow_job",
}

// gitEvents turns the events of a create or edit on as Gitea does:
// "issues" and "pull_request" turn on their groups, "issues_only" and
// "pull_request_only" the one event, unknown names nothing. It lists
// them in no useful order, as Gitea (a map) does.
func gitEvents(declared []string) []string {
	on := map[string]bool{}
	for _, e := range declared {
		switch {
		case e == "issues":
			on["issues"] = true
			for _, s := range issueEvents {
				on[s] = true
			}
		case e == "pull_request":
			on["pull_request"] = true
			for _, s := range pullEvents {
				on[s] = true
			}
		case e == "issues_only":
			on["issues"] = true
		case e == "pull_request_only":
			on["pull_request"] = true
		case slices.Contains(knownByFake, e):
			on[e] = true
		}
	}
	var out []string
	for e := range on {
		out = append(out, e)
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// fakeGitea is an httptest fake of Gitea's hook and repository APIs. It
// checks every request it receives (token, method, path, query, body)
// and reports what does not fit through t.Errorf.
type fakeGitea struct {
	t   *testing.T
	srv *httptest.Server

	// pageSize is how many items a page holds (as a lower
	// MAX_RESPONSE_ITEMS would cap the limit asked).
	pageSize int
	// noTotal leaves X-Total-Count out.
	noTotal bool
	// hookType is the type creates must ask for.
	hookType string

	mu      sync.Mutex
	nextID  int
	hooks   map[string][]*fakeHook // by "repos/<owner>/<repo>" or "orgs/<org>", escaped
	repos   map[string][]repository
	owners  map[string]string // "orgs" or "users" by owner
	canned  map[string][]canned
	log     []string // "METHOD escaped-path?query"
	patched []string // the secrets edits sent, which Gitea ignores
	tests   []string // "scope id" of test deliveries
}

func newFake(t *testing.T) *fakeGitea {
	t.Helper()
	f := &fakeGitea{
		t: t, pageSize: 2, nextID: 10, hookType: TypeGitea,
		hooks: map[string][]*fakeHook{}, repos: map[string][]repository{}, owners: map[string]string{}, canned: map[string][]canned{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// provider returns a Provider on the fake.
func (f *fakeGitea) provider(o Options) *Provider {
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

// addHook stores a hook at a scope ("repos/acme/api") as Gitea would
// after a create with these events, and returns its id.
func (f *fakeGitea) addHook(scope, hookType, hookURL, contentType string, events []string, active bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.hooks[scope] = append(f.hooks[scope], &fakeHook{
		ID: f.nextID, Type: hookType, Config: map[string]string{"url": hookURL, "content_type": contentType},
		Events: gitEvents(events), Active: active, BranchFiler: "*", Created: "2024-05-01T10:00:00Z", secret: "old-secret",
	})
	return strconv.Itoa(f.nextID)
}

// answerOnce makes the fake answer the next "METHOD escaped-path" with c.
func (f *fakeGitea) answerOnce(key string, c canned) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canned[key] = append(f.canned[key], c)
}

// requests returns the requests received, "METHOD path?query".
func (f *fakeGitea) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// hook returns a copy of a stored hook, or nil.
func (f *fakeGitea) hook(scope, id string) *fakeHook {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h := f.find(scope, id); h != nil {
		c := *h
		c.Config = map[string]string{}
		for k, v := range h.Config {
			c.Config[k] = v
		}
		c.Events = slices.Clone(h.Events)
		return &c
	}
	return nil
}

// find returns a stored hook; the caller holds f.mu.
func (f *fakeGitea) find(scope, id string) *fakeHook {
	for _, h := range f.hooks[scope] {
		if strconv.Itoa(h.ID) == id {
			return h
		}
	}
	return nil
}

// patchedSecrets returns the secrets edits sent.
func (f *fakeGitea) patchedSecrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.patched)
}

// testDeliveries returns the test deliveries asked for, "scope id".
func (f *fakeGitea) testDeliveries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tests)
}

var (
	reHooks = regexp.MustCompile(`^/api/v1/(repos/[^/]+/[^/]+|orgs/[^/]+)/hooks$`)
	reHook  = regexp.MustCompile(`^/api/v1/(repos/[^/]+/[^/]+|orgs/[^/]+)/hooks/(\d+)$`)
	reTest  = regexp.MustCompile(`^/api/v1/(repos/[^/]+/[^/]+)/hooks/(\d+)/tests$`)
	reRepos = regexp.MustCompile(`^/api/v1/(orgs|users)/([^/]+)/repos$`)
)

func (f *fakeGitea) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	f.mu.Lock()
	f.log = append(f.log, r.Method+" "+p+queryOf(r))
	var c *canned
	if q := f.canned[r.Method+" "+p]; len(q) > 0 {
		c, f.canned[r.Method+" "+p] = &q[0], q[1:]
	}
	f.mu.Unlock()

	if got := r.Header.Get("Authorization"); got != "token "+testToken {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "user does not exist [uid: 0, name: ]", "url": f.srv.URL + "/api/swagger"})
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
	if s := reHooks.FindStringSubmatch(p); s != nil && r.Method == http.MethodGet {
		f.checkPageQuery(r)
		f.mu.Lock()
		items := make([]any, 0, len(f.hooks[s[1]]))
		for _, h := range f.hooks[s[1]] {
			items = append(items, *h)
		}
		f.mu.Unlock()
		f.page(w, r, items)
		return
	}
	if s := reHooks.FindStringSubmatch(p); s != nil && r.Method == http.MethodPost {
		body := f.checkHookBody(r, true)
		if body == nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "bad body"})
			return
		}
		f.mu.Lock()
		f.nextID++
		h := &fakeHook{ID: f.nextID, Type: body.Type, Config: map[string]string{"url": body.Config["url"], "content_type": body.Config["content_type"]},
			Events: gitEvents(body.Events), Active: *body.Active, BranchFiler: body.BranchFilter, Created: "2024-05-02T10:00:00Z", secret: body.Config["secret"]}
		f.hooks[s[1]] = append(f.hooks[s[1]], h)
		out := *h
		f.mu.Unlock()
		writeJSON(w, http.StatusCreated, out)
		return
	}
	if s := reHook.FindStringSubmatch(p); s != nil {
		f.checkNoQuery(r)
		f.mu.Lock()
		h := f.find(s[1], s[2])
		f.mu.Unlock()
		if h == nil {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "The target couldn't be found."})
			return
		}
		switch r.Method {
		case http.MethodGet:
			f.mu.Lock()
			out := *h
			f.mu.Unlock()
			writeJSON(w, http.StatusOK, out)
		case http.MethodPatch:
			body := f.checkHookBody(r, false)
			if body == nil {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "bad body"})
				return
			}
			f.mu.Lock()
			// As Gitea's editHook: url, content type, events, active,
			// branch filter, authorization header; never the secret.
			h.Config["url"], h.Config["content_type"] = body.Config["url"], body.Config["content_type"]
			h.Events, h.Active, h.BranchFiler, h.AuthHeader = gitEvents(body.Events), *body.Active, body.BranchFilter, ""
			f.patched = append(f.patched, body.Config["secret"])
			out := *h
			f.mu.Unlock()
			writeJSON(w, http.StatusOK, out)
		case http.MethodDelete:
			f.mu.Lock()
			f.hooks[s[1]] = slices.DeleteFunc(f.hooks[s[1]], func(x *fakeHook) bool { return x == h })
			f.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		default:
			f.t.Errorf("unexpected request %s %s", r.Method, p)
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
		return
	}
	if s := reTest.FindStringSubmatch(p); s != nil && r.Method == http.MethodPost {
		f.checkNoQuery(r)
		f.mu.Lock()
		f.tests = append(f.tests, s[1]+" "+s[2])
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if s := reRepos.FindStringSubmatch(p); s != nil && r.Method == http.MethodGet {
		f.checkPageQuery(r)
		owner, _ := url.PathUnescape(s[2])
		f.mu.Lock()
		kind := f.owners[owner]
		var items []any
		for _, repo := range f.repos[owner] {
			items = append(items, repo)
		}
		f.mu.Unlock()
		if kind != s[1] {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "GetOrgByName", "errors": []string{"org does not exist [id: 0, name: " + owner + "]"}})
			return
		}
		f.page(w, r, items)
		return
	}
	f.t.Errorf("unexpected request %s %s", r.Method, p)
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "not found"})
}

// page answers one page of items, with X-Total-Count unless noTotal.
func (f *fakeGitea) page(w http.ResponseWriter, r *http.Request, items []any) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	from := min((page-1)*f.pageSize, len(items))
	to := min(from+f.pageSize, len(items))
	if !f.noTotal {
		w.Header().Set("X-Total-Count", strconv.Itoa(len(items)))
	}
	writeJSON(w, http.StatusOK, append([]any{}, items[from:to]...))
}

// checkPageQuery checks a listing's query: limit=50, page ≥ 1, nothing
// else.
func (f *fakeGitea) checkPageQuery(r *http.Request) {
	q := r.URL.Query()
	if q.Get("limit") != "50" {
		f.t.Errorf("%s %s: limit = %q, want 50", r.Method, r.URL.Path, q.Get("limit"))
	}
	if n, err := strconv.Atoi(q.Get("page")); err != nil || n < 1 {
		f.t.Errorf("%s %s: page = %q", r.Method, r.URL.Path, q.Get("page"))
	}
	for k := range q {
		if k != "limit" && k != "page" {
			f.t.Errorf("%s %s: unexpected query parameter %s", r.Method, r.URL.Path, k)
		}
	}
}

func (f *fakeGitea) checkNoQuery(r *http.Request) {
	if r.URL.RawQuery != "" {
		f.t.Errorf("%s %s: unexpected query %q", r.Method, r.URL.Path, r.URL.RawQuery)
	}
}

// hookBody is a create or edit body as the fake reads it.
type hookBody struct {
	Type         string            `json:"type"`
	Config       map[string]string `json:"config"`
	Events       []string          `json:"events"`
	Active       *bool             `json:"active"`
	BranchFilter string            `json:"branch_filter"`
}

// checkHookBody decodes and checks a create (or edit) body: JSON, the
// type (creates only), config url, content_type (json or form) and
// secret, events, active true, branch_filter "*", nothing else.
func (f *fakeGitea) checkHookBody(r *http.Request, create bool) *hookBody {
	f.checkNoQuery(r)
	where := r.Method + " " + r.URL.Path
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("%s: Content-Type %q", where, ct)
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		f.t.Errorf("%s: body: %v", where, err)
		return nil
	}
	allowed := []string{"config", "events", "active", "branch_filter"}
	if create {
		allowed = append(allowed, "type")
	}
	for k := range raw {
		if !slices.Contains(allowed, k) {
			f.t.Errorf("%s: unexpected field %s", where, k)
		}
	}
	data, _ := json.Marshal(raw)
	var b hookBody
	if err := json.Unmarshal(data, &b); err != nil {
		f.t.Errorf("%s: body: %v", where, err)
		return nil
	}
	if create && b.Type != f.hookType {
		f.t.Errorf("%s: type = %q, want %q", where, b.Type, f.hookType)
	}
	if b.Config["url"] == "" || b.Config["secret"] == "" {
		f.t.Errorf("%s: config url %q, secret set %v", where, b.Config["url"], b.Config["secret"] != "")
		return nil
	}
	if ct := b.Config["content_type"]; ct != "json" && ct != "form" {
		f.t.Errorf("%s: content_type = %q", where, ct)
	}
	for k := range b.Config {
		if k != "url" && k != "content_type" && k != "secret" {
			f.t.Errorf("%s: unexpected config %s", where, k)
		}
	}
	if len(b.Events) == 0 {
		f.t.Errorf("%s: no events", where)
	}
	if b.Active == nil || !*b.Active {
		f.t.Errorf("%s: active = %v, want true", where, b.Active)
		return nil
	}
	if b.BranchFilter != "*" {
		f.t.Errorf("%s: branch_filter = %q, want *", where, b.BranchFilter)
	}
	return &b
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
