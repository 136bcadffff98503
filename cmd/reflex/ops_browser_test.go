package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromium returns the path of a Chromium to drive, or skips the test with
// what to install.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("REFLEX_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("no Chromium to drive: install Debian's chromium package (apt-get install chromium), or set REFLEX_CHROMIUM")
	return ""
}

// artifacts returns the folder the browser tests save screenshots in:
// $REFLEX_ARTIFACTS, or .artifacts/browser at the repository's root.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("REFLEX_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", ".artifacts")
	}
	dir = filepath.Join(dir, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts a headless Chromium and returns a context that drives
// one tab of it, for at most a minute.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Skipf("Chromium does not start here: %v", err)
	}
	return ctx
}

// screenshot saves the whole page as name.png among the artifacts.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", path)
}

// steps runs browser steps, each group bounded by stepTimeout, and
// fails the test with the page's HTML when they fail.
func steps(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v\npage:\n%s", what, err, pageHTML(ctx))
	}
}

// textOf waits for an element and returns its text.
func textOf(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	text, err := chromedp.Run(sctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("%s: %v\npage:\n%s", sel, err, pageHTML(ctx))
	}
	return text
}

// stepTimeout bounds one group of browser steps.
const stepTimeout = 20 * time.Second

// pageHTML returns the page's body, for a failure's message.
func pageHTML(ctx context.Context) string {
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
	return html
}

// localhost is a server's URL with "localhost" for its host, so that a
// page on 127.0.0.1 is another site to the browser.
func localhost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "localhost:" + u.Port()
	return u.String()
}

// adminAPI calls the API with the admin key and returns the status.
func adminAPI(t *testing.T, p *process, method, path string) int {
	t.Helper()
	req, _ := http.NewRequest(method, p.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+e2eAdminKey)
	resp, err := p.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sendPush sends the GitHub push fixture as delivery id.
func sendPush(t *testing.T, p *process, id string) {
	t.Helper()
	stdout, stderr, code := reflexCmd(t, nil, "send", "--url", p.url, "--source", "acme-github", "--secret", e2eSecret,
		"--delivery", id, "../../fixtures/github/push.branch.json")
	if code != 0 || !strings.HasPrefix(stdout, "202") {
		t.Fatalf("send %s = %d %s %s", id, code, stdout, stderr)
	}
}

// TestOpsPagesWithoutSession: without a session, pages send the browser
// to the sign-in form and everything else answers 401; the sign-in form
// refuses a post that did not come from it.
func TestOpsPagesWithoutSession(t *testing.T) {
	p := serve(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		method, path, accept string
		want                 int
		location             string
	}{
		{"GET", "/ops/", "text/html", http.StatusSeeOther, "/ops/login?next=%2Fops%2F"},
		{"GET", "/ops/queues/", "text/html", http.StatusSeeOther, "/ops/login?next=%2Fops%2Fqueues%2F"},
		{"GET", "/ops/queues/api/queues", "application/json", http.StatusUnauthorized, ""},
		{"POST", "/ops/queues/api/queues/events:pause", "application/json", http.StatusUnauthorized, ""},
		{"GET", "/ops/feed", "text/event-stream", http.StatusUnauthorized, ""},
		{"POST", "/ops/login", "text/html", http.StatusForbidden, ""},
	} {
		req, _ := http.NewRequest(tc.method, p.url+tc.path, strings.NewReader("apikey="+e2eAdminKey))
		req.Header.Set("Accept", tc.accept)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want || resp.Header.Get("Location") != tc.location {
			t.Errorf("%s %s = %d (Location %q), want %d (%q)", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.want, tc.location)
		}
		if strings.Contains(resp.Header.Get("Set-Cookie"), "reflex_session") {
			t.Errorf("%s %s set a session cookie", tc.method, tc.path)
		}
	}
}

// TestOpsInBrowser drives the operators' pages in headless Chromium
// against a running `reflex serve`: sign in with a key, see a webhook
// appear live on the events page, retry an archived job from the queue
// UI and see it processed, and see a cross-site form refused. Screenshots
// of each step are saved among the artifacts.
func TestOpsInBrowser(t *testing.T) {
	ctx := browser(t)
	p := serve(t)
	base := localhost(t, p.url)
	for _, args := range [][]string{
		{"create", "pipeline", "-c", `{"name":"web","services":["web"]}`},
		{"create", "service", "-c", `{"name":"web","pipeline":"web"}`},
		{"create", "trigger", "-c", `{"name":"web-main","service":"web","action":"deploy","on":"event.branch == \"main\""}`},
		{"create", "trigger", "-c", `{"name":"web-tags","service":"web","action":"deploy","on":"event.tag != \"\""}`},
	} {
		if _, errOut, code := stateCLI(t, p, "", args...); code != 0 {
			t.Fatalf("state %v: %s", args, errOut)
		}
	}

	// Signing in: the events page sends the browser to the form, and back.
	steps(t, ctx, "open /ops/",
		chromedp.Navigate(base+"/ops/"),
		chromedp.WaitVisible(chromedp.ID("apikey")),
	)
	loginURL, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(loginURL, "/ops/login?next=") {
		t.Errorf("the events page without a session went to %s, want the sign-in form", loginURL)
	}
	screenshot(t, ctx, "1-sign-in")
	steps(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.ID("apikey"), "wrong.key"),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS("p.problem")),
		chromedp.SendKeys(chromedp.ID("apikey"), e2eAdminKey),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("rows")),
		chromedp.WaitVisible(chromedp.CSS("#live.on")),
	)
	cookies := sessionCookies(t, ctx)
	if c := cookies["reflex_session"]; c == nil || !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict {
		t.Errorf("session cookie = %+v, want HttpOnly and SameSite=Strict", c)
	}

	// A webhook appears on the page by itself, with its outcome.
	sendPush(t, p, "ops-live-1")
	row := `tr[id="ev-acme-github/ops-live-1"]`
	steps(t, ctx, "the webhook did not appear on the events page", chromedp.WaitVisible(chromedp.CSS(row)))
	if outcome := textOf(t, ctx, chromedp.CSS(row+" span.badge")); outcome != "accepted" {
		t.Errorf("outcome shown = %q, want accepted", outcome)
	}
	// A refused one appears too, with its reason.
	_, _, _ = reflexCmd(t, nil, "send", "--url", p.url, "--source", "acme-github", "--secret", "wrong", "../../fixtures/github/push.branch.json")
	if refused := textOf(t, ctx, chromedp.CSS(`tr.outcome-refused td[data-label="Outcome"]`)); !strings.Contains(refused, "unauthorized") {
		t.Errorf("refused row says %q, want its reason", refused)
	}
	screenshot(t, ctx, "2-events-live")
	// On a phone-sized screen, each row becomes a card of labelled fields.
	steps(t, ctx, "phone-sized events page",
		chromedp.EmulateViewport(390, 844),
		chromedp.WaitNotVisible(chromedp.CSS("table.events thead")),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	screenshot(t, ctx, "2b-events-phone")
	steps(t, ctx, "desktop again", chromedp.ResetViewport())

	// The event's page says which trigger fired, and why the other did not.
	steps(t, ctx, "the event's page",
		chromedp.Click(chromedp.CSS(row+" td[data-label=Event] a")),
		chromedp.WaitVisible(chromedp.ID("triggers")),
	)
	if fires := textOf(t, ctx, chromedp.CSS("#trigger-web-main h3")); !strings.Contains(fires, "✓ fires") {
		t.Errorf("web-main says %q, want that it fires", fires)
	}
	tags := textOf(t, ctx, chromedp.CSS("#trigger-web-tags"))
	if !strings.Contains(tags, "✗ does not fire") || !strings.Contains(tags, "event.tag") {
		t.Errorf("web-tags says %q, want that it does not fire, with the value it read", tags)
	}
	screenshot(t, ctx, "2c-event-explained")

	// An archived job, retried from the queue UI, runs and succeeds.
	if s := adminAPI(t, p, "POST", "/api/v1/queues/events/pause"); s != http.StatusOK {
		t.Fatalf("pause = %d", s)
	}
	sendPush(t, p, "ops-archived-1")
	if s := adminAPI(t, p, "POST", "/api/v1/queues/events/jobs/acme-github/ops-archived-1/archive"); s != http.StatusOK {
		t.Fatalf("archive = %d", s)
	}
	if s := adminAPI(t, p, "POST", "/api/v1/queues/events/resume"); s != http.StatusOK {
		t.Fatalf("resume = %d", s)
	}
	steps(t, ctx, "queue UI",
		chromedp.Navigate(base+"/ops/queues/"),
		chromedp.WaitVisible(`//table[@aria-label="queues overview table"]//*[normalize-space(text())="events"]`),
	)
	screenshot(t, ctx, "3-queues")
	steps(t, ctx, "archived jobs",
		chromedp.Navigate(base+"/ops/queues/queues/events?status=archived"),
		chromedp.WaitVisible(`//*[contains(text(), "ops-archived-1")]`),
	)
	screenshot(t, ctx, "4-archived")
	steps(t, ctx, "retry from the queue UI",
		// Select the job, and run the selection (the toolbar's "Run").
		chromedp.Click(`//tr[.//*[contains(text(), "ops-archived-1")]]//input[@type="checkbox"]`),
		chromedp.Click(`(//button[@title="Run"])[1]`),
		chromedp.WaitNotPresent(`//*[contains(text(), "ops-archived-1")]`),
	)
	screenshot(t, ctx, "5-archived-retried")
	waitEvent(t, p, "ops-archived-1")

	// A form on another site cannot act with the operator's session.
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form id="f" method="post" action="%s/ops/queues/api/queues/events:pause"></form><script>document.getElementById("f").submit()</script>`, base)
	}))
	defer attacker.Close()
	steps(t, ctx, "cross-site page",
		chromedp.Navigate(attacker.URL),
		chromedp.WaitVisible(`//*[contains(text(), "failed")]`),
	)
	screenshot(t, ctx, "6-cross-site-post")
	if paused := queuePaused(t, p, "events"); paused {
		t.Error("a cross-site POST paused the events queue")
	}
	// The same POST with the signed-in browser's cookie, without the CSRF
	// token, is refused as well.
	req, _ := http.NewRequest(http.MethodPost, p.url+"/ops/queues/api/queues/events:pause", nil)
	req.AddCookie(&http.Cookie{Name: "reflex_session", Value: cookies["reflex_session"].Value})
	resp, err := p.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || queuePaused(t, p, "events") {
		t.Errorf("POST with the session but no CSRF token = %d, want 403 and the queue running", resp.StatusCode)
	}
}

// sessionCookies returns the browser's cookies by name.
func sessionCookies(t *testing.T, ctx context.Context) map[string]*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		out[c.Name] = c
	}
	return out
}

// queuePaused reads whether a queue is paused through the API.
func queuePaused(t *testing.T, p *process, queue string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.url+"/api/v1/queues", nil)
	req.Header.Set("Authorization", "Bearer "+e2eAdminKey)
	resp, err := p.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct {
		Queue  string `json:"queue"`
		Paused bool   `json:"paused"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("queues: %v", err)
	}
	for _, q := range list {
		if q.Queue == queue {
			return q.Paused
		}
	}
	t.Fatalf("no queue %s in %+v", queue, list)
	return false
}
