package buildkite_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/buildkite"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// testSecret is the webhook's token.
var testSecret = []byte("bk-3c9e71f0a2d84b56")

// kit is the connector under test with its fixtures.
var kit = connectortest.Kit{Name: buildkite.Name, New: buildkite.New, Source: "acme-buildkite", Secret: testSecret}

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves: each fixture must
// normalize to the kind its name promises.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"build.finished.blocked":   event.KindOther,
		"build.finished.canceled":  event.KindBuildFinished,
		"build.finished.failed":    event.KindBuildFinished,
		"build.finished.passed":    event.KindBuildFinished,
		"build.finished.token":     event.KindBuildFinished,
		"build.running":            event.KindBuildStarted,
		"build.scheduled":          event.KindBuildQueued,
		"job.finished.passed":      event.KindTaskFinished,
		"job.finished.soft-failed": event.KindTaskFinished,
		"job.finished.timed_out":   event.KindTaskFinished,
		"job.started":              event.KindTaskStarted,
		"ping":                     "",
		"ping.token":               "",
	})
}

// TestGoldenOutcomes: each finished fixture's outcome is the one its name
// says, so a golden written with a wrong mapping cannot pass.
func TestGoldenOutcomes(t *testing.T) {
	want := map[string]event.Outcome{
		"build.finished.canceled":  event.OutcomeCancelled,
		"build.finished.failed":    event.OutcomeFailure,
		"build.finished.passed":    event.OutcomeSuccess,
		"build.finished.token":     event.OutcomeSuccess,
		"job.finished.passed":      event.OutcomeSuccess,
		"job.finished.soft-failed": event.OutcomeNeutral,
		"job.finished.timed_out":   event.OutcomeTimedOut,
	}
	for name, outcome := range want {
		f, err := fixtures.Get(buildkite.Name, name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := buildkite.New().Parse(kit.Request(t, f))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := res.Event.Build.Outcome; got != outcome {
			t.Errorf("%s: outcome %q, want %q", name, got, outcome)
		}
	}
}

func set(name, value string) func(*connectors.Request) {
	return func(req *connectors.Request) { req.Header.Set(name, value) }
}

func del(name string) func(*connectors.Request) {
	return func(req *connectors.Request) { req.Header.Del(name) }
}

// receivedAfter moves the receive time by d.
func receivedAfter(d time.Duration) func(*connectors.Request) {
	return func(req *connectors.Request) { req.ReceivedAt = req.ReceivedAt.Add(d) }
}

// TestRefusals: what Verify and Parse refuse, and what they say.
func TestRefusals(t *testing.T) {
	unauthorized, malformed := connectors.ErrUnauthorized, connectors.ErrMalformed
	wrong := [][]byte{[]byte("bk-another-token")}
	// The fixture's timestamp is 1767323043, two seconds before the kit's
	// receive time.
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "wrong signature", Fixture: "build.finished.passed", Secrets: wrong, Want: unauthorized, Says: "the signature of X-Buildkite-Signature does not match the source's token"},
		{Name: "tampered body", Fixture: "build.finished.failed", Change: func(req *connectors.Request) {
			req.Body = []byte(strings.Replace(string(req.Body), `"state": "failed"`, `"state": "passed"`, 1))
		}, Want: unauthorized, Says: "does not match"},
		{Name: "stale timestamp", Fixture: "build.finished.passed", Change: receivedAfter(5 * time.Minute), Want: connectors.ErrStale, Says: "is 5m2s old, more than the 5m0s allowed"},
		{Name: "future timestamp", Fixture: "build.finished.passed", Change: receivedAfter(-5*time.Minute - 3*time.Second), Want: connectors.ErrStale, Says: "is 5m1s in the future"},
		{Name: "another timestamp, same signature", Fixture: "build.finished.passed", Change: func(req *connectors.Request) {
			req.Header.Set(buildkite.HeaderSignature, strings.Replace(req.Header.Get(buildkite.HeaderSignature), "timestamp=1767323043", "timestamp=1767323044", 1))
		}, Want: unauthorized, Says: "does not match"},
		{Name: "no timestamp", Fixture: "build.finished.passed", Change: func(req *connectors.Request) {
			_, sig, _ := strings.Cut(req.Header.Get(buildkite.HeaderSignature), ",")
			req.Header.Set(buildkite.HeaderSignature, sig)
		}, Want: unauthorized, Says: "must hold one timestamp=<unix seconds>"},
		{Name: "timestamp twice", Fixture: "build.finished.passed", Change: func(req *connectors.Request) {
			req.Header.Set(buildkite.HeaderSignature, "timestamp=1,"+req.Header.Get(buildkite.HeaderSignature))
		}, Want: unauthorized, Says: "must hold one timestamp"},
		{Name: "no signature part", Fixture: "build.finished.passed", Change: set(buildkite.HeaderSignature, "timestamp=1767323043"), Want: unauthorized, Says: "must hold one signature=<hex>"},
		{Name: "timestamp in milliseconds", Fixture: "build.finished.passed", Change: set(buildkite.HeaderSignature, "timestamp=1767323043000,signature=00"), Want: connectors.ErrStale, Says: "in the future"},
		{Name: "timestamp not a number", Fixture: "build.finished.passed", Change: set(buildkite.HeaderSignature, "timestamp=+1767323043,signature=00"), Want: unauthorized, Says: "must be whole seconds since 1970"},
		{Name: "empty signature header", Fixture: "build.finished.passed", Change: set(buildkite.HeaderSignature, ""), Want: unauthorized, Says: "must hold one timestamp"},
		{Name: "signature sent twice", Fixture: "build.finished.passed", Change: func(req *connectors.Request) {
			req.Header.Add(buildkite.HeaderSignature, req.Header.Get(buildkite.HeaderSignature))
		}, Want: unauthorized, Says: "sent more than once"},
		{Name: "wrong token", Fixture: "build.finished.token", Secrets: wrong, Want: unauthorized, Says: "X-Buildkite-Token does not match the source's token"},
		{Name: "token a prefix of the secret", Fixture: "build.finished.token", Change: set(buildkite.HeaderToken, string(testSecret[:8])), Want: unauthorized, Says: "does not match"},
		{Name: "empty token", Fixture: "build.finished.token", Change: set(buildkite.HeaderToken, ""), Want: unauthorized, Says: "X-Buildkite-Token header is empty"},
		{Name: "empty secret", Fixture: "build.finished.token", Secrets: [][]byte{{}}, Want: unauthorized, Says: "does not match"},
		{Name: "both headers absent", Fixture: "build.finished.passed", Change: del(buildkite.HeaderSignature), Want: unauthorized, Says: "neither the X-Buildkite-Signature nor the X-Buildkite-Token header is present"},
		{Name: "both headers present", Fixture: "build.finished.passed", Change: set(buildkite.HeaderToken, string(testSecret)), Want: unauthorized, Says: "carries both X-Buildkite-Signature and X-Buildkite-Token"},
		{Name: "no event type", Fixture: "build.finished.passed", Change: del(buildkite.HeaderEvent), Want: malformed, Says: "the X-Buildkite-Event header is missing"},
		{Name: "event type of another shape", Fixture: "build.finished.passed", Change: set(buildkite.HeaderEvent, "Build Finished"), Want: malformed, Says: "X-Buildkite-Event header may hold only"},
		{Name: "header and payload event differ", Fixture: "build.finished.failed", Change: set(buildkite.HeaderEvent, "build.running"), Want: malformed, Says: "the X-Buildkite-Event header and the payload's event differ"},
		{Name: "a ping header on a build", Fixture: "build.finished.failed", Change: set(buildkite.HeaderEvent, "ping"), Want: malformed, Says: "differ"},
		{Name: "form-encoded", Fixture: "build.finished.passed", Change: set("Content-Type", "application/x-www-form-urlencoded"), Want: connectors.ErrUnsupportedMediaType, Says: "Buildkite sends JSON"},
	})
	required := kit
	required.New = configured(t, map[string]any{"require_signature": true})
	required.Refusals(t, []connectortest.Refusal{
		{Name: "signature required but token sent", Fixture: "build.finished.token", Want: unauthorized, Says: "requires signed deliveries (settings.require_signature)"},
		{Name: "signature required, nothing sent", Fixture: "build.finished.token", Change: del(buildkite.HeaderToken), Want: unauthorized, Says: "X-Buildkite-Signature header is missing"},
	})
	strict := kit
	strict.New = configured(t, map[string]any{"tolerance": "1s"})
	strict.Refusals(t, []connectortest.Refusal{
		{Name: "outside a one-second tolerance", Fixture: "build.finished.passed", Want: connectors.ErrStale, Says: "is 2s old, more than the 1s allowed"},
	})
}

// configured returns a constructor of connectors with settings.
func configured(t *testing.T, settings map[string]any) func() connectors.Connector {
	t.Helper()
	return func() connectors.Connector {
		c := buildkite.New()
		if err := c.(connectors.Configurable).Configure(settings); err != nil {
			t.Fatalf("Configure(%v): %v", settings, err)
		}
		return c
	}
}

// TestVerifySignature: the signature against a computed vector (no vector
// is published), the tolerance at its edges, and the settings.
func TestVerifySignature(t *testing.T) {
	t.Parallel()
	const (
		token = "buildkite-webhook-token"
		body  = `{"event":"ping"}`
		// HMAC-SHA256("1700000000.{\"event\":\"ping\"}", token), as
		// providers.md §15 computes it.
		vector = "1a3a83c24b778df13d736b0c5cca73c057df2a261556e79419f99a9ff7cae78e"
	)
	at := time.Unix(1700000000, 0)
	header := func(v string) http.Header {
		h := http.Header{}
		h.Set(buildkite.HeaderSignature, v)
		return h
	}
	good := header("timestamp=1700000000,signature=" + vector)
	tests := []struct {
		name     string
		header   http.Header
		settings map[string]any
		now      time.Time
		secrets  []string
		want     error // nil: must verify
	}{
		{name: "vector", header: good, now: at},
		{name: "parts in the other order, spaced", header: header(" signature=" + vector + " , timestamp=1700000000"), now: at},
		{name: "an unknown part beside them", header: header("timestamp=1700000000,v=2,signature=" + vector), now: at},
		{name: "upper-case hex", header: header("timestamp=1700000000,signature=" + strings.ToUpper(vector)), now: at},
		{name: "second secret during rotation", header: good, now: at, secrets: []string{"old-token", token}},
		{name: "edge of the tolerance", header: good, now: at.Add(5 * time.Minute)},
		{name: "edge of the tolerance, ahead", header: good, now: at.Add(-5 * time.Minute)},
		{name: "a second past it", header: good, now: at.Add(5*time.Minute + time.Second), want: connectors.ErrStale},
		{name: "a second ahead of it", header: good, now: at.Add(-5*time.Minute - time.Second), want: connectors.ErrStale},
		{name: "a longer tolerance", header: good, now: at.Add(30 * time.Minute), settings: map[string]any{"tolerance": "30m"}},
		{name: "a day late", header: good, now: at.Add(24 * time.Hour), want: connectors.ErrStale},
		{name: "require_signature with a signature", header: good, now: at, settings: map[string]any{"require_signature": true}},
		{name: "wrong token", header: good, now: at, secrets: []string{"buildkite-webhook-tokeN"}, want: connectors.ErrUnauthorized},
		{name: "signature of the body alone", header: header("timestamp=1700000000,signature=" + hmacHex(token, body)), now: at, want: connectors.ErrUnauthorized},
		{name: "truncated", header: header("timestamp=1700000000,signature=" + vector[:62]), now: at, want: connectors.ErrUnauthorized},
		{name: "far future timestamp", header: header("timestamp=9223372036854775807,signature=" + vector), now: at, want: connectors.ErrStale},
		{name: "negative timestamp", header: header("timestamp=-1,signature=" + vector), now: at, want: connectors.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := buildkite.New()
			if err := c.(connectors.Configurable).Configure(tt.settings); err != nil {
				t.Fatal(err)
			}
			secrets := [][]byte{[]byte(token)}
			if tt.secrets != nil {
				secrets = nil
				for _, s := range tt.secrets {
					secrets = append(secrets, []byte(s))
				}
			}
			err := c.Verify(context.Background(), &connectors.Request{Header: tt.header, Body: []byte(body), ReceivedAt: tt.now}, secrets)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if !errors.Is(err, connectors.ErrUnauthorized) {
				t.Fatalf("Verify = %v, which is not ErrUnauthorized", err)
			}
			if strings.Contains(err.Error(), vector) || strings.Contains(err.Error(), token) {
				t.Fatalf("the error echoes the signature or the token: %v", err)
			}
		})
	}
	// Sign computes the vector at a recorded timestamp.
	h := http.Header{}
	h.Set(buildkite.HeaderRecordedTimestamp, "1700000000")
	buildkite.New().(connectors.Signer).Sign(h, []byte(body), []byte(token))
	if got := h.Get(buildkite.HeaderSignature); got != "timestamp=1700000000,signature="+vector {
		t.Errorf("Sign = %q, want the vector", got)
	}
	if _, ok := h[buildkite.HeaderRecordedTimestamp]; ok {
		t.Errorf("Sign left %s in the headers", buildkite.HeaderRecordedTimestamp)
	}
}

// TestVerifyToken: X-Buildkite-Token against the source's secrets.
func TestVerifyToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		token   string
		secrets []string
		ok      bool
	}{
		{"valid", "s3cret", []string{"s3cret"}, true},
		{"second secret during rotation", "new", []string{"old", "new"}, true},
		{"wrong", "s3cret", []string{"other"}, false},
		{"longer", "s3cret!", []string{"s3cret"}, false},
		{"case differs", "S3cret", []string{"s3cret"}, false},
		{"empty secret never verifies", " ", []string{""}, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set(buildkite.HeaderToken, tt.token)
		var secrets [][]byte
		for _, s := range tt.secrets {
			secrets = append(secrets, []byte(s))
		}
		err := buildkite.New().Verify(context.Background(), &connectors.Request{Header: h, Body: []byte(`{}`)}, secrets)
		if tt.ok != (err == nil) {
			t.Errorf("%s: Verify = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && (!errors.Is(err, connectors.ErrUnauthorized) || strings.Contains(err.Error(), "s3cret")) {
			t.Errorf("%s: Verify = %v, want ErrUnauthorized without the token", tt.name, err)
		}
	}
}

// parse parses body as a delivery of event type typ.
func parse(t *testing.T, typ, body string) *connectors.Result {
	t.Helper()
	h := http.Header{}
	h.Set(buildkite.HeaderEvent, typ)
	res, err := buildkite.New().Parse(&connectors.Request{Source: "s", Header: h, Body: []byte(body), ReceivedAt: connectortest.ReceivedAt})
	if err != nil {
		t.Fatalf("Parse(%s): %v", typ, err)
	}
	return res
}

// TestNormalize: states and shapes the fixtures do not cover.
func TestNormalize(t *testing.T) {
	t.Parallel()
	const pl = `"pipeline":{"slug":"api","name":"API","repository":"https://gitlab.example.com/platform/api.git"}`
	repo := &event.Repository{Name: "platform/api", URL: "https://gitlab.example.com/platform/api"}
	jobEvent := func(state, extra string) string {
		return `{"event":"job.finished",` + pl + `,"build":{"id":"b1","commit":"HEAD","branch":"main"},"job":{"id":"j1","type":"script","label":"Deploy","state":"` + state + `"` + extra + `}}`
	}
	tests := []struct {
		name        string
		typ, body   string
		wantKind    event.Kind
		wantOutcome event.Outcome
		check       func(t *testing.T, ev *event.Event)
	}{
		{name: "expired job", typ: "job.finished", body: jobEvent("expired", ""), wantKind: event.KindTaskFinished, wantOutcome: event.OutcomeTimedOut},
		{name: "broken job", typ: "job.finished", body: jobEvent("broken", ""), wantKind: event.KindTaskFinished, wantOutcome: event.OutcomeSkipped},
		{name: "canceled job", typ: "job.finished", body: jobEvent("canceled", ""), wantKind: event.KindTaskFinished, wantOutcome: event.OutcomeCancelled},
		{name: "failed job", typ: "job.finished", body: jobEvent("failed", `,"exit_status":2`), wantKind: event.KindTaskFinished, wantOutcome: event.OutcomeFailure},
		{name: "finished, exit 0", typ: "job.finished", body: jobEvent("finished", `,"exit_status":0`), wantKind: event.KindTaskFinished, wantOutcome: event.OutcomeSuccess},
		{name: "finished, exit 1", typ: "job.finished", body: jobEvent("finished", `,"exit_status":1`), wantKind: event.KindTaskFinished, wantOutcome: event.OutcomeFailure},
		{name: "finished, no exit status", typ: "job.finished", body: jobEvent("finished", `,"exit_status":null`), wantKind: event.KindOther},
		{name: "unknown job state", typ: "job.finished", body: jobEvent("limbo", ""), wantKind: event.KindOther},
		{name: "job label, HEAD dropped, attempt", typ: "job.finished", body: jobEvent("passed", `,"retries_count":2`), wantKind: event.KindTaskFinished, wantOutcome: event.OutcomeSuccess,
			check: func(t *testing.T, ev *event.Event) {
				want := &event.Build{ID: "j1", Name: "Deploy", Pipeline: "api", RunID: "b1", Attempt: 3, Status: event.BuildFinished, Outcome: event.OutcomeSuccess}
				if diff := cmp.Diff(want, ev.Build); diff != "" || ev.Commit != "" || ev.Branch != "main" || ev.Ref != "refs/heads/main" {
					t.Errorf("build (-want +got):\n%s\ncommit %q branch %q ref %q", diff, ev.Commit, ev.Branch, ev.Ref)
				}
				if diff := cmp.Diff(repo, ev.Repository); diff != "" {
					t.Errorf("repository (-want +got):\n%s", diff)
				}
			}},
		{name: "job.activated", typ: "job.activated", body: `{"event":"job.activated",` + pl + `,"build":{"id":"b1"},"job":{"id":"j2","type":"manual","label":"Release?","state":"unblocked"}}`, wantKind: event.KindOther},
		{name: "build.skipped", typ: "build.skipped", body: `{"event":"build.skipped",` + pl + `,"build":{"id":"b2","number":9,"state":"skipped"}}`, wantKind: event.KindBuildFinished, wantOutcome: event.OutcomeSkipped},
		{name: "build.skipped without a state", typ: "build.skipped", body: `{"event":"build.skipped",` + pl + `,"build":{"id":"b2","number":9}}`, wantKind: event.KindBuildFinished, wantOutcome: event.OutcomeSkipped},
		{name: "build not run", typ: "build.finished", body: `{"event":"build.finished",` + pl + `,"build":{"id":"b3","state":"not_run"}}`, wantKind: event.KindBuildFinished, wantOutcome: event.OutcomeSkipped},
		{name: "build in an unknown state", typ: "build.finished", body: `{"event":"build.finished",` + pl + `,"build":{"id":"b3","state":"paused"}}`, wantKind: event.KindOther},
		{name: "build.failing", typ: "build.failing", body: `{"event":"build.failing",` + pl + `,"build":{"id":"b4","state":"failing"}}`, wantKind: event.KindOther,
			check: func(t *testing.T, ev *event.Event) {
				if ev.Build.Status != event.BuildRunning || ev.Action != "failing" {
					t.Errorf("build.failing: status %q action %q, want running, failing", ev.Build.Status, ev.Action)
				}
			}},
		{name: "build event without a build", typ: "build.finished", body: `{"event":"build.finished",` + pl + `}`, wantKind: event.KindOther},
		{name: "agent event", typ: "agent.connected", body: `{"event":"agent.connected","agent":{"id":"a1","name":"ci-agent-7"},"sender":{"name":"Ada"}}`, wantKind: event.KindUnnormalized,
			check: func(t *testing.T, ev *event.Event) {
				if ev.Build != nil || ev.Repository != nil {
					t.Errorf("an agent event has build %+v, repository %+v", ev.Build, ev.Repository)
				}
			}},
		{name: "a state that is no word is not kept", typ: "build.finished", body: `{"event":"build.finished",` + pl + `,"build":{"id":"b5","state":"Passed!"}}`, wantKind: event.KindOther,
			check: func(t *testing.T, ev *event.Event) {
				if ev.Action != "" {
					t.Errorf("Action = %q, want none", ev.Action)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := parse(t, tt.typ, tt.body)
			ev := res.Event
			if ev.Kind != tt.wantKind {
				t.Fatalf("kind %q, want %q", ev.Kind, tt.wantKind)
			}
			if ev.Build != nil && ev.Build.Outcome != tt.wantOutcome {
				t.Errorf("outcome %q, want %q", ev.Build.Outcome, tt.wantOutcome)
			}
			if !res.Checked {
				t.Error("the payload was decoded whole but Checked is false")
			}
			if tt.check != nil {
				tt.check(t, ev)
			}
		})
	}
}

// TestDeliveryID: the hash of the body, the same for the same body, and
// another for another.
func TestDeliveryID(t *testing.T) {
	t.Parallel()
	a := `{"event":"build.running","build":{"id":"b1","state":"running"}}`
	b := `{"event":"build.running","build":{"id":"b1","state":"running" }}`
	ea, eb := parse(t, "build.running", a).Event, parse(t, "build.running", b).Event
	if ea.ID != connectors.ContentHash([]byte(a)) || ea.IDFrom != connectors.IDFromContentHash {
		t.Errorf("ID %q from %q, want the content hash", ea.ID, ea.IDFrom)
	}
	if ea.ID == eb.ID {
		t.Error("two bodies have the same id")
	}
	if again := parse(t, "build.running", a).Event; again.ID != ea.ID {
		t.Error("the same body has two ids")
	}
}

// TestPing: a ping is answered, and not normalized, whatever its body
// holds beside its event.
func TestPing(t *testing.T) {
	t.Parallel()
	res := parse(t, "ping", `{"event":"ping","service":{"provider":"webhook"}}`)
	if !res.Ping || res.Event != nil {
		t.Fatalf("Parse = %+v, want a ping", res)
	}
}

// TestSimulator: a delivery the connector builds and signs now verifies
// now, and parses as the type it was given.
func TestSimulator(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(buildkite.Name, "job.finished.timed_out")
	if err != nil {
		t.Fatal(err)
	}
	c := buildkite.New()
	sim := c.(connectors.Simulator)
	if got := sim.EventType(f.Header, f.Body); got != "job.finished" {
		t.Fatalf("EventType = %q, want job.finished", got)
	}
	if got := sim.EventType(http.Header{}, f.Body); got != "job.finished" {
		t.Fatalf("EventType without headers = %q, want the payload's job.finished", got)
	}
	h, body := sim.Delivery("job.finished", "ignored", f.Body)
	sim.Sign(h, body, testSecret)
	req := &connectors.Request{Header: h, Body: body, ReceivedAt: time.Now()}
	if err := c.Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	res, err := c.Parse(req)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if res.Event.Type != "job.finished" || res.Event.Kind != event.KindTaskFinished || res.Event.Build.Outcome != event.OutcomeTimedOut {
		t.Errorf("event %q %q %q, want job.finished, task.finished, timed_out", res.Event.Type, res.Event.Kind, res.Event.Build.Outcome)
	}
}

// TestFixtureHeaders: recorded headers never hold a credential: no
// signature (only the time it was made at), a token header nothing.
func TestFixtureHeaders(t *testing.T) {
	t.Parallel()
	var signed, token int
	for _, f := range kit.Fixtures(t) {
		if _, ok := f.Header[buildkite.HeaderSignature]; ok {
			t.Errorf("%s records %s", f.Name, buildkite.HeaderSignature)
		}
		if _, ok := f.Header[buildkite.HeaderRecordedTimestamp]; ok {
			signed++
		}
		if v, ok := f.Header[buildkite.HeaderToken]; ok {
			token++
			if v[0] != "" {
				t.Errorf("%s records a token", f.Name)
			}
		}
	}
	if signed == 0 || token == 0 {
		t.Errorf("%d fixtures are signed and %d sent with a token; both ways must be covered", signed, token)
	}
}

// hmacHex returns the hex HMAC-SHA256 of msg with key.
func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}
