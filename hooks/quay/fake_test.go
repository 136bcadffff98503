package quay

import (
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

// testToken is the token the fake accepts.
const testToken = "quay-oauth-test-token-0123456789"

// quayEvents are the repository events the fake's Quay knows.
var quayEvents = append(slices.Clone(Events), "repo_image_expiry")

// canned is an answer the fake gives once, before handling a request.
type canned struct {
	status int
	header map[string]string
	body   string
}

// fakeNotification is a notification as the fake holds it, and shows it.
type fakeNotification struct {
	UUID        string         `json:"uuid"`
	Title       string         `json:"title"`
	Event       string         `json:"event"`
	Method      string         `json:"method"`
	Config      map[string]any `json:"config"`
	EventConfig map[string]any `json:"event_config"`
	Failures    int            `json:"number_of_failures"`
}

// fakeQuay is an httptest fake of Quay's repository and notification
// APIs. It checks every request it receives (token, method, path, query,
// body) and reports what does not fit through t.Errorf.
type fakeQuay struct {
	t   *testing.T
	srv *httptest.Server

	// pageSize is how many repositories a page holds.
	pageSize int

	mu     sync.Mutex
	nextID int
	repos  []repository                   // every repository, by namespace and name
	notes  map[string][]*fakeNotification // by repository full name
	canned map[string][]canned            // by "METHOD escaped-path"
	log    []string                       // "METHOD escaped-path?query"
	tests  []string                       // "repository uuid" of test notifications
}

func newFake(t *testing.T) *fakeQuay {
	t.Helper()
	f := &fakeQuay{t: t, pageSize: 2, notes: map[string][]*fakeNotification{}, canned: map[string][]canned{}}
	f.addRepo("acme", "api", "NORMAL")
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// provider returns a Provider on the fake.
func (f *fakeQuay) provider(o Options) *Provider {
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

// addRepo adds a repository.
func (f *fakeQuay) addRepo(ns, name, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repos = append(f.repos, repository{Namespace: ns, Name: name, State: state})
}

// newUUID returns the next uuid; call with f.mu held.
func (f *fakeQuay) newUUID() string {
	f.nextID++
	return fmt.Sprintf("6f1c0e3a-0000-4000-8000-%012d", f.nextID)
}

// add stores a notification at a repository and returns its uuid.
func (f *fakeQuay) add(repo, event, method string, config map[string]any, failures int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := &fakeNotification{UUID: f.newUUID(), Title: "by hand", Event: event, Method: method, Config: config, EventConfig: map[string]any{}, Failures: failures}
	f.notes[repo] = append(f.notes[repo], n)
	return n.UUID
}

// addWebhook stores a webhook notification and returns its uuid.
func (f *fakeQuay) addWebhook(repo, event, hookURL string, failures int) string {
	return f.add(repo, event, "webhook", map[string]any{"url": hookURL}, failures)
}

// notifications returns copies of a repository's notifications.
func (f *fakeQuay) notifications(repo string) []fakeNotification {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeNotification
	for _, n := range f.notes[repo] {
		out = append(out, *n)
	}
	return out
}

// urls returns "event url" of a repository's webhook notifications,
// sorted.
func (f *fakeQuay) urls(repo string) []string {
	var out []string
	for _, n := range f.notifications(repo) {
		out = append(out, n.Event+" "+fmt.Sprint(n.Config["url"]))
	}
	slices.Sort(out)
	return out
}

// uuids returns the uuids of a repository's notifications.
func (f *fakeQuay) uuids(repo string) []string {
	var out []string
	for _, n := range f.notifications(repo) {
		out = append(out, n.UUID)
	}
	return out
}

// answerOnce makes the fake answer the next "METHOD escaped-path" with c.
func (f *fakeQuay) answerOnce(key string, c canned) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canned[key] = append(f.canned[key], c)
}

// requests returns the requests received, "METHOD path?query".
func (f *fakeQuay) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// testNotifications returns the test notifications queued.
func (f *fakeQuay) testNotifications() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tests)
}

var (
	reNotes = regexp.MustCompile(`^/api/v1/repository/(.+)/notification/$`)
	reNote  = regexp.MustCompile(`^/api/v1/repository/(.+)/notification/([^/]+)$`)
	reTest  = regexp.MustCompile(`^/api/v1/repository/(.+)/notification/([^/]+)/test$`)
)

func (f *fakeQuay) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	f.mu.Lock()
	f.log = append(f.log, r.Method+" "+p+queryOf(r))
	var c *canned
	if q := f.canned[r.Method+" "+p]; len(q) > 0 {
		c, f.canned[r.Method+" "+p] = &q[0], q[1:]
	}
	f.mu.Unlock()

	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		writeErr(w, http.StatusUnauthorized, "invalid_token", "The access token provided was invalid.")
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
	if p == "/api/v1/repository" && r.Method == http.MethodGet {
		f.serveRepos(w, r)
		return
	}
	var repo string
	var m []string
	for _, re := range []*regexp.Regexp{reTest, reNotes, reNote} {
		if m = re.FindStringSubmatch(p); m != nil {
			repo = f.repoOf(m[1])
			break
		}
	}
	switch {
	case m == nil:
		f.t.Errorf("unexpected request %s %s", r.Method, p)
		writeErr(w, http.StatusNotFound, "not_found", "Not Found")
		return
	case repo == "":
		writeErr(w, http.StatusNotFound, "not_found", "Not Found")
		return
	}
	f.checkNoQuery(r)
	switch {
	case reNotes.MatchString(p) && r.Method == http.MethodGet:
		f.mu.Lock()
		items := []any{}
		for _, n := range f.notes[repo] {
			items = append(items, n)
		}
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"notifications": items})
	case reNotes.MatchString(p) && r.Method == http.MethodPost:
		n, status, msg := f.checkNotificationBody(r)
		if status != 0 {
			writeErr(w, status, "invalid_request", msg)
			return
		}
		f.mu.Lock()
		n.UUID = f.newUUID()
		f.notes[repo] = append(f.notes[repo], n)
		f.mu.Unlock()
		writeJSON(w, http.StatusCreated, n)
	case reTest.MatchString(p) && r.Method == http.MethodPost:
		if !f.has(repo, m[2]) {
			writeErr(w, http.StatusBadRequest, "invalid_request", "No repository notification found for: "+repo+", "+m[2])
			return
		}
		f.mu.Lock()
		f.tests = append(f.tests, repo+" "+m[2])
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{})
	case reNote.MatchString(p) && r.Method == http.MethodDelete:
		if !f.has(repo, m[2]) {
			writeErr(w, http.StatusBadRequest, "invalid_request", "No repository notification found for: "+repo+", "+m[2])
			return
		}
		f.mu.Lock()
		f.notes[repo] = slices.DeleteFunc(f.notes[repo], func(n *fakeNotification) bool { return n.UUID == m[2] })
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, p)
		writeErr(w, http.StatusMethodNotAllowed, "invalid_request", "Method Not Allowed")
	}
}

// repoOf returns the full name of a known repository from its escaped
// path, or "".
func (f *fakeQuay) repoOf(escaped string) string {
	segs := strings.Split(escaped, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil || url.PathEscape(u) != s {
			f.t.Errorf("repository segment %q is not path-escaped", s)
		}
		segs[i] = u
	}
	full := strings.Join(segs, "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.repos {
		if r.Namespace+"/"+r.Name == full {
			return full
		}
	}
	return ""
}

// has reports whether a repository has a notification.
func (f *fakeQuay) has(repo, uuid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.ContainsFunc(f.notes[repo], func(n *fakeNotification) bool { return n.UUID == uuid })
}

// serveRepos lists a namespace's repositories, a page at a time: the
// next_page token is the index of the page's first repository.
func (f *fakeQuay) serveRepos(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if k != "namespace" && k != "next_page" {
			f.t.Errorf("GET /api/v1/repository: unexpected query parameter %s", k)
		}
	}
	ns := q.Get("namespace")
	if ns == "" {
		writeErr(w, http.StatusBadRequest, "invalid_request", "namespace, starred or public are required for this API call")
		return
	}
	from := 0
	if tok := q.Get("next_page"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page-token-"))
		if err != nil {
			f.t.Errorf("next_page %q is not a token the fake gave", tok)
		}
		from = n
	}
	f.mu.Lock()
	var all []repository
	for _, repo := range f.repos {
		if repo.Namespace == ns {
			all = append(all, repo)
		}
	}
	f.mu.Unlock()
	from = min(from, len(all))
	to := min(from+f.pageSize, len(all))
	body := map[string]any{"repositories": append([]repository{}, all[from:to]...)}
	if to < len(all) {
		body["next_page"] = "page-token-" + strconv.Itoa(to)
	}
	writeJSON(w, http.StatusOK, body)
}

// checkNotificationBody decodes and checks a create body: JSON with
// event, method webhook, config {"url": …} of Reflex's shape naming the
// event, an empty eventConfig, a title; nothing else. It answers a
// status and message for what Quay itself refuses.
func (f *fakeQuay) checkNotificationBody(r *http.Request) (*fakeNotification, int, string) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("%s %s: body: %v", r.Method, r.URL.Path, err)
		return nil, http.StatusBadRequest, "bad body"
	}
	for k := range body {
		if !slices.Contains([]string{"event", "method", "config", "eventConfig", "title"}, k) {
			f.t.Errorf("%s %s: unexpected field %s", r.Method, r.URL.Path, k)
		}
	}
	var n struct {
		Event       string            `json:"event"`
		Method      string            `json:"method"`
		Config      map[string]string `json:"config"`
		EventConfig map[string]any    `json:"eventConfig"`
		Title       string            `json:"title"`
	}
	data, _ := json.Marshal(body)
	if err := json.Unmarshal(data, &n); err != nil || n.Config == nil || n.EventConfig == nil {
		f.t.Errorf("%s %s: body %s: %v", r.Method, r.URL.Path, data, err)
		return nil, http.StatusBadRequest, "bad body"
	}
	if n.Method != "webhook" || len(n.Config) != 1 || len(n.EventConfig) != 0 || !strings.Contains(n.Title, n.Event) {
		f.t.Errorf("%s %s: body %s", r.Method, r.URL.Path, data)
	}
	u, err := url.Parse(n.Config["url"])
	if err != nil || u.Query().Get("event") != n.Event || len(u.Query()) != 1 {
		f.t.Errorf("%s %s: url %q does not name event %s", r.Method, r.URL.Path, n.Config["url"], n.Event)
	}
	if _, _, ok := splitTokenURL(n.Config["url"]); !ok {
		f.t.Errorf("%s %s: url %q is not /hooks/{source}/{token}", r.Method, r.URL.Path, n.Config["url"])
	}
	if !slices.Contains(quayEvents, n.Event) {
		return nil, http.StatusBadRequest, "Unable to find event: " + n.Event
	}
	return &fakeNotification{Title: n.Title, Event: n.Event, Method: n.Method, Config: map[string]any{"url": n.Config["url"]}, EventConfig: n.EventConfig}, 0, ""
}

func (f *fakeQuay) checkNoQuery(r *http.Request) {
	if r.URL.RawQuery != "" {
		f.t.Errorf("%s %s: unexpected query %q", r.Method, r.URL.Path, r.URL.RawQuery)
	}
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

// writeErr answers Quay's problem body.
func writeErr(w http.ResponseWriter, status int, typ, detail string) {
	writeJSON(w, status, map[string]any{"detail": detail, "error_message": detail, "error_type": typ, "title": typ, "status": status})
}
