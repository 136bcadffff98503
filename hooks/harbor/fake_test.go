package harbor

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

// The credentials the fake accepts: a robot account's.
const (
	testUser     = "robot$reflex-hooks"
	testPassword = "robot-secret-0123456789"
)

// canned is an answer the fake gives once, before handling a request.
type canned struct {
	status int
	header map[string]string
	body   string
}

// fakeTarget is a policy's target as the fake holds it.
type fakeTarget struct {
	Type           string `json:"type"`
	Address        string `json:"address"`
	AuthHeader     string `json:"auth_header"`
	SkipCertVerify bool   `json:"skip_cert_verify"`
	PayloadFormat  string `json:"payload_format"`
}

// fakePolicy is a webhook policy as the fake holds it, and shows it.
type fakePolicy struct {
	ID           int64        `json:"id"`
	Name         string       `json:"name"`
	Description  string       `json:"description"`
	ProjectID    int64        `json:"project_id"`
	Targets      []fakeTarget `json:"targets"`
	EventTypes   []string     `json:"event_types"`
	Creator      string       `json:"creator"`
	CreationTime string       `json:"creation_time"`
	UpdateTime   string       `json:"update_time"`
	Enabled      bool         `json:"enabled"`
}

// fakeProject is a project the fake holds.
type fakeProject struct {
	ID     int64
	Name   string
	Public bool
	// forbidden makes its webhook policies the account's to see not.
	forbidden bool
}

// supportedEvents are the event types the fake's Harbor takes.
var supportedEvents = []string{
	"PUSH_ARTIFACT", "PULL_ARTIFACT", "DELETE_ARTIFACT", "QUOTA_EXCEED", "QUOTA_WARNING",
	"SCANNING_FAILED", "SCANNING_STOPPED", "SCANNING_COMPLETED", "REPLICATION", "TAG_RETENTION",
}

// fakeHarbor is an httptest fake of Harbor's project and webhook policy
// APIs. It checks every request it receives (credentials, method, path,
// X-Is-Resource-Name, query, body) and reports what does not fit through
// t.Errorf.
type fakeHarbor struct {
	t   *testing.T
	srv *httptest.Server

	// pageSize is how many items a page holds (the fake pages small to
	// make several pages).
	pageSize int
	// noLink and noTotal leave the Link or the X-Total-Count header out.
	noLink, noTotal bool
	// noLocation answers a create without its Location.
	noLocation bool

	mu       sync.Mutex
	nextID   int64
	projects []*fakeProject
	policies map[string][]*fakePolicy // by project name
	canned   map[string][]canned      // by "METHOD escaped-path"
	log      []string                 // "METHOD escaped-path?query"
}

func newFake(t *testing.T) *fakeHarbor {
	t.Helper()
	f := &fakeHarbor{t: t, pageSize: 2, nextID: 10, policies: map[string][]*fakePolicy{}, canned: map[string][]canned{}}
	f.addProject("acme", false)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// provider returns a Provider on the fake.
func (f *fakeHarbor) provider(o Options) *Provider {
	f.t.Helper()
	if o.Username == "" {
		o.Username = testUser
	}
	if o.Password == "" {
		o.Password = testPassword
	}
	o.BaseURL = f.srv.URL
	o.HTTPClient = f.srv.Client()
	p, err := New(o)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// addProject adds a project.
func (f *fakeHarbor) addProject(name string, public bool) *fakeProject {
	f.mu.Lock()
	defer f.mu.Unlock()
	pr := &fakeProject{ID: int64(len(f.projects) + 1), Name: name, Public: public}
	f.projects = append(f.projects, pr)
	return pr
}

// project returns a project by name.
func (f *fakeHarbor) project(name string) *fakeProject {
	for _, pr := range f.projects {
		if pr.Name == name {
			return pr
		}
	}
	return nil
}

// addPolicy stores a policy at a project with one http target, and
// returns its id.
func (f *fakeHarbor) addPolicy(project, name, address, authHeader string, events []string, enabled bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	pol := &fakePolicy{
		ID: f.nextID, Name: name, ProjectID: f.project(project).ID, EventTypes: events, Enabled: enabled,
		Targets: []fakeTarget{{Type: "http", Address: address, AuthHeader: authHeader, PayloadFormat: "Default"}},
		Creator: "admin", CreationTime: "2024-05-01T10:00:00.000Z", UpdateTime: "2024-05-01T10:00:00.000Z",
	}
	f.policies[project] = append(f.policies[project], pol)
	return strconv.FormatInt(pol.ID, 10)
}

// policy returns a copy of a stored policy, or nil.
func (f *fakeHarbor) policy(project, id string) *fakePolicy {
	f.mu.Lock()
	defer f.mu.Unlock()
	if pol := f.find(project, id); pol != nil {
		c := *pol
		c.Targets = slices.Clone(pol.Targets)
		c.EventTypes = slices.Clone(pol.EventTypes)
		return &c
	}
	return nil
}

func (f *fakeHarbor) find(project, id string) *fakePolicy {
	for _, pol := range f.policies[project] {
		if strconv.FormatInt(pol.ID, 10) == id {
			return pol
		}
	}
	return nil
}

// answerOnce makes the fake answer the next "METHOD escaped-path" with c.
func (f *fakeHarbor) answerOnce(key string, c canned) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canned[key] = append(f.canned[key], c)
}

// requests returns the requests received, "METHOD path?query".
func (f *fakeHarbor) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

var (
	rePolicies = regexp.MustCompile(`^/api/v2\.0/projects/([^/]+)/webhook/policies$`)
	rePolicy   = regexp.MustCompile(`^/api/v2\.0/projects/([^/]+)/webhook/policies/(\d+)$`)
)

func (f *fakeHarbor) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	f.mu.Lock()
	f.log = append(f.log, r.Method+" "+p+queryOf(r))
	var c *canned
	if q := f.canned[r.Method+" "+p]; len(q) > 0 {
		c, f.canned[r.Method+" "+p] = &q[0], q[1:]
	}
	f.mu.Unlock()

	if user, pass, ok := r.BasicAuth(); !ok || user != testUser || pass != testPassword {
		writeErr(w, http.StatusUnauthorized, "UNAUTHORIZED", "unauthorized")
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
	if p == "/api/v2.0/projects" && r.Method == http.MethodGet {
		f.checkPageQuery(r, map[string]string{"with_detail": "false"})
		f.mu.Lock()
		var items []any
		for _, pr := range f.projects {
			items = append(items, map[string]any{"project_id": pr.ID, "name": pr.Name, "metadata": map[string]string{"public": strconv.FormatBool(pr.Public)}})
		}
		f.mu.Unlock()
		f.page(w, r, items)
		return
	}
	var m []string
	if m = rePolicies.FindStringSubmatch(p); m == nil {
		m = rePolicy.FindStringSubmatch(p)
	}
	if m == nil {
		f.t.Errorf("unexpected request %s %s", r.Method, p)
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "not found")
		return
	}
	if r.Header.Get("X-Is-Resource-Name") != "true" {
		f.t.Errorf("%s %s: X-Is-Resource-Name = %q, want true", r.Method, p, r.Header.Get("X-Is-Resource-Name"))
	}
	name, err := url.PathUnescape(m[1])
	if err != nil || url.PathEscape(name) != m[1] {
		f.t.Errorf("%s %s: project %q is not path-escaped", r.Method, p, m[1])
	}
	f.mu.Lock()
	pr := f.project(name)
	f.mu.Unlock()
	switch {
	case pr == nil:
		writeErr(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("project %s not found", name))
		return
	case pr.forbidden:
		writeErr(w, http.StatusForbidden, "FORBIDDEN", "forbidden")
		return
	}
	if len(m) == 2 {
		f.servePolicies(w, r, pr)
		return
	}
	f.servePolicy(w, r, pr, m[2])
}

// servePolicies lists or creates a project's policies.
func (f *fakeHarbor) servePolicies(w http.ResponseWriter, r *http.Request, pr *fakeProject) {
	switch r.Method {
	case http.MethodGet:
		if r.URL.Query().Get("page_size") == "1" { // Expand's permission probe
			if q := r.URL.Query(); q.Get("page") != "1" || len(q) != 2 {
				f.t.Errorf("probe query %q", r.URL.RawQuery)
			}
			f.mu.Lock()
			items := []any{}
			if len(f.policies[pr.Name]) > 0 {
				items = append(items, f.policies[pr.Name][0])
			}
			f.mu.Unlock()
			writeJSON(w, http.StatusOK, items)
			return
		}
		f.checkPageQuery(r, nil)
		f.mu.Lock()
		var items []any
		for _, pol := range f.policies[pr.Name] {
			items = append(items, pol)
		}
		f.mu.Unlock()
		f.page(w, r, items)
	case http.MethodPost:
		pol, status, msg := f.checkPolicyBody(r, false)
		if status != 0 {
			writeErr(w, status, "BAD_REQUEST", msg)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, o := range f.policies[pr.Name] {
			if o.Name == pol.Name {
				writeErr(w, http.StatusConflict, "CONFLICT", "notification policy named "+pol.Name+" already exists")
				return
			}
		}
		f.nextID++
		pol.ID, pol.ProjectID = f.nextID, pr.ID
		pol.Creator, pol.CreationTime, pol.UpdateTime = testUser, "2024-05-02T10:00:00.000Z", "2024-05-02T10:00:00.000Z"
		f.policies[pr.Name] = append(f.policies[pr.Name], pol)
		if !f.noLocation {
			w.Header().Set("Location", r.URL.Path+"/"+strconv.FormatInt(pol.ID, 10))
		}
		w.WriteHeader(http.StatusCreated)
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		writeErr(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method not allowed")
	}
}

// servePolicy reads, replaces or deletes one policy.
func (f *fakeHarbor) servePolicy(w http.ResponseWriter, r *http.Request, pr *fakeProject, id string) {
	f.checkNoQuery(r)
	f.mu.Lock()
	pol := f.find(pr.Name, id)
	f.mu.Unlock()
	if pol == nil {
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "notificationPolicy "+id+" not found")
		return
	}
	switch r.Method {
	case http.MethodGet:
		f.mu.Lock()
		defer f.mu.Unlock()
		writeJSON(w, http.StatusOK, pol)
	case http.MethodPut:
		body, status, msg := f.checkPolicyBody(r, true)
		if status != 0 {
			writeErr(w, status, "BAD_REQUEST", msg)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		// Harbor's update replaces every column with the body's.
		body.ID, body.ProjectID, body.UpdateTime = pol.ID, pol.ProjectID, "2024-05-03T10:00:00.000Z"
		*pol = *body
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		f.mu.Lock()
		defer f.mu.Unlock()
		f.policies[pr.Name] = slices.DeleteFunc(f.policies[pr.Name], func(p *fakePolicy) bool { return p == pol })
		w.WriteHeader(http.StatusOK)
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		writeErr(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method not allowed")
	}
}

// checkPolicyBody decodes and checks a create (or, full, an update)
// body: JSON with the fields Harbor takes and no others; a name; enabled;
// event types Harbor supports; one http target with an auth header, its
// certificate verified, the Default format. It answers a status and
// message for what Harbor itself refuses.
func (f *fakeHarbor) checkPolicyBody(r *http.Request, full bool) (*fakePolicy, int, string) {
	f.checkNoQuery(r)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		f.t.Errorf("%s %s: body: %v", r.Method, r.URL.Path, err)
		return nil, http.StatusBadRequest, "bad body"
	}
	allowed := []string{"name", "description", "enabled", "event_types", "targets"}
	if full {
		allowed = append(allowed, "id", "project_id", "creator", "creation_time", "update_time")
	}
	for k := range raw {
		if !slices.Contains(allowed, k) {
			f.t.Errorf("%s %s: unexpected field %s", r.Method, r.URL.Path, k)
		}
	}
	data, _ := json.Marshal(raw)
	var pol fakePolicy
	if err := json.Unmarshal(data, &pol); err != nil {
		f.t.Errorf("%s %s: body: %v", r.Method, r.URL.Path, err)
		return nil, http.StatusBadRequest, "bad body"
	}
	if pol.Name == "" || !pol.Enabled {
		f.t.Errorf("%s %s: name %q, enabled %v", r.Method, r.URL.Path, pol.Name, pol.Enabled)
	}
	if len(pol.Targets) != 1 {
		f.t.Errorf("%s %s: %d targets, want 1", r.Method, r.URL.Path, len(pol.Targets))
		return nil, http.StatusBadRequest, "empty notification target"
	}
	if tg := pol.Targets[0]; tg.Type != "http" || tg.Address == "" || tg.AuthHeader == "" || tg.SkipCertVerify || tg.PayloadFormat != "Default" {
		f.t.Errorf("%s %s: target %+v", r.Method, r.URL.Path, tg)
	}
	if len(pol.EventTypes) == 0 {
		return nil, http.StatusBadRequest, "empty event type"
	}
	for _, e := range pol.EventTypes {
		if !slices.Contains(supportedEvents, e) {
			return nil, http.StatusBadRequest, "unsupported event type " + e
		}
	}
	return &pol, 0, ""
}

// page answers one page of items, with Harbor's X-Total-Count and
// (relative) Link headers.
func (f *fakeHarbor) page(w http.ResponseWriter, r *http.Request, items []any) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	from := min((page-1)*f.pageSize, len(items))
	to := min(from+f.pageSize, len(items))
	var links []string
	link := func(n int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return fmt.Sprintf(`<%s?%s>; rel="%s"`, r.URL.Path, q.Encode(), rel)
	}
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if to < len(items) {
		links = append(links, link(page+1, "next"))
	}
	if !f.noLink && len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, " , "))
	}
	if !f.noTotal {
		w.Header().Set("X-Total-Count", strconv.Itoa(len(items)))
	}
	part := items[from:to]
	if part == nil {
		part = []any{}
	}
	writeJSON(w, http.StatusOK, part)
}

// checkPageQuery checks a listing's query: page_size=100, page ≥ 1, the
// other parameters want says, nothing else.
func (f *fakeHarbor) checkPageQuery(r *http.Request, want map[string]string) {
	q := r.URL.Query()
	if q.Get("page_size") != "100" {
		f.t.Errorf("%s %s: page_size = %q, want 100", r.Method, r.URL.Path, q.Get("page_size"))
	}
	if n, err := strconv.Atoi(q.Get("page")); err != nil || n < 1 {
		f.t.Errorf("%s %s: page = %q", r.Method, r.URL.Path, q.Get("page"))
	}
	for k := range q {
		if _, ok := want[k]; !ok && k != "page_size" && k != "page" {
			f.t.Errorf("%s %s: unexpected query parameter %s", r.Method, r.URL.Path, k)
		}
	}
	for k, v := range want {
		if q.Get(k) != v {
			f.t.Errorf("%s %s: %s = %q, want %q", r.Method, r.URL.Path, k, q.Get(k), v)
		}
	}
}

func (f *fakeHarbor) checkNoQuery(r *http.Request) {
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

// writeErr answers Harbor's error body.
func writeErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}
