package jenkins_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/jenkins"
	"github.com/reflexops/reflex/connectors/keyfetch"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// fakeJenkins is an httptest Jenkins that answers the build API from a
// table and records what it was asked.
type fakeJenkins struct {
	*httptest.Server
	mu      sync.Mutex
	asked   []*http.Request
	answers map[string]string // escaped path → JSON answer
	status  int               // when not 0, every answer's status
	hang    chan struct{}     // when not nil, answers wait on it
}

func newFakeJenkins(t *testing.T) *fakeJenkins {
	t.Helper()
	j := &fakeJenkins{answers: map[string]string{}}
	j.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.mu.Lock()
		j.asked = append(j.asked, r)
		status, hang := j.status, j.hang
		answer, ok := j.answers[r.URL.EscapedPath()]
		j.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		switch {
		case status != 0:
			w.WriteHeader(status)
		case !ok || r.URL.RawQuery != "tree=result,building,number":
			http.NotFound(w, r)
		default:
			w.Header().Set("Content-Type", "application/json;charset=utf-8")
			_, _ = w.Write([]byte(answer))
		}
	}))
	t.Cleanup(j.Close)
	return j
}

// last returns the last request the fake was asked.
func (j *fakeJenkins) last(t *testing.T) *http.Request {
	t.Helper()
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.asked) == 0 {
		t.Fatal("Jenkins was not asked")
	}
	return j.asked[len(j.asked)-1]
}

// confirmer returns a connector that confirms with j.
func confirmer(t *testing.T, j *fakeJenkins, username string) connectors.Confirmer {
	t.Helper()
	c := jenkins.New()
	confirm := map[string]any{"url": j.URL + "/"}
	if username != "" {
		confirm["username"] = username
	}
	if err := c.(connectors.Configurable).Configure(map[string]any{"confirm": confirm}); err != nil {
		t.Fatal(err)
	}
	return c.(connectors.Confirmer)
}

// finished returns the event of a FINALIZED fixture.
func finished(t *testing.T, name string) *event.Event {
	t.Helper()
	f, err := fixtures.Get(jenkins.Name, name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := jenkins.New().Parse(&connectors.Request{Source: "acme-jenkins", Header: f.Header, Body: f.Body, ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return res.Event
}

var cred = connectors.Credential{Username: "reflex-bot", Password: "11e4d2c9a0b7f3e5d8c6a4b2f0e9d7c5b3"}

// TestConfirm: what Jenkins says decides, asked at the settings' URL with
// the job path escaped and the credential as Basic auth.
func TestConfirm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, fixture, path, answer string
		confirmed                   bool
		detail                      string
	}{
		{"success", "FINALIZED.success", "/job/acme/job/api/128/api/json", `{"_class":"hudson.model.FreeStyleBuild","building":false,"number":128,"result":"SUCCESS"}`, true, "build acme/api#128 has result SUCCESS"},
		{"multibranch job", "FINALIZED.failure", "/job/acme/job/ledger/job/feature%252Fretry/7/api/json", `{"building":false,"number":7,"result":"FAILURE"}`, true, "has result FAILURE"},
		{"unstable for a failure", "FINALIZED.unstable", "/job/nightly-integration/311/api/json", `{"building":false,"number":311,"result":"UNSTABLE"}`, true, "has result UNSTABLE"},
		{"another result", "FINALIZED.success", "/job/acme/job/api/128/api/json", `{"building":false,"number":128,"result":"FAILURE"}`, false, "has result FAILURE; the event says success"},
		{"still building", "FINALIZED.success", "/job/acme/job/api/128/api/json", `{"building":true,"number":128,"result":null}`, false, "still building"},
		{"no result", "FINALIZED.aborted", "/job/acme/job/api/129/api/json", `{"building":false,"number":129}`, false, "has no result"},
		{"another build", "FINALIZED.success", "/job/acme/job/api/128/api/json", `{"building":false,"number":127,"result":"SUCCESS"}`, false, "answered for build 127"},
		{"no such build", "FINALIZED.not-built", "", "", false, "no such build: acme/docs#42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := newFakeJenkins(t)
			if tt.path != "" {
				j.answers[tt.path] = tt.answer
			}
			before := time.Now()
			got, err := confirmer(t, j, "").Confirm(context.Background(), finished(t, tt.fixture), cred)
			if err != nil {
				t.Fatalf("Confirm: %v", err)
			}
			if got == nil || got.Confirmed != tt.confirmed || !strings.Contains(got.Detail, tt.detail) {
				t.Fatalf("Confirm = %+v, want confirmed %v saying %q", got, tt.confirmed, tt.detail)
			}
			if want := "jenkins " + strings.TrimPrefix(j.URL, "http://"); got.By != want {
				t.Errorf("By = %q, want %q", got.By, want)
			}
			if got.At.Before(before) || got.At.After(time.Now()) || got.At.Location() != time.UTC {
				t.Errorf("At = %v, not when Jenkins answered", got.At)
			}
			r := j.last(t)
			if user, pass, ok := r.BasicAuth(); !ok || user != cred.Username || pass != cred.Password {
				t.Errorf("asked with credentials %q, %q, %v", user, pass, ok)
			}
			if r.Method != http.MethodGet {
				t.Errorf("asked with %s", r.Method)
			}
		})
	}
}

// TestConfirmUsernameFromSettings: a credential without a user takes the
// settings' username.
func TestConfirmUsernameFromSettings(t *testing.T) {
	t.Parallel()
	j := newFakeJenkins(t)
	j.answers["/job/acme/job/api/128/api/json"] = `{"building":false,"number":128,"result":"SUCCESS"}`
	got, err := confirmer(t, j, "ci-reader").Confirm(context.Background(), finished(t, "FINALIZED.success"), connectors.Credential{Password: "tok"})
	if err != nil || got == nil || !got.Confirmed {
		t.Fatalf("Confirm = %+v, %v", got, err)
	}
	if user, pass, _ := j.last(t).BasicAuth(); user != "ci-reader" || pass != "tok" {
		t.Fatalf("asked as %q:%q, want ci-reader:tok", user, pass)
	}
}

// TestConfirmUnavailable: when Jenkins cannot answer, Confirm says
// ErrUnavailable, never a refutation, and holds no credential.
func TestConfirmUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		says   string
	}{
		{"server error", http.StatusBadGateway, "answered 502"},
		{"credentials refused", http.StatusUnauthorized, "refused the confirmation credential"},
		{"forbidden", http.StatusForbidden, "refused the confirmation credential"},
		{"redirect", http.StatusFound, "answered 302"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := newFakeJenkins(t)
			j.status = tt.status
			got, err := confirmer(t, j, "").Confirm(context.Background(), finished(t, "FINALIZED.success"), cred)
			checkUnavailable(t, got, err, tt.says)
		})
	}
	t.Run("unreadable answer", func(t *testing.T) {
		t.Parallel()
		j := newFakeJenkins(t)
		j.answers["/job/acme/job/api/128/api/json"] = `<html>`
		got, err := confirmer(t, j, "").Confirm(context.Background(), finished(t, "FINALIZED.success"), cred)
		checkUnavailable(t, got, err, "cannot be read")
	})
	t.Run("down, then back", func(t *testing.T) {
		t.Parallel()
		j := newFakeJenkins(t)
		c := confirmer(t, j, "")
		j.Close()
		got, err := c.Confirm(context.Background(), finished(t, "FINALIZED.success"), cred)
		checkUnavailable(t, got, err, "asking jenkins")
		up := newFakeJenkins(t)
		up.answers["/job/acme/job/api/128/api/json"] = `{"building":false,"number":128,"result":"SUCCESS"}`
		if got, err := confirmer(t, up, "").Confirm(context.Background(), finished(t, "FINALIZED.success"), cred); err != nil || !got.Confirmed {
			t.Fatalf("Confirm once Jenkins is back = %+v, %v", got, err)
		}
	})
	t.Run("hangs", func(t *testing.T) {
		t.Parallel()
		j := newFakeJenkins(t)
		j.hang = make(chan struct{})
		defer close(j.hang)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		got, err := confirmer(t, j, "").Confirm(ctx, finished(t, "FINALIZED.success"), cred)
		checkUnavailable(t, got, err, "asking jenkins")
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Confirm took %v with a 200ms deadline", d)
		}
	})
}

func checkUnavailable(t *testing.T, got *event.Confirmation, err error, says string) {
	t.Helper()
	if got != nil || !errors.Is(err, connectors.ErrUnavailable) || !strings.Contains(err.Error(), says) {
		t.Fatalf("Confirm = %+v, %v; want ErrUnavailable saying %q", got, err, says)
	}
	if strings.Contains(err.Error(), cred.Password) {
		t.Fatalf("the error holds the credential: %v", err)
	}
}

// TestConfirmAsksOnlyItsHost: the host asked is the settings', whatever
// the event's URL names, through the client the context carries.
func TestConfirmAsksOnlyItsHost(t *testing.T) {
	t.Parallel()
	j := newFakeJenkins(t)
	j.answers["/job/acme/job/api/128/api/json"] = `{"building":false,"number":128,"result":"SUCCESS"}`
	elsewhere := newFakeJenkins(t)
	ev := finished(t, "FINALIZED.success")
	ev.URL, ev.Build.URL = elsewhere.URL+"/job/acme/job/api/128/", elsewhere.URL+"/job/acme/job/api/128/"
	var used bool
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	got, err := confirmer(t, j, "").Confirm(keyfetch.WithClient(context.Background(), client), ev, cred)
	if err != nil || !got.Confirmed {
		t.Fatalf("Confirm = %+v, %v", got, err)
	}
	if !used {
		t.Error("Confirm did not use the context's client")
	}
	if len(elsewhere.asked) != 0 {
		t.Error("Confirm asked the host the event names")
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestConfirmOnlyFinishedBuilds: other events, and a source without
// confirm settings, are not asked about.
func TestConfirmOnlyFinishedBuilds(t *testing.T) {
	t.Parallel()
	j := newFakeJenkins(t)
	c := confirmer(t, j, "")
	for _, name := range []string{"QUEUED", "STARTED", "COMPLETED.success"} {
		f, err := fixtures.Get(jenkins.Name, name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := jenkins.New().Parse(&connectors.Request{Header: f.Header, Body: f.Body})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.Confirm(context.Background(), res.Event, cred); got != nil || err != nil {
			t.Errorf("%s: Confirm = %+v, %v; want nil, nil", name, got, err)
		}
	}
	other := finished(t, "FINALIZED.success")
	other.Connector = "gitlab"
	if got, err := c.Confirm(context.Background(), other, cred); got != nil || err != nil {
		t.Errorf("another connector's event: Confirm = %+v, %v", got, err)
	}
	if got, err := jenkins.New().(connectors.Confirmer).Confirm(context.Background(), finished(t, "FINALIZED.success"), cred); got != nil || err != nil {
		t.Errorf("no confirm settings: Confirm = %+v, %v", got, err)
	}
	if len(j.asked) != 0 {
		t.Errorf("Jenkins was asked %d times", len(j.asked))
	}
}

// TestConfirmRefusesUnaskableNames: a finished build whose name has an
// empty, "." or ".." part, or no number, is not confirmed, and Jenkins is
// not asked: such a name would read as another job's path.
func TestConfirmRefusesUnaskableNames(t *testing.T) {
	t.Parallel()
	j := newFakeJenkins(t)
	c := confirmer(t, j, "")
	for _, name := range []string{"app/..", "../app", "app/./x", "app//x", "/app", ""} {
		ev := finished(t, "FINALIZED.success")
		ev.Build.Name = name
		got, err := c.Confirm(context.Background(), ev, cred)
		if err != nil || got == nil || got.Confirmed {
			t.Errorf("name %q: Confirm = %+v, %v; want not confirmed", name, got, err)
		}
	}
	ev := finished(t, "FINALIZED.success")
	ev.Build.Number = 0
	if got, err := c.Confirm(context.Background(), ev, cred); err != nil || got == nil || got.Confirmed {
		t.Errorf("no number: Confirm = %+v, %v; want not confirmed", got, err)
	}
	if len(j.asked) != 0 {
		t.Errorf("Jenkins was asked %d times", len(j.asked))
	}
}
