package github

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reflexops/reflex/hooks"
)

// prefix is where the fake serves the API, as GitHub Enterprise Server
// does.
const prefix = "/api/v3"

// testToken is the personal access token the fake accepts.
const testToken = "ghp_fakeTokenNeverInErrors0123456789"

// fakeHook is a hook the fake holds.
type fakeHook struct {
	ID           int64
	URL          string
	ContentType  string
	Secret       string
	InsecureSSL  string
	Events       []string
	Active       bool
	LastResponse map[string]any
}

// fakeRepo is a repository the fake lists.
type fakeRepo struct {
	Owner, Name string
	Archived    bool
}

// fakeDelivery is a hook delivery the fake lists.
type fakeDelivery struct {
	ID         int64
	GUID       string
	Event      string
	Action     string
	StatusCode int
	Redelivery bool
	At         time.Time
}

// request is a request the fake received.
type request struct {
	Method string
	Path   string // without the prefix
	Query  url.Values
	Auth   string
	Body   []byte
}

// answer is a canned answer the fake gives instead of serving.
type answer struct {
	status int
	header map[string]string
	body   string
}

// fake is an httptest fake of GitHub's REST API. It checks every request:
// the method and path (an unknown one fails the test), the query (each
// list asks 100 a page), the body of creates and updates, and the
// credentials (a wrong one is a 401, as at GitHub).
type fake struct {
	t   *testing.T
	srv *httptest.Server
	mux *http.ServeMux

	mu       sync.Mutex
	token    string // the personal access token accepted; "" with an App
	login    string // the token's user
	pageSize int    // what the fake serves a page, whatever is asked
	nextID   int64
	hooks    map[string][]*fakeHook // by "repos/acme/api" or "orgs/acme"
	orgs     map[string][]fakeRepo
	users    map[string][]fakeRepo
	// deliveries by "repos/acme/api/hooks/1" or "orgs/acme/hooks/1"
	deliveries  map[string][]fakeDelivery
	redelivered []string
	pinged      []string
	requests    []request
	once        map[string][]answer // by "METHOD path": given once each, in turn
	always      map[string]answer
	delay       time.Duration
	authErrors  []string // why requests were refused credentials

	// The App.
	appID         int64
	appKey        *rsa.PublicKey
	tokenTTL      time.Duration
	tokens        map[string]time.Time // installation token → expiry
	tokenInstall  map[string]int64     // installation token → installation
	issued        []string
	installations map[string]int64 // "repos/acme/api", "orgs/acme", "users/bob" → id
	instRepos     map[int64][]fakeRepo
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{
		t:             t,
		mux:           http.NewServeMux(),
		token:         testToken,
		login:         "octo",
		pageSize:      2,
		nextID:        100,
		hooks:         map[string][]*fakeHook{},
		orgs:          map[string][]fakeRepo{},
		users:         map[string][]fakeRepo{},
		deliveries:    map[string][]fakeDelivery{},
		once:          map[string][]answer{},
		always:        map[string]answer{},
		tokens:        map[string]time.Time{},
		tokenInstall:  map[string]int64{},
		installations: map[string]int64{},
		instRepos:     map[int64][]fakeRepo{},
	}
	f.routes()
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// apiURL is the fake's API base URL.
func (f *fake) apiURL() string { return f.srv.URL + prefix + "/" }

// provider returns a Provider on the fake, with the token.
func (f *fake) provider(t *testing.T) *Provider {
	t.Helper()
	p, err := New(Options{Token: testToken, APIURL: f.apiURL(), HTTPClient: f.srv.Client(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// setHooks sets a target's hooks.
func (f *fake) setHooks(key string, hs ...*fakeHook) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks[key] = hs
}

// hook returns a copy of a held hook, or nil.
func (f *fake) hook(key string, id int64) *fakeHook {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, h := range f.hooks[key] {
		if h.ID == id {
			c := *h
			c.Events = slices.Clone(h.Events)
			return &c
		}
	}
	return nil
}

// hooksOf returns copies of a target's hooks.
func (f *fake) hooksOf(key string) []fakeHook {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeHook
	for _, h := range f.hooks[key] {
		c := *h
		c.Events = slices.Clone(h.Events)
		out = append(out, c)
	}
	return out
}

// answerOnce queues a canned answer to "METHOD path".
func (f *fake) answerOnce(key string, a answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.once[key] = append(f.once[key], a)
}

// answerAlways makes "METHOD path" always answer a.
func (f *fake) answerAlways(key string, a answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.always[key] = a
}

// got returns the requests received, optionally only "METHOD path" ones.
func (f *fake) got(key string) []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []request
	for _, r := range f.requests {
		if key == "" || r.Method+" "+r.Path == key {
			out = append(out, r)
		}
	}
	return out
}

// serve records the request, checks its credentials, gives a canned
// answer if one is set, and serves it.
func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	path, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		f.t.Errorf("request outside the API: %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	key := r.Method + " " + path
	f.mu.Lock()
	f.requests = append(f.requests, request{Method: r.Method, Path: path, Query: r.URL.Query(), Auth: r.Header.Get("Authorization"), Body: body})
	delay := f.delay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	// go-github names the API version; ghinstallation's token requests do
	// not.
	if r.Header.Get("X-GitHub-Api-Version") == "" && !strings.HasSuffix(path, "/access_tokens") {
		f.t.Errorf("%s: no X-GitHub-Api-Version", key)
	}
	if err := f.checkAuth(r, path); err != nil {
		f.mu.Lock()
		f.authErrors = append(f.authErrors, key+": "+err.Error())
		f.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	f.mu.Lock()
	a, canned := f.always[key]
	if q := f.once[key]; len(q) > 0 {
		a, canned = q[0], true
		f.once[key] = q[1:]
	}
	f.mu.Unlock()
	if canned {
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
		return
	}
	f.mux.ServeHTTP(w, r)
}

// checkAuth checks a request's credentials: the App's JWT for the App's
// own endpoints, else the token, or a live installation token.
func (f *fake) checkAuth(r *http.Request, path string) error {
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(path, "/app/") || strings.HasSuffix(path, "/installation") {
		return f.checkJWT(auth)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.token != "" {
		if auth != "Bearer "+f.token {
			return fmt.Errorf("bad token")
		}
		return nil
	}
	tok, ok := strings.CutPrefix(auth, "token ")
	exp, known := f.tokens[tok]
	if !ok || !known {
		return fmt.Errorf("not an installation token")
	}
	if time.Now().After(exp) {
		return fmt.Errorf("expired installation token")
	}
	return nil
}

// checkJWT checks the App's JWT: RS256, signed by the App's key, issued
// by the App's id about a minute ago, expiring within 10 minutes.
func (f *fake) checkJWT(auth string) error {
	if f.appKey == nil {
		return fmt.Errorf("no App")
	}
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	var hdr struct{ Alg string }
	var claims struct {
		Iss      string
		Iat, Exp int64
	}
	if err := decodeSegment(parts[0], &hdr); err != nil || hdr.Alg != "RS256" {
		return fmt.Errorf("JWT header: alg %q, %v", hdr.Alg, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(f.appKey, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("JWT signature: %v", err)
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return err
	}
	now := time.Now().Unix()
	if claims.Iss != strconv.FormatInt(f.appID, 10) {
		return fmt.Errorf("JWT iss %q, want the App id %d", claims.Iss, f.appID)
	}
	if claims.Iat > now-55 || claims.Iat < now-70 {
		return fmt.Errorf("JWT iat %d s from now, want about -60", claims.Iat-now)
	}
	if claims.Exp <= now || claims.Exp > now+600 {
		return fmt.Errorf("JWT exp %d s from now, want within 10 minutes", claims.Exp-now)
	}
	return nil
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
}

// page serves one page of n items: it checks that 100 a page were asked,
// serves f.pageSize of them, and links the next page. It returns the
// page's bounds.
func (f *fake) page(w http.ResponseWriter, r *http.Request, n int) (int, int) {
	q := r.URL.Query()
	if q.Get("per_page") != "100" {
		f.t.Errorf("%s %s: per_page %q, want 100", r.Method, r.URL.Path, q.Get("per_page"))
	}
	page := 1
	if s := q.Get("page"); s != "" {
		page, _ = strconv.Atoi(s)
	}
	start := min((page-1)*f.pageSize, n)
	end := min(start+f.pageSize, n)
	if end < n {
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, f.srv.URL, next.RequestURI()))
	}
	return start, end
}

// hookJSON is a hook as GitHub shows it.
func hookJSON(h *fakeHook) map[string]any {
	return map[string]any{
		"id":     h.ID,
		"type":   "Repository",
		"name":   "web",
		"active": h.Active,
		"events": h.Events,
		"config": map[string]any{
			"url":          h.URL,
			"content_type": h.ContentType,
			"insecure_ssl": h.InsecureSSL,
			"secret":       "********",
		},
		"last_response": h.LastResponse,
	}
}

func repoJSON(r fakeRepo) map[string]any {
	return map[string]any{"name": r.Name, "full_name": r.Owner + "/" + r.Name, "archived": r.Archived, "owner": map[string]any{"login": r.Owner}}
}

// hookRequest is the body of a create or an update.
type hookRequest struct {
	Name   *string
	Active *bool
	Events []string
	Config *struct {
		URL         *string `json:"url"`
		ContentType *string `json:"content_type"`
		Secret      *string `json:"secret"`
		InsecureSSL *string `json:"insecure_ssl"`
	}
}

// readHook decodes and checks a create's or an update's body: active, a
// URL, JSON or form, a secret, the certificate checked, some events.
func (f *fake) readHook(r *http.Request, create bool) (*hookRequest, bool) {
	var hr hookRequest
	if err := json.NewDecoder(r.Body).Decode(&hr); err != nil {
		f.t.Errorf("%s %s: body: %v", r.Method, r.URL.Path, err)
		return nil, false
	}
	var bad []string
	if create && (hr.Name == nil || *hr.Name != "web") {
		bad = append(bad, "name is not web")
	}
	if hr.Active == nil || !*hr.Active {
		bad = append(bad, "not active")
	}
	if len(hr.Events) == 0 {
		bad = append(bad, "no events")
	}
	c := hr.Config
	switch {
	case c == nil:
		bad = append(bad, "no config")
	default:
		if c.URL == nil || *c.URL == "" {
			bad = append(bad, "no url")
		}
		if c.ContentType == nil || (*c.ContentType != "json" && *c.ContentType != "form") {
			bad = append(bad, "content_type")
		}
		if c.Secret == nil || *c.Secret == "" {
			bad = append(bad, "no secret")
		}
		if c.InsecureSSL == nil || *c.InsecureSSL != "0" {
			bad = append(bad, "insecure_ssl is not 0")
		}
	}
	if len(bad) > 0 {
		f.t.Errorf("%s %s: body %+v: %s", r.Method, r.URL.Path, hr, strings.Join(bad, ", "))
		return nil, false
	}
	return &hr, true
}

// routes declares the endpoints the fake serves; any other fails the
// test.
func (f *fake) routes() {
	m := f.mux
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		notFound(w)
	})
	for _, kind := range []string{"repos/{owner}/{repo}", "orgs/{owner}"} {
		base := prefix + "/" + kind + "/hooks"
		m.HandleFunc("GET "+base, f.listHooks)
		m.HandleFunc("POST "+base, f.createHook)
		m.HandleFunc("PATCH "+base+"/{id}", f.updateHook)
		m.HandleFunc("DELETE "+base+"/{id}", f.deleteHook)
		m.HandleFunc("POST "+base+"/{id}/pings", f.pingHook)
		m.HandleFunc("GET "+base+"/{id}/deliveries", f.listDeliveries)
		m.HandleFunc("POST "+base+"/{id}/deliveries/{delivery}/attempts", f.redeliver)
	}
	m.HandleFunc("GET "+prefix+"/orgs/{org}/repos", func(w http.ResponseWriter, r *http.Request) {
		f.checkQuery(r, "type", "all")
		f.listRepos(w, r, f.orgs, r.PathValue("org"))
	})
	m.HandleFunc("GET "+prefix+"/users/{user}/repos", func(w http.ResponseWriter, r *http.Request) {
		f.checkQuery(r, "type", "owner")
		f.listRepos(w, r, f.users, r.PathValue("user"))
	})
	m.HandleFunc("GET "+prefix+"/user/repos", func(w http.ResponseWriter, r *http.Request) {
		f.checkQuery(r, "affiliation", "owner")
		f.listRepos(w, r, f.users, f.login)
	})
	m.HandleFunc("GET "+prefix+"/user", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"login": f.login})
	})
	// The App's.
	m.HandleFunc("POST "+prefix+"/app/installations/{id}/access_tokens", f.accessToken)
	m.HandleFunc("GET "+prefix+"/app/installations", f.listInstallations)
	for _, p := range []string{"repos/{a}/{b}", "orgs/{a}", "users/{a}"} {
		kind, _, _ := strings.Cut(p, "/")
		m.HandleFunc("GET "+prefix+"/"+p+"/installation", func(w http.ResponseWriter, r *http.Request) {
			key := kind + "/" + r.PathValue("a")
			if b := r.PathValue("b"); b != "" {
				key += "/" + b
			}
			f.mu.Lock()
			id, ok := f.installations[key]
			f.mu.Unlock()
			if !ok {
				notFound(w)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"id": id, "app_id": f.appID})
		})
	}
	m.HandleFunc("GET "+prefix+"/installation/repositories", f.installationRepos)
}

func (f *fake) checkQuery(r *http.Request, k, want string) {
	if got := r.URL.Query().Get(k); got != want {
		f.t.Errorf("%s %s: %s=%q, want %q", r.Method, r.URL.Path, k, got, want)
	}
}

// target is the fake's key of a request's repository or organization.
func target(r *http.Request) string {
	if repo := r.PathValue("repo"); repo != "" {
		return "repos/" + r.PathValue("owner") + "/" + repo
	}
	return "orgs/" + r.PathValue("owner")
}

func (f *fake) listHooks(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	hs, ok := f.hooks[target(r)]
	f.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	start, end := f.page(w, r, len(hs))
	out := []map[string]any{}
	for _, h := range hs[start:end] {
		out = append(out, hookJSON(h))
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fake) createHook(w http.ResponseWriter, r *http.Request) {
	hr, ok := f.readHook(r, true)
	if !ok {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := target(r)
	hs, known := f.hooks[key]
	if !known {
		notFound(w)
		return
	}
	var full []map[string]any
	for _, e := range hr.Events {
		n := 0
		for _, h := range hs {
			if slices.Contains(h.Events, e) {
				n++
			}
		}
		if n >= 20 {
			full = append(full, map[string]any{"resource": "Hook", "code": "custom", "message": fmt.Sprintf("The %q event cannot have more than 20 hooks", e)})
		}
	}
	if len(full) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": full, "documentation_url": "https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook"})
		return
	}
	f.nextID++
	h := &fakeHook{ID: f.nextID, URL: *hr.Config.URL, ContentType: *hr.Config.ContentType, Secret: *hr.Config.Secret,
		InsecureSSL: *hr.Config.InsecureSSL, Events: hr.Events, Active: *hr.Active,
		LastResponse: map[string]any{"code": nil, "status": "unused", "message": nil}}
	f.hooks[key] = append(hs, h)
	writeJSON(w, http.StatusCreated, hookJSON(h))
}

// find returns a request's hook, or nil.
func (f *fake) find(r *http.Request) *fakeHook {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, h := range f.hooks[target(r)] {
		if h.ID == id {
			return h
		}
	}
	return nil
}

func (f *fake) updateHook(w http.ResponseWriter, r *http.Request) {
	hr, ok := f.readHook(r, false)
	if !ok {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.find(r)
	if h == nil {
		notFound(w)
		return
	}
	h.URL, h.ContentType, h.Secret, h.InsecureSSL = *hr.Config.URL, *hr.Config.ContentType, *hr.Config.Secret, *hr.Config.InsecureSSL
	h.Events, h.Active = hr.Events, *hr.Active
	writeJSON(w, http.StatusOK, hookJSON(h))
}

func (f *fake) deleteHook(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.find(r)
	if h == nil {
		notFound(w)
		return
	}
	key := target(r)
	f.hooks[key] = slices.DeleteFunc(f.hooks[key], func(x *fakeHook) bool { return x == h })
	w.WriteHeader(http.StatusNoContent)
}

func (f *fake) pingHook(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.find(r) == nil {
		notFound(w)
		return
	}
	f.pinged = append(f.pinged, target(r)+"/hooks/"+r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

// listDeliveries serves deliveries f.pageSize a page, newest first, with
// cursor pagination ("cursor" is the index of the page's first).
func (f *fake) listDeliveries(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ds, ok := f.deliveries[target(r)+"/hooks/"+r.PathValue("id")]
	f.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	q := r.URL.Query()
	if q.Get("per_page") != "100" {
		f.t.Errorf("deliveries: per_page %q, want 100", q.Get("per_page"))
	}
	if q.Has("page") {
		f.t.Errorf("deliveries: page %q: they page by cursor", q.Get("page"))
	}
	start := 0
	if c := q.Get("cursor"); c != "" {
		start, _ = strconv.Atoi(strings.TrimPrefix(c, "v1_"))
	}
	start = min(start, len(ds))
	end := min(start+f.pageSize, len(ds))
	if end < len(ds) {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s%s?per_page=100&cursor=v1_%d>; rel="next"`, f.srv.URL, prefix, strings.TrimPrefix(r.URL.Path, prefix), end))
	}
	out := []map[string]any{}
	for _, d := range ds[start:end] {
		out = append(out, map[string]any{"id": d.ID, "guid": d.GUID, "event": d.Event, "action": d.Action, "status_code": d.StatusCode,
			"status": http.StatusText(d.StatusCode), "redelivery": d.Redelivery, "delivered_at": d.At.UTC().Format(time.RFC3339), "duration": 0.1})
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fake) redeliver(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := target(r) + "/hooks/" + r.PathValue("id")
	id, _ := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	for _, d := range f.deliveries[key] {
		if d.ID == id {
			f.redelivered = append(f.redelivered, key+"/deliveries/"+r.PathValue("delivery"))
			writeJSON(w, http.StatusAccepted, map[string]any{})
			return
		}
	}
	notFound(w)
}

func (f *fake) listRepos(w http.ResponseWriter, r *http.Request, from map[string][]fakeRepo, owner string) {
	f.mu.Lock()
	repos, ok := from[owner]
	f.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	start, end := f.page(w, r, len(repos))
	out := []map[string]any{}
	for _, repo := range repos[start:end] {
		out = append(out, repoJSON(repo))
	}
	writeJSON(w, http.StatusOK, out)
}

// accessToken issues an installation token expiring f.tokenTTL on.
func (f *fake) accessToken(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	known := false
	for _, v := range f.installations {
		known = known || v == id
	}
	if !known {
		notFound(w)
		return
	}
	tok := fmt.Sprintf("ghs_installation%d_token%d", id, len(f.issued)+1)
	exp := time.Now().Add(f.tokenTTL).Truncate(time.Second)
	f.tokens[tok] = exp
	f.tokenInstall[tok] = id
	f.issued = append(f.issued, tok)
	writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "expires_at": exp.UTC().Format(time.RFC3339)})
}

func (f *fake) listInstallations(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	var keys []string
	for k := range f.installations {
		if !strings.HasPrefix(k, "repos/") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var all []map[string]any
	for _, k := range keys {
		_, login, _ := strings.Cut(k, "/")
		all = append(all, map[string]any{"id": f.installations[k], "account": map[string]any{"login": login}})
	}
	f.mu.Unlock()
	start, end := f.page(w, r, len(all))
	writeJSON(w, http.StatusOK, append([]map[string]any{}, all[start:end]...))
}

// installationRepos serves the repositories of the request token's
// installation.
func (f *fake) installationRepos(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "token ")
	f.mu.Lock()
	repos := f.instRepos[f.tokenInstall[tok]]
	f.mu.Unlock()
	start, end := f.page(w, r, len(repos))
	out := []map[string]any{}
	for _, repo := range repos[start:end] {
		out = append(out, repoJSON(repo))
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(repos), "repositories": out})
}

// withApp makes the fake accept a GitHub App's credentials instead of
// the token, and returns the App's private key, PEM-encoded.
func (f *fake) withApp(appID int64, ttl time.Duration) []byte {
	f.t.Helper()
	key := testKey(f.t)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = ""
	f.appID = appID
	f.appKey = &key.PublicKey
	f.tokenTTL = ttl
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

// testKey is an RSA key made once for the tests.
func testKey(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		key, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
	})
	return key
}

// progress records the lines reported through hooks.WithProgress.
type progress struct {
	mu    sync.Mutex
	lines []string
}

func (p *progress) ctx(ctx context.Context) context.Context {
	return hooks.WithProgress(ctx, func(format string, args ...any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.lines = append(p.lines, fmt.Sprintf(format, args...))
	})
}

func (p *progress) has(sub string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func (p *progress) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}
