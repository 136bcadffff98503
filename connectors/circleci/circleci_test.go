package circleci_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/circleci"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// testSecret is the webhook's secret token.
var testSecret = []byte("cci-whsec-4d9f2a7c1e8b")

// kit is the connector under test with its fixtures.
var kit = connectortest.Kit{Name: circleci.Name, New: circleci.New, Source: "acme-circleci", Secret: testSecret}

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves: each fixture must
// normalize to the kind its name promises.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"job-completed.canceled":      event.KindTaskFinished,
		"job-completed.failed":        event.KindTaskFinished,
		"job-completed.success":       event.KindTaskFinished,
		"workflow-completed.canceled": event.KindBuildFinished,
		"workflow-completed.error":    event.KindBuildFinished,
		"workflow-completed.failed":   event.KindBuildFinished,
		"workflow-completed.gitlab":   event.KindBuildFinished,
		"workflow-completed.success":  event.KindBuildFinished,
		"workflow-completed.tag":      event.KindBuildFinished,
	})
}

// TestGoldenOutcomes: each fixture's outcome is the one its name says, so
// a golden written with a wrong mapping cannot pass.
func TestGoldenOutcomes(t *testing.T) {
	want := map[string]event.Outcome{
		"success": event.OutcomeSuccess, "failed": event.OutcomeFailure, "error": event.OutcomeFailure,
		"canceled": event.OutcomeCancelled, "gitlab": event.OutcomeFailure, "tag": event.OutcomeSuccess,
	}
	for _, f := range kit.Fixtures(t) {
		_, variant, _ := strings.Cut(f.Name, ".")
		res, err := circleci.New().Parse(kit.Request(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if got := res.Event.Build.Outcome; got != want[variant] {
			t.Errorf("%s: outcome %q, want %q", f.Name, got, want[variant])
		}
	}
}

func set(name, value string) func(*connectors.Request) {
	return func(req *connectors.Request) { req.Header.Set(name, value) }
}

func del(name string) func(*connectors.Request) {
	return func(req *connectors.Request) { req.Header.Del(name) }
}

// resign replaces the body and signs it again, so that the refusal is
// Parse's.
func resign(body string) func(*connectors.Request) {
	return func(req *connectors.Request) {
		req.Body = []byte(body)
		circleci.New().(connectors.Signer).Sign(req.Header, req.Body, testSecret)
	}
}

// TestRefusals: what Verify and Parse refuse, and what they say.
func TestRefusals(t *testing.T) {
	unauthorized, malformed := connectors.ErrUnauthorized, connectors.ErrMalformed
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "wrong secret", Fixture: "workflow-completed.success", Secrets: [][]byte{[]byte("cci-whsec-another")}, Want: unauthorized, Says: "no v1 signature by the source's secret"},
		{Name: "no signature", Fixture: "workflow-completed.success", Change: del(circleci.HeaderSignature), Want: unauthorized, Says: "circleci-signature header is missing or empty; give the webhook a secret token"},
		{Name: "empty signature", Fixture: "workflow-completed.success", Change: set(circleci.HeaderSignature, ""), Want: unauthorized, Says: "missing or empty"},
		{Name: "no v1 entry", Fixture: "workflow-completed.success", Change: set(circleci.HeaderSignature, "v2=734cc62f32841568f45715aeb9f4d7891324e6d948e4c6c60c0621cdac48623a"), Want: unauthorized, Says: "holds no v1 signature, the only version Reflex checks"},
		{Name: "not a list of versions", Fixture: "workflow-completed.success", Change: set(circleci.HeaderSignature, "734cc62f32841568f45715aeb9f4d7891324e6d948e4c6c60c0621cdac48623a"), Want: unauthorized, Says: "holds no v1 signature"},
		{Name: "tampered body", Fixture: "workflow-completed.failed", Change: func(req *connectors.Request) {
			req.Body = []byte(strings.Replace(string(req.Body), `"failed"`, `"success"`, 1))
		}, Want: unauthorized, Says: "no v1 signature by the source's secret"},
		{Name: "no secrets", Fixture: "job-completed.success", Secrets: [][]byte{}, Want: unauthorized, Says: "no v1 signature by"},
		{Name: "empty secret", Fixture: "job-completed.success", Secrets: [][]byte{{}}, Want: unauthorized, Says: "no v1 signature by"},
		{Name: "header and payload types differ", Fixture: "job-completed.success", Change: set(circleci.HeaderEventType, circleci.TypeWorkflowCompleted), Want: malformed, Says: "circleci-event-type header and the payload's type differ"},
		{Name: "event type header of another shape", Fixture: "job-completed.success", Change: set(circleci.HeaderEventType, "../job"), Want: malformed, Says: "circleci-event-type header may hold only"},
		{Name: "no type anywhere", Fixture: "job-completed.success", Change: func(req *connectors.Request) {
			req.Header.Del(circleci.HeaderEventType)
			resign(`{"id":"8bd71c28-4969-3677-8940-3e3a61c46660"}`)(req)
		}, Want: malformed, Says: "the payload has no type and the circleci-event-type header is missing"},
		{Name: "no id", Fixture: "job-completed.success", Change: resign(`{"type":"job-completed"}`), Want: malformed, Says: "the payload's id is missing"},
		{Name: "id with a slash", Fixture: "job-completed.success", Change: resign(`{"type":"job-completed","id":"a/b"}`), Want: malformed, Says: "the payload's id may hold only"},
		{Name: "job not an object", Fixture: "job-completed.success", Change: resign(`{"type":"job-completed","id":"x","job":[]}`), Want: malformed, Says: "not valid JSON of the expected shape"},
		{Name: "truncated", Fixture: "job-completed.success", Change: resign(`{"type":"job-completed","id":"x"`), Want: malformed, Says: "not valid JSON"},
		{Name: "form-encoded", Fixture: "job-completed.success", Change: set("Content-Type", "application/x-www-form-urlencoded"), Want: connectors.ErrUnsupportedMediaType, Says: "CircleCI sends application/json"},
		{Name: "no content type", Fixture: "job-completed.success", Change: del("Content-Type"), Want: connectors.ErrUnsupportedMediaType, Says: "Content-Type header is missing"},
	})
}

// TestSignatureVectors: the signatures CircleCI's documentation publishes
// verify, and Sign computes them.
func TestSignatureVectors(t *testing.T) {
	t.Parallel()
	vectors := []struct{ body, secret, sig string }{
		{"hello world", "secret", "734cc62f32841568f45715aeb9f4d7891324e6d948e4c6c60c0621cdac48623a"},
		{"lalala", "another-secret", "daa220016c8f29a8b214fbfc3671aeec2145cfb1e6790184ffb38b6d0425fa00"},
		{"an-important-request-payload", "hunter123", "9be2242094a9a8c00c64306f382a7f9d691de910b4a266f67bd314ef18ac49fa"},
		{"foo", "secret", "773ba44693c7553d6ee20f61ea5d2757a9a4f4a44d2841ae4e95b52e4cd62db4"},
	}
	c := circleci.New()
	for _, v := range vectors {
		h := http.Header{}
		c.(connectors.Signer).Sign(h, []byte(v.body), []byte(v.secret))
		if got := h.Get(circleci.HeaderSignature); got != "v1="+v.sig {
			t.Errorf("Sign(%q) = %q, want v1=%s", v.body, got, v.sig)
		}
		h.Set(circleci.HeaderSignature, "v1="+v.sig)
		if err := c.Verify(context.Background(), &connectors.Request{Header: h, Body: []byte(v.body)}, [][]byte{[]byte(v.secret)}); err != nil {
			t.Errorf("Verify(%q): %v", v.body, err)
		}
		if err := c.Verify(context.Background(), &connectors.Request{Header: h, Body: []byte(v.body + " ")}, [][]byte{[]byte(v.secret)}); !errors.Is(err, connectors.ErrUnauthorized) {
			t.Errorf("Verify(%q + space) = %v, want ErrUnauthorized", v.body, err)
		}
	}
}

// TestVerifySignatureList: the header is a list of versioned signatures;
// one matching v1 entry verifies, whatever else the list holds, and no
// entry of another version ever does.
func TestVerifySignatureList(t *testing.T) {
	t.Parallel()
	const (
		body  = "hello world"
		good  = "734cc62f32841568f45715aeb9f4d7891324e6d948e4c6c60c0621cdac48623a" // "secret"
		other = "daa220016c8f29a8b214fbfc3671aeec2145cfb1e6790184ffb38b6d0425fa00"
	)
	secret := [][]byte{[]byte("secret")}
	tests := []struct {
		name    string
		header  string
		secrets [][]byte
		wantErr string // empty: must verify
	}{
		{name: "one v1", header: "v1=" + good},
		{name: "matching v1 after a wrong one", header: "v1=" + other + ",v1=" + good},
		{name: "matching v1 before a wrong one", header: "v1=" + good + ",v1=" + other},
		{name: "beside newer versions", header: "v1=" + good + ",v2=abc,v3=def"},
		{name: "newer version first", header: "v2=" + other + ", v1=" + good},
		{name: "upper-case hex", header: "v1=" + strings.ToUpper(good)},
		{name: "second secret during rotation", header: "v1=" + good, secrets: [][]byte{[]byte("old"), []byte("secret")}},
		{name: "v1 not matching", header: "v1=" + other, wantErr: "no v1 signature by the source's secret"},
		{name: "several v1, none matching", header: "v1=" + other + ",v1=" + other[:40], wantErr: "no v1 signature by the source's secret"},
		{name: "a right MAC under another version", header: "v2=" + good, wantErr: "holds no v1 signature, the only version"},
		{name: "a right MAC under a version written otherwise", header: "V1=" + good, wantErr: "holds no v1 signature, the only version"},
		{name: "truncated", header: "v1=" + good[:63], wantErr: "no v1 signature by"},
		{name: "with a prefix", header: "v1=sha256=" + good, wantErr: "no v1 signature by"},
		{name: "wrong secret", header: "v1=" + good, secrets: [][]byte{[]byte("Secret")}, wantErr: "no v1 signature by"},
		{name: "beyond the entries read", header: strings.Repeat("v2=x,", 8) + "v1=" + good, wantErr: "holds no v1 signature"},
		{name: "only commas", header: ",,,", wantErr: "holds no v1 signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			h.Set(circleci.HeaderSignature, tt.header)
			secrets := tt.secrets
			if secrets == nil {
				secrets = secret
			}
			err := circleci.New().Verify(context.Background(), &connectors.Request{Header: h, Body: []byte(body)}, secrets)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Verify = %v, want ErrUnauthorized containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), good) || strings.Contains(err.Error(), "secret\"") {
				t.Fatalf("the error echoes a signature or the secret: %v", err)
			}
		})
	}
}

// parse parses body as a delivery whose header names typ (none when
// empty).
func parse(t *testing.T, typ, body string) (*connectors.Result, error) {
	t.Helper()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if typ != "" {
		h.Set(circleci.HeaderEventType, typ)
	}
	return circleci.New().Parse(&connectors.Request{Source: "s", Header: h, Body: []byte(body), ReceivedAt: connectortest.ReceivedAt})
}

// TestEventType: the payload's type, which the header must agree with; the
// header's when the payload has none.
func TestEventType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header, body, want string
	}{
		{"both", "job-completed", `{"id":"e1","type":"job-completed"}`, "job-completed"},
		{"payload only", "", `{"id":"e1","type":"workflow-completed"}`, "workflow-completed"},
		{"header only", "workflow-completed", `{"id":"e1"}`, "workflow-completed"},
		{"an unknown type", "", `{"id":"e1","type":"pipeline-created"}`, "pipeline-created"},
	}
	for _, tt := range tests {
		res, err := parse(t, tt.header, tt.body)
		if err != nil {
			t.Errorf("%s: Parse: %v", tt.name, err)
			continue
		}
		if res.Event.Type != tt.want {
			t.Errorf("%s: Type = %q, want %q", tt.name, res.Event.Type, tt.want)
		}
	}
	if _, err := parse(t, "", `{"id":"e1","type":"Job Completed"}`); !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "the payload's type may hold only") {
		t.Errorf("a type of another shape: Parse = %v, want ErrMalformed", err)
	}
}

// TestNormalize: statuses and shapes the fixtures do not cover.
func TestNormalize(t *testing.T) {
	t.Parallel()
	const vcs = `"pipeline":{"number":7,"trigger":{"type":"api"},"vcs":{"target_repository_url":"https://bitbucket.org/acme/api","revision":"0123456789abcdef0123456789abcdef01234567","branch":"main"}}`
	tests := []struct {
		name string
		typ  string
		body string
		want *event.Event
	}{
		{
			name: "job timed out",
			typ:  circleci.TypeJobCompleted,
			body: `{"id":"e1","type":"job-completed","happened_at":"2026-01-02T03:00:00Z",` + vcs + `,"workflow":{"id":"w1","name":"ci","url":"https://app.circleci.com/pipelines/bitbucket/acme/api/7/workflows/w1/"},"job":{"id":"j1","name":"test","number":42,"status":"timedout","started_at":"2026-01-02T02:00:00Z"}}`,
			want: &event.Event{
				ID: "e1", Source: "s", Connector: circleci.Name, Type: "job-completed", Action: "timedout", Kind: event.KindTaskFinished,
				Repository: &event.Repository{Name: "acme/api", URL: "https://bitbucket.org/acme/api"},
				Ref:        "refs/heads/main", Branch: "main", Commit: "0123456789abcdef0123456789abcdef01234567",
				URL: "https://app.circleci.com/pipelines/bitbucket/acme/api/7/workflows/w1/jobs/42",
				Build: &event.Build{
					ID: "j1", Name: "test", Pipeline: "ci", RunID: "w1", Number: 42, Status: event.BuildFinished, Outcome: event.OutcomeTimedOut,
					URL: "https://app.circleci.com/pipelines/bitbucket/acme/api/7/workflows/w1/jobs/42", StartedAt: at("2026-01-02T02:00:00Z"), UpdatedAt: at("2026-01-02T03:00:00Z"),
				},
				ReceivedAt: connectortest.ReceivedAt,
			},
		},
		{
			name: "workflow not run, short SHA dropped",
			typ:  circleci.TypeWorkflowCompleted,
			body: `{"id":"e2","type":"workflow-completed","project":{"slug":"gh/acme/api"},"pipeline":{"number":3,"vcs":{"origin_repository_url":"https://github.com/fork/api","revision":"0123456"}},"workflow":{"id":"w2","name":"nightly","status":"not_run","stopped_at":"not a time"}}`,
			want: &event.Event{
				ID: "e2", Source: "s", Connector: circleci.Name, Type: "workflow-completed", Action: "not_run", Kind: event.KindBuildFinished,
				Repository: &event.Repository{Name: "fork/api", URL: "https://github.com/fork/api"},
				Build:      &event.Build{ID: "w2", Name: "nightly", Pipeline: "gh/acme/api", Number: 3, Status: event.BuildFinished, Outcome: event.OutcomeSkipped},
				ReceivedAt: connectortest.ReceivedAt,
			},
		},
		{
			name: "unknown status is other",
			typ:  circleci.TypeWorkflowCompleted,
			body: `{"id":"e3","type":"workflow-completed","workflow":{"id":"w3","name":"ci","status":"on_hold"}}`,
			want: &event.Event{
				ID: "e3", Source: "s", Connector: circleci.Name, Type: "workflow-completed", Action: "on_hold", Kind: event.KindOther,
				Build:      &event.Build{ID: "w3", Name: "ci", Status: event.BuildFinished},
				ReceivedAt: connectortest.ReceivedAt,
			},
		},
		{
			name: "a status that is no word is not kept",
			typ:  circleci.TypeWorkflowCompleted,
			body: `{"id":"e4","type":"workflow-completed","workflow":{"id":"w4","name":"ci","status":"<b>success</b>"}}`,
			want: &event.Event{
				ID: "e4", Source: "s", Connector: circleci.Name, Type: "workflow-completed", Kind: event.KindOther,
				Build:      &event.Build{ID: "w4", Name: "ci", Status: event.BuildFinished},
				ReceivedAt: connectortest.ReceivedAt,
			},
		},
		{
			name: "job-completed without a job",
			typ:  circleci.TypeJobCompleted,
			body: `{"id":"e5","type":"job-completed"}`,
			want: &event.Event{ID: "e5", Source: "s", Connector: circleci.Name, Type: "job-completed", Kind: event.KindOther, ReceivedAt: connectortest.ReceivedAt},
		},
		{
			name: "unknown type",
			typ:  "",
			body: `{"id":"e6","type":"pipeline-created","pipeline":{"vcs":{"target_repository_url":"git@github.com:acme/api.git","tag":"v2.0.0"}}}`,
			want: &event.Event{
				ID: "e6", Source: "s", Connector: circleci.Name, Type: "pipeline-created", Kind: event.KindUnnormalized,
				Repository: &event.Repository{Name: "acme/api", URL: "https://github.com/acme/api"},
				Ref:        "refs/tags/v2.0.0", Tag: "v2.0.0", ReceivedAt: connectortest.ReceivedAt,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := parse(t, tt.typ, tt.body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, res.Event); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !res.Checked {
				t.Error("the payload was decoded whole but Checked is false")
			}
		})
	}
}

// TestPing: a delivery whose type is "ping" is answered as a ping, id or
// not.
func TestPing(t *testing.T) {
	t.Parallel()
	res, err := parse(t, "ping", `{"type":"ping","webhook":{"id":"w","name":"Reflex"}}`)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !res.Ping || res.Event != nil {
		t.Fatalf("Parse = %+v, want a ping", res)
	}
}

// TestRepositoryOf: the URLs a pipeline names its repository by.
func TestRepositoryOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, name, web string // name "": no repository
	}{
		{"https://github.com/circleci/webhook-service", "circleci/webhook-service", "https://github.com/circleci/webhook-service"},
		{"https://github.com/acme/api.git/", "acme/api", "https://github.com/acme/api"},
		{"https://user:pass@gitlab.example.com:8443/group/sub/api.git", "group/sub/api", "https://gitlab.example.com:8443/group/sub/api"},
		{"git@gitlab.com:acme/hello-world.git", "acme/hello-world", "https://gitlab.com/acme/hello-world"},
		{"ssh://git@bitbucket.example.com:7999/proj/repo.git", "proj/repo", "https://bitbucket.example.com/proj/repo"},
		{"https://github.com/acme", "", ""},
		{"https://github.com/acme/../etc", "", ""},
		{"https://github.com/acme//api", "", ""},
		{"https://github.com/acme/api?x=1", "", ""},
		{"file:///srv/git/acme/api", "", ""},
		{"/srv/git/acme/api", "", ""},
		{"git@host with space:acme/api", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		body := `{"id":"e1","type":"workflow-completed","pipeline":{"vcs":{"target_repository_url":` + strconvQuote(tt.url) + `}}}`
		res, err := parse(t, "", body)
		if err != nil {
			t.Fatalf("%s: Parse: %v", tt.url, err)
		}
		var want *event.Repository
		if tt.name != "" {
			want = &event.Repository{Name: tt.name, URL: tt.web}
		}
		if diff := cmp.Diff(want, res.Event.Repository); diff != "" {
			t.Errorf("%q: (-want +got):\n%s", tt.url, diff)
		}
	}
}

// TestSimulator: a delivery the connector builds and signs verifies and
// parses as the type and id it was given.
func TestSimulator(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(circleci.Name, "job-completed.failed")
	if err != nil {
		t.Fatal(err)
	}
	c := circleci.New()
	sim := c.(connectors.Simulator)
	if got := sim.EventType(f.Header, f.Body); got != circleci.TypeJobCompleted {
		t.Fatalf("EventType = %q, want job-completed", got)
	}
	if got := sim.EventType(http.Header{}, f.Body); got != circleci.TypeJobCompleted {
		t.Fatalf("EventType without headers = %q, want the payload's job-completed", got)
	}
	h, body := sim.Delivery(circleci.TypeJobCompleted, "resent-1", f.Body)
	sim.Sign(h, body, testSecret)
	req := &connectors.Request{Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt}
	if err := c.Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	res, err := c.Parse(req)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if res.Event.ID != "resent-1" || res.Event.Type != circleci.TypeJobCompleted || res.Event.Kind != event.KindTaskFinished {
		t.Errorf("event %q %q %q, want resent-1, job-completed, task.finished", res.Event.ID, res.Event.Type, res.Event.Kind)
	}
}

// TestFixtureHeaders: recorded headers never hold a signature.
func TestFixtureHeaders(t *testing.T) {
	t.Parallel()
	for _, f := range kit.Fixtures(t) {
		if _, ok := f.Header[circleci.HeaderSignature]; ok {
			t.Errorf("%s records %s", f.Name, circleci.HeaderSignature)
		}
	}
}

// TestDescribe: the description lists the event types the connector
// normalizes.
func TestDescribe(t *testing.T) {
	t.Parallel()
	d := circleci.New().(connectors.Describer).Describe()
	var types []string
	for _, e := range d.Events {
		types = append(types, e.Type)
	}
	if diff := cmp.Diff([]string{circleci.TypeWorkflowCompleted, circleci.TypeJobCompleted}, types); diff != "" {
		t.Errorf("described types (-want +got):\n%s", diff)
	}
}

// at returns a time of RFC 3339 s.
func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// strconvQuote returns s as a JSON string.
func strconvQuote(s string) string { return strconv.Quote(s) }
