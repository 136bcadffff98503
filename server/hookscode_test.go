package server_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reflexops/reflex/config"
	"github.com/reflexops/reflex/server"
)

// fakeGitHubHooks is GitHub's repository hooks API for one repository,
// acme/api, which holds a foreign hook to begin with. It checks the token
// of every request, and keeps the secret each hook was given.
type fakeGitHubHooks struct {
	*httptest.Server
	mu      sync.Mutex
	next    int
	hooks   []map[string]any
	secrets map[int]string
	bad     []string
	// deliveries are Reflex's hook's recorded deliveries; a redelivery
	// posts the delivery's body to deliverTo, signed with the hook's
	// secret, and records another attempt.
	deliveries  []map[string]any
	bodies      map[string][]byte
	deliverTo   string
	redelivered []string
}

func newFakeGitHubHooks(t *testing.T) *fakeGitHubHooks {
	f := &fakeGitHubHooks{secrets: map[int]string{}}
	f.add("https://ci.example.com/hook", []any{"push"}, "foreign-secret")
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.Close()
		if len(f.bad) > 0 {
			t.Errorf("the fake GitHub got requests it did not expect: %q", f.bad)
		}
	})
	return f
}

func (f *fakeGitHubHooks) add(url string, events []any, secret string) map[string]any {
	f.next++
	h := map[string]any{"id": f.next, "type": "Repository", "name": "web", "active": true, "events": events,
		"config": map[string]any{"url": url, "content_type": "json", "insecure_ssl": "0"}}
	f.hooks = append(f.hooks, h)
	f.secrets[f.next] = secret
	return h
}

func (f *fakeGitHubHooks) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	if r.Header.Get("Authorization") != "Bearer gh-admin-token" && r.Header.Get("Authorization") != "token gh-admin-token" {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && path == "/repos/acme/api/hooks":
		json.NewEncoder(w).Encode(f.hooks)
	case r.Method == http.MethodPost && path == "/repos/acme/api/hooks":
		var body struct {
			Config map[string]any `json:"config"`
			Events []any          `json:"events"`
			Active *bool          `json:"active"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Active == nil || !*body.Active {
			f.bad = append(f.bad, "create without active: true")
		}
		secret, _ := body.Config["secret"].(string)
		url, _ := body.Config["url"].(string)
		h := f.add(url, body.Events, secret)
		h["config"].(map[string]any)["content_type"] = body.Config["content_type"]
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(h)
	case strings.Contains(path, "/deliveries"):
		f.serveDeliveries(w, r, path)
	case strings.HasPrefix(path, "/repos/acme/api/hooks/"):
		id, _ := strconv.Atoi(strings.TrimPrefix(path, "/repos/acme/api/hooks/"))
		for i, h := range f.hooks {
			if h["id"] != id {
				continue
			}
			if id == 1 {
				f.bad = append(f.bad, r.Method+" of the foreign hook")
			}
			switch r.Method {
			case http.MethodPatch:
				var body struct {
					Config map[string]any `json:"config"`
					Events []any          `json:"events"`
				}
				_ = json.NewDecoder(r.Body).Decode(&body)
				if s, ok := body.Config["secret"].(string); ok {
					f.secrets[id] = s
				}
				if body.Events != nil {
					h["events"] = body.Events
				}
				json.NewEncoder(w).Encode(h)
			case http.MethodDelete:
				f.hooks = append(f.hooks[:i], f.hooks[i+1:]...)
				w.WriteHeader(http.StatusNoContent)
			default:
				f.bad = append(f.bad, r.Method+" "+path)
			}
			return
		}
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	default:
		f.bad = append(f.bad, r.Method+" "+path)
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	}
}

// hookOf returns Reflex's hook and the secret it was given.
func (f *fakeGitHubHooks) hookOf(t *testing.T) (map[string]any, string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var found map[string]any
	for _, h := range f.hooks {
		if strings.HasPrefix(h["config"].(map[string]any)["url"].(string), "https://reflex.example.com/") {
			if found != nil {
				t.Fatal("two hooks of Reflex")
			}
			found = h
		}
	}
	if found == nil {
		return nil, ""
	}
	return found, f.secrets[found["id"].(int)]
}

// hooksCall posts to the hooks API and decodes the answer.
func hooksCall(t *testing.T, in *instance, op string, out any) reply {
	t.Helper()
	r, _ := master(t, in, "POST", "/api/v1/hooks/"+op, `{}`)
	if r.Code != http.StatusOK {
		t.Fatalf("hooks %s: %d %s", op, r.Code, r.Body)
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		t.Fatalf("hooks %s: %v in %s", op, err, r.Body)
	}
	return r
}

// startWithHooks starts Reflex with hooks settings that reach gh, and a
// source acme-github, without a secret, that declares its hook at
// acme/api.
func startWithHooks(t *testing.T, gh *fakeGitHubHooks, tweaks ...func(*server.Options)) *instance {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	t.Setenv("REFLEX_TEST_GH_TOKEN", "gh-admin-token")
	return start(t, newRedis(t), logOnFailure(t), func(o *server.Options) {
		o.Config = &config.Config{
			Encryption: &config.EncryptionSpec{Keys: []config.KeySpec{{ID: "k1", Secret: key}}},
			Hooks:      &config.HooksSpec{PublicURL: "https://reflex.example.com", GitHub: &config.GitHubHooksSpec{Token: "env:REFLEX_TEST_GH_TOKEN", APIURL: gh.URL + "/api/v3/"}},
			Sources: []config.SourceSpec{{Name: "acme-github", Connector: "github", Hooks: &config.SourceHooksSpec{
				Provider: "github", Repositories: []string{"acme/api"}, Events: []string{"push", "workflow_run"},
			}}},
		}
		// As reflex serve does with its configuration's keys.
		keys, err := o.Config.KeyRing()
		if err != nil {
			t.Fatal(err)
		}
		o.Store.Keys = keys
		for _, tweak := range tweaks {
			tweak(o)
		}
	})
}

// TestHooksAsCode: a source declares its hook at a GitHub repository and
// has no secret. The plan shows a create; the apply creates the hook with
// the source's URL, events and content type, and a generated secret that
// the source then verifies deliveries with (and that no answer shows); a
// second plan shows nothing; the foreign hook is never touched.
func TestHooksAsCode(t *testing.T) {
	gh := newFakeGitHubHooks(t)
	in := startWithHooks(t, gh)
	var p struct {
		Changes []struct {
			Op     string `json:"op"`
			Source string `json:"source"`
		} `json:"changes"`
	}
	hooksCall(t, in, "plan", &p)
	if len(p.Changes) != 1 || p.Changes[0].Op != "create" || p.Changes[0].Source != "acme-github" {
		t.Fatalf("plan: %+v", p)
	}
	if h, _ := gh.hookOf(t); h != nil {
		t.Fatal("the plan created a hook")
	}
	r := hooksCall(t, in, "apply", &struct{}{})
	h, secret := gh.hookOf(t)
	if h == nil {
		t.Fatalf("apply made no hook: %s", r.Body)
	}
	cfg := h["config"].(map[string]any)
	if cfg["url"] != "https://reflex.example.com/hooks/acme-github" || cfg["content_type"] != "json" || fmt.Sprint(h["events"]) != "[push workflow_run]" || len(secret) != 64 {
		t.Fatalf("hook %v, secret of %d characters", h, len(secret))
	}
	if strings.Contains(string(r.Body), secret) {
		t.Fatal("the apply's answer shows the secret")
	}
	hooksCall(t, in, "plan", &p)
	if len(p.Changes) != 0 {
		t.Fatalf("second plan: %+v", p)
	}
	// The source verifies with the secret the hook was given.
	hdr, body := signedPush(t, secret, "generated-secret")
	waitFor(t, func() bool { return post(t, in.URL+"/hooks/acme-github", hdr, body).Code == http.StatusAccepted })
	// The secret is in the source's sealed sensitive part, not its
	// content.
	var src struct {
		Content map[string]any `json:"content"`
	}
	if obj, _ := master(t, in, "GET", "/api/v1/source/acme-github", ""); json.Unmarshal(obj.Body, &src) != nil || strings.Contains(fmt.Sprint(src.Content), secret) {
		t.Fatalf("the source's content shows its secret: %s", obj.Body)
	}
}

// signedPush is a GitHub push signed with secret.
func signedPush(t *testing.T, secret, id string) (http.Header, []byte) {
	f := fixture(t, "push.branch")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(f.Body)
	h := f.Header.Clone()
	h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("X-GitHub-Delivery", id)
	return h, f.Body
}

// TestHooksRotate: a rotation gives the hook a new secret; during the
// grace period deliveries signed with either verify; after it, the old
// secret is refused and the new one still verifies.
func TestHooksRotate(t *testing.T) {
	gh := newFakeGitHubHooks(t)
	in := startWithHooks(t, gh, func(o *server.Options) { o.RetireInterval = 100 * time.Millisecond })
	hooksCall(t, in, "apply", &struct{}{})
	_, old := gh.hookOf(t)
	r, _ := master(t, in, "POST", "/api/v1/hooks/rotate", `{"source":"acme-github","grace":"2s"}`)
	if r.Code != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.Code, r.Body)
	}
	_, fresh := gh.hookOf(t)
	if fresh == old || len(fresh) != 64 || strings.Contains(string(r.Body), fresh) || strings.Contains(string(r.Body), old) {
		t.Fatalf("rotation answered %s; the hook's secret changed %v", r.Body, fresh != old)
	}
	url := in.URL + "/hooks/acme-github"
	for i, secret := range []string{old, fresh} {
		h, b := signedPush(t, secret, fmt.Sprintf("grace-%d", i))
		if a := post(t, url, h, b); a.Code != http.StatusAccepted {
			t.Fatalf("during the grace period, secret %d: %d %s", i, a.Code, a.Body)
		}
	}
	waitFor(t, func() bool {
		h, b := signedPush(t, old, "after-old")
		return post(t, url, h, b).Code == http.StatusUnauthorized
	})
	h, b := signedPush(t, fresh, "after-new")
	if a := post(t, url, h, b); a.Code != http.StatusAccepted {
		t.Fatalf("after the grace period, the new secret: %d %s", a.Code, a.Body)
	}
}

// serveDeliveries serves the deliveries of Reflex's hook, and their
// redelivery, which posts the body to Reflex as GitHub would.
func (f *fakeGitHubHooks) serveDeliveries(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(path, "/deliveries"):
		if r.URL.Query().Get("per_page") != "100" {
			f.bad = append(f.bad, "deliveries without per_page=100")
		}
		json.NewEncoder(w).Encode(f.deliveries)
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/attempts"):
		id := strings.TrimSuffix(path[strings.LastIndex(strings.TrimSuffix(path, "/attempts"), "/")+1:], "/attempts")
		var d map[string]any
		for _, x := range f.deliveries {
			if fmt.Sprint(x["id"]) == id {
				d = x
			}
		}
		if d == nil {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		guid := d["guid"].(string)
		f.redelivered = append(f.redelivered, guid)
		_, secret := f.hookOfLocked()
		body := f.bodies[guid]
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		req, _ := http.NewRequest(http.MethodPost, f.deliverTo, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", guid)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		status := 0
		if resp, err := http.DefaultClient.Do(req); err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		f.deliveries = append([]map[string]any{{"id": len(f.deliveries) + 100, "guid": guid, "event": "push", "status_code": status,
			"redelivery": true, "delivered_at": time.Now().UTC().Format(time.RFC3339)}}, f.deliveries...)
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{}`)
	default:
		f.bad = append(f.bad, r.Method+" "+path)
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	}
}

// hookOfLocked is hookOf for a caller that holds f.mu.
func (f *fakeGitHubHooks) hookOfLocked() (map[string]any, string) {
	for _, h := range f.hooks {
		if strings.HasPrefix(h["config"].(map[string]any)["url"].(string), "https://reflex.example.com/") {
			return h, f.secrets[h["id"].(int)]
		}
	}
	return nil, ""
}

// TestHooksRedeliver: GitHub reports three failed deliveries of Reflex's
// hook, one of which Reflex holds already (GitHub's answer timed out
// after Reflex had queued it); a dry run counts two; the redelivery asks
// for exactly those two, which then arrive, and every event is present
// once.
func TestHooksRedeliver(t *testing.T) {
	gh := newFakeGitHubHooks(t)
	in := startWithHooks(t, gh)
	hooksCall(t, in, "apply", &struct{}{})
	_, secret := gh.hookOf(t)
	// held reached Reflex, though GitHub saw it fail.
	h, body := signedPush(t, secret, "held")
	if a := post(t, in.URL+"/hooks/acme-github", h, body); a.Code != http.StatusAccepted {
		t.Fatalf("held: %d %s", a.Code, a.Body)
	}
	now := time.Now().UTC()
	gh.mu.Lock()
	gh.deliverTo = in.URL + "/hooks/acme-github"
	gh.bodies = map[string][]byte{}
	for i, d := range []struct {
		guid   string
		status int
	}{{"held", 504}, {"lost-1", 0}, {"lost-2", 503}, {"fine", 202}} {
		gh.deliveries = append(gh.deliveries, map[string]any{"id": i + 1, "guid": d.guid, "event": "push", "status_code": d.status,
			"delivered_at": now.Add(-time.Duration(i+1) * time.Minute).Format(time.RFC3339)})
		gh.bodies[d.guid] = body
	}
	gh.mu.Unlock()

	var sum struct {
		Hooks, Found, Present, Redelivered, Failed int
		DryRun                                     bool `json:"dry_run"`
	}
	r, _ := master(t, in, "POST", "/api/v1/hooks/redeliver", `{"since":"1h","dry_run":true}`)
	if r.Code != http.StatusOK || json.Unmarshal(r.Body, &sum) != nil || sum.Redelivered != 2 || !sum.DryRun || len(gh.redelivered) != 0 {
		t.Fatalf("dry run: %d %s, asked %v", r.Code, r.Body, gh.redelivered)
	}
	r, _ = master(t, in, "POST", "/api/v1/hooks/redeliver", `{"since":"1h"}`)
	if r.Code != http.StatusOK || json.Unmarshal(r.Body, &sum) != nil {
		t.Fatalf("redeliver: %d %s", r.Code, r.Body)
	}
	if sum.Hooks != 1 || sum.Found != 3 || sum.Present != 1 || sum.Redelivered != 2 || sum.Failed != 0 {
		t.Fatalf("summary %s", r.Body)
	}
	if fmt.Sprint(gh.redelivered) != "[lost-1 lost-2]" {
		t.Fatalf("redelivered %v, want lost-1 and lost-2", gh.redelivered)
	}
	for _, id := range []string{"held", "lost-1", "lost-2"} {
		waitProcessed(t, in, id)
	}
	// A second redelivery finds them delivered, and asks for nothing.
	r, _ = master(t, in, "POST", "/api/v1/hooks/redeliver", `{"since":"1h"}`)
	if json.Unmarshal(r.Body, &sum) != nil || sum.Redelivered != 0 || len(gh.redelivered) != 2 {
		t.Fatalf("second redelivery: %s, asked %v", r.Body, gh.redelivered)
	}
	var page []struct{ ID string }
	apiGet(t, in, "/api/v1/events?source=acme-github&limit=100", &page)
	count := map[string]int{}
	for _, e := range page {
		count[e.ID]++
	}
	for _, id := range []string{"held", "lost-1", "lost-2"} {
		if count[id] != 1 {
			t.Errorf("event %s is present %d times, want once", id, count[id])
		}
	}
}
