package azuredevops_test

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
	"github.com/reflexops/reflex/connectors/azuredevops"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/schemes"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// testSecret is the subscription's Basic authentication, user:password.
var testSecret = []byte("reflex-hooks:It's a Secret to Everybody")

// kit is the connector under test with its fixtures.
var kit = connectortest.Kit{Name: azuredevops.Name, New: azuredevops.New, Source: "acme-azure-devops", Secret: testSecret}

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves: each fixture must
// normalize to the kind its name promises.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"build.complete.failed":                                event.KindBuildFinished,
		"build.complete.canceled":                              event.KindBuildFinished,
		"build.complete.succeeded":                             event.KindBuildFinished,
		"git.pullrequest.created":                              event.KindChangeCreated,
		"git.pullrequest.merged":                               event.KindChangeMerged,
		"git.pullrequest.merged.attempted":                     event.KindOther,
		"git.pullrequest.updated":                              event.KindChangeUpdated,
		"git.pullrequest.updated.completed":                    event.KindChangeMerged,
		"git.push.branch":                                      event.KindCodePushed,
		"git.push.branch-created":                              event.KindBranchCreated,
		"git.push.branch-deleted":                              event.KindBranchDeleted,
		"git.push.tag":                                         event.KindTagCreated,
		"git.push.branches":                                    event.KindCodePushed + "," + event.KindCodePushed,
		"ms.vss-pipelines.run-state-changed-event.completed":   event.KindBuildFinished,
		"ms.vss-pipelines.run-state-changed-event.inprogress":  event.KindBuildStarted,
		"ms.vss-pipelines.stage-state-changed-event.completed": event.KindTaskFinished,
		"ms.vss-release.deployment-completed-event":            event.KindDeploymentFinished,
		"ms.vss-release.deployment-started-event":              event.KindDeploymentStarted,
		"workitem.created":                                     event.KindUnnormalized,
	})
}

// basic returns an Authorization header value for user:password.
func basic(credentials string) string { return schemes.BasicAuthorization([]byte(credentials)) }

// TestRefusals: what Verify (or Parse) must refuse, each with a message
// that tells the sender what is wrong and never echoes the secret.
func TestRefusals(t *testing.T) {
	setAuth := func(v string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Header.Set("Authorization", v) }
	}
	setBody := func(body string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Body = []byte(body) }
	}
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "missing Authorization", Fixture: "git.push.branch", Change: func(r *connectors.Request) { r.Header.Del("Authorization") }, Want: connectors.ErrUnauthorized, Says: "set Basic authentication"},
		{Name: "empty Authorization", Fixture: "git.push.branch", Change: setAuth(""), Want: connectors.ErrUnauthorized, Says: "Authorization header is missing"},
		{Name: "wrong password", Fixture: "git.push.branch", Change: setAuth(basic("reflex-hooks:guess")), Want: connectors.ErrUnauthorized, Says: "do not match the source's secret"},
		{Name: "wrong user", Fixture: "git.push.branch", Change: setAuth(basic("admin:It's a Secret to Everybody")), Want: connectors.ErrUnauthorized, Says: "do not match"},
		{Name: "password alone", Fixture: "git.push.branch", Change: setAuth(basic(":It's a Secret to Everybody")), Want: connectors.ErrUnauthorized, Says: "do not match"},
		{Name: "bearer scheme", Fixture: "git.push.branch", Change: setAuth("Bearer " + string(testSecret)), Want: connectors.ErrUnauthorized, Says: "does not hold Basic credentials"},
		{Name: "basic without colon", Fixture: "git.push.branch", Change: setAuth(basic("reflex-hooks")), Want: connectors.ErrUnauthorized, Says: "does not hold Basic credentials"},
		{Name: "basic not base64", Fixture: "git.push.branch", Change: setAuth("Basic !!!"), Want: connectors.ErrUnauthorized, Says: "does not hold Basic credentials"},
		{Name: "empty secret", Fixture: "git.push.branch", Secrets: [][]byte{{}}, Change: setAuth("Basic "), Want: connectors.ErrUnauthorized, Says: "Basic credentials"},
		{Name: "empty secret with empty credentials", Fixture: "git.push.branch", Secrets: [][]byte{{}}, Change: setAuth(basic(":")), Want: connectors.ErrUnauthorized, Says: "do not match"},
		{Name: "no secrets", Fixture: "git.push.branch", Secrets: [][]byte{}, Want: connectors.ErrUnauthorized, Says: "do not match"},
		{Name: "rotated out", Fixture: "git.push.branch", Secrets: [][]byte{[]byte("reflex-hooks:new secret")}, Want: connectors.ErrUnauthorized, Says: "do not match"},
		{Name: "no eventType", Fixture: "git.push.branch", Change: setBody(`{"id":"03c164c2-8912-4d5e-8009-3707d5f83734","resource":{}}`), Want: connectors.ErrMalformed, Says: "eventType is missing"},
		{Name: "no id", Fixture: "git.push.branch", Change: setBody(`{"eventType":"git.push","subscriptionId":"8a9d3c1e-5b7f-4e2a-9c6d-1f0e2b3a4c5d","notificationId":14}`), Want: connectors.ErrMalformed, Says: "payload's id is missing"},
		{Name: "not JSON", Fixture: "git.push.branch", Change: setBody(`eventType=git.push`), Want: connectors.ErrMalformed, Says: "not a service hook notification"},
		{Name: "not a form", Fixture: "git.push.branch", Change: func(r *connectors.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, Want: connectors.ErrUnsupportedMediaType, Says: "Azure DevOps sends application/json"},
		{Name: "no content type", Fixture: "git.push.branch", Change: func(r *connectors.Request) { r.Header.Del("Content-Type") }, Want: connectors.ErrUnsupportedMediaType, Says: "Content-Type header is missing"},
	})
}

// TestRotation: while a secret is rotated, either verifies.
func TestRotation(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(azuredevops.Name, "git.push.branch")
	if err != nil {
		t.Fatal(err)
	}
	req := kit.Request(t, f)
	for _, secrets := range [][][]byte{{[]byte("reflex-hooks:old"), testSecret}, {testSecret, []byte("reflex-hooks:new")}, {{}, testSecret}} {
		if err := azuredevops.New().Verify(context.Background(), req, secrets); err != nil {
			t.Errorf("Verify with secrets %q: %v", secrets, err)
		}
	}
}

// configured returns a connector with settings.
func configured(t *testing.T, settings map[string]any) connectors.Connector {
	t.Helper()
	c := azuredevops.New()
	if err := c.(connectors.Configurable).Configure(settings); err != nil {
		t.Fatalf("Configure(%v): %v", settings, err)
	}
	return c
}

// TestHeaderMode: with settings.header, the custom header carries the
// secret and Basic authentication is neither needed nor enough.
func TestHeaderMode(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(azuredevops.Name, "build.complete.succeeded")
	if err != nil {
		t.Fatal(err)
	}
	const token = "s3cret-token-7f2c"
	tests := []struct {
		name    string
		header  map[string]string
		secrets []string
		wantErr string // empty: must verify
	}{
		{name: "valid", header: map[string]string{"X-Reflex-Token": token}, secrets: []string{token}},
		{name: "header name in any case", header: map[string]string{"x-reflex-token": token}, secrets: []string{token}},
		{name: "second secret during rotation", header: map[string]string{"X-Reflex-Token": token}, secrets: []string{"old-token", token}},
		{name: "wrong value", header: map[string]string{"X-Reflex-Token": "guess"}, secrets: []string{token}, wantErr: "X-Reflex-Token header does not match"},
		{name: "missing", header: nil, secrets: []string{token}, wantErr: "X-Reflex-Token header is missing"},
		{name: "basic instead of the header", header: map[string]string{"Authorization": basic("user:" + token)}, secrets: []string{"user:" + token}, wantErr: "X-Reflex-Token header is missing"},
		{name: "empty secret", header: map[string]string{"X-Reflex-Token": " "}, secrets: []string{""}, wantErr: "does not match"},
		{name: "no secrets", header: map[string]string{"X-Reflex-Token": token}, secrets: nil, wantErr: "does not match"},
	}
	c := configured(t, map[string]any{"header": "x-reflex-token"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := f.Header.Clone()
			for k, v := range tt.header {
				h.Set(k, v)
			}
			var secrets [][]byte
			for _, s := range tt.secrets {
				secrets = append(secrets, []byte(s))
			}
			err := c.Verify(context.Background(), &connectors.Request{Header: h, Body: f.Body}, secrets)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Verify = %v, want ErrUnauthorized containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), token) {
				t.Fatalf("error %q echoes the secret", err)
			}
		})
	}
	// Sign sets the configured header, so a signed fixture verifies.
	h := f.Header.Clone()
	c.(connectors.Signer).Sign(h, f.Body, []byte(token))
	if h.Get("X-Reflex-Token") != token || h.Get("Authorization") != "" {
		t.Fatalf("Sign in header mode set %v", h)
	}
}

func TestConfigure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		settings map[string]any
		wantErr  string // empty: must be accepted
	}{
		{name: "nil", settings: nil},
		{name: "empty header", settings: map[string]any{"header": ""}},
		{name: "header", settings: map[string]any{"header": "X-Reflex-Token"}},
		{name: "unknown setting", settings: map[string]any{"secret": "x"}, wantErr: "settings.secret: is not a setting"},
		{name: "header not a string", settings: map[string]any{"header": 7}, wantErr: "settings.header"},
		{name: "header with a space", settings: map[string]any{"header": "X Token"}, wantErr: "settings.header: \"X Token\" is not an HTTP header name"},
		{name: "header with a colon", settings: map[string]any{"header": "X-Token:"}, wantErr: "settings.header"},
		{name: "authorization", settings: map[string]any{"header": "authorization"}, wantErr: "settings.header: leave it unset"},
		{name: "user agent, shown to policies", settings: map[string]any{"header": "User-Agent"}, wantErr: "settings.header: User-Agent is shown to policies"},
		{name: "request id, shown to policies", settings: map[string]any{"header": "x-request-id"}, wantErr: "settings.header: X-Request-Id is shown to policies"},
		{name: "forwarded for, shown to policies", settings: map[string]any{"header": "X-Forwarded-For"}, wantErr: "settings.header: X-Forwarded-For is shown to policies"},
		{name: "content type", settings: map[string]any{"header": "Content-Type"}, wantErr: "settings.header: Content-Type"},
		{name: "content header", settings: map[string]any{"header": "Content-Length"}, wantErr: "settings.header: Content-Length has a meaning of its own"},
		{name: "host", settings: map[string]any{"header": "host"}, wantErr: "settings.header: Host has a meaning of its own"},
		{name: "cookie", settings: map[string]any{"header": "Cookie"}, wantErr: "settings.header: Cookie has a meaning of its own"},
		{name: "too long", settings: map[string]any{"header": strings.Repeat("x", 129)}, wantErr: "settings.header: is longer than 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := azuredevops.New().(connectors.Configurable).Configure(tt.settings)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Configure: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Configure = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// parse parses body as a delivery with Azure DevOps' headers.
func parse(t *testing.T, body string) (*connectors.Result, error) {
	t.Helper()
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return azuredevops.New().Parse(&connectors.Request{Source: "s", Header: h, Body: []byte(body), ReceivedAt: connectortest.ReceivedAt})
}

// TestDeliveryID: the notification is the delivery, numbered within its
// subscription; the event id stands in when the body has none.
func TestDeliveryID(t *testing.T) {
	t.Parallel()
	const sub, eid = "8a9d3c1e-5b7f-4e2a-9c6d-1f0e2b3a4c5d", "03c164c2-8912-4d5e-8009-3707d5f83734"
	tests := []struct {
		name    string
		fields  string
		want    string
		wantErr string
	}{
		{name: "number", fields: `"subscriptionId":"` + sub + `","notificationId":14`, want: sub + ".14"},
		{name: "string", fields: `"subscriptionId":"` + sub + `","notificationId":"14"`, want: sub + ".14"},
		{name: "large", fields: `"subscriptionId":"` + sub + `","notificationId":18446744073709551615`, want: sub + ".18446744073709551615"},
		{name: "no notification", fields: `"subscriptionId":"` + sub + `"`, want: eid},
		{name: "null notification", fields: `"subscriptionId":"` + sub + `","notificationId":null`, want: eid},
		{name: "zero notification", fields: `"subscriptionId":"` + sub + `","notificationId":0`, want: eid},
		{name: "no subscription", fields: `"notificationId":14`, want: eid},
		{name: "negative", fields: `"subscriptionId":"` + sub + `","notificationId":-1`, wantErr: "not a whole number"},
		{name: "fraction", fields: `"subscriptionId":"` + sub + `","notificationId":1.5`, wantErr: "not a whole number"},
		{name: "subscription with a slash", fields: `"subscriptionId":"a/b","notificationId":1`, wantErr: "subscriptionId and notificationId may hold only"},
		{name: "notification string with a space", fields: `"subscriptionId":"` + sub + `","notificationId":"1 2"`, wantErr: "may hold only"},
		{name: "id with a slash", fields: `"id":"../x"`, wantErr: "payload's id may hold only"},
		{name: "id too long", fields: `"id":"` + strings.Repeat("a", 129) + `"`, wantErr: "longer than 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := `{"id":"` + eid + `","eventType":"workitem.created",` + tt.fields + `}`
			if strings.HasPrefix(tt.fields, `"id"`) {
				body = `{"eventType":"workitem.created",` + tt.fields + `}`
			}
			res, err := parse(t, body)
			if tt.wantErr != "" {
				if !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse = %v, want ErrMalformed containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if res.Event.ID != tt.want || res.Event.IDFrom != "" {
				t.Fatalf("ID = %q (from %q), want %q", res.Event.ID, res.Event.IDFrom, tt.want)
			}
		})
	}
}

// TestEventTypeChecked: the body's eventType is kept only when it has the
// shape of Azure DevOps' event types.
func TestEventTypeChecked(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]string{
		`"../../x"`:                          "may hold only",
		`"git push"`:                         "may hold only",
		`"1git.push"`:                        "may hold only",
		`"` + strings.Repeat("a", 129) + `"`: "longer than 128",
		`7`:                                  "not a service hook notification",
	} {
		_, err := parse(t, `{"id":"e1","eventType":`+typ+`}`)
		if !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), want) {
			t.Errorf("eventType %s: Parse = %v, want ErrMalformed containing %q", typ, err, want)
		}
	}
}

// TestWithoutResource: a known event type whose subscription sends no
// resource details is accepted as other; an unknown one is unnormalized.
func TestWithoutResource(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]event.Kind{
		"git.push":                   event.KindOther,
		"build.complete":             event.KindOther,
		"git.pullrequest.created":    event.KindOther,
		"tfvc.checkin":               event.KindUnnormalized,
		"ms.vss-code.git-fork-event": event.KindUnnormalized,
	} {
		for _, resource := range []string{``, `,"resource":null`} {
			res, err := parse(t, `{"id":"e1","eventType":"`+typ+`"`+resource+`}`)
			if err != nil {
				t.Fatalf("%s%s: Parse: %v", typ, resource, err)
			}
			if res.Event.Kind != want {
				t.Errorf("%s%s: kind = %q, want %q", typ, resource, res.Event.Kind, want)
			}
		}
	}
}

// TestResourceOfAnotherShape: a known event type's resource must have the
// documented shape.
func TestResourceOfAnotherShape(t *testing.T) {
	t.Parallel()
	for typ, resource := range map[string]string{
		"git.push":                `{"refUpdates":"refs/heads/main"}`,
		"git.pullrequest.updated": `{"pullRequestId":"42"}`,
		"build.complete":          `[1]`,
		"ms.vss-pipelines.run-state-changed-event":   `{"run":{"id":"x"}}`,
		"ms.vss-pipelines.stage-state-changed-event": `{"stage":7}`,
		"ms.vss-release.deployment-completed-event":  `{"deployment":{"id":"301"}}`,
	} {
		_, err := parse(t, `{"id":"e1","eventType":"`+typ+`","resource":`+resource+`}`)
		if !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "the "+typ+" notification does not have the documented shape") {
			t.Errorf("%s: Parse = %v, want ErrMalformed naming the event type", typ, err)
		}
	}
}

// TestUnknownTypeAnyResource: an event type the connector does not
// normalize is accepted whatever its resource and message hold, as long
// as its type and ids are there.
func TestUnknownTypeAnyResource(t *testing.T) {
	t.Parallel()
	for _, rest := range []string{
		`"resource":{"id":"repo-7","status":{"code":1},"run":[1],"repository":"x"}`,
		`"resource":[1,2]`,
		`"message":"forked","resource":7`,
	} {
		res, err := parse(t, `{"id":"e1","eventType":"ms.vss-code.git-fork-event","subscriptionId":"s1","notificationId":4,`+rest+`}`)
		if err != nil {
			t.Fatalf("%s: Parse: %v", rest, err)
		}
		if res.Event.Kind != event.KindUnnormalized || res.Event.ID != "s1.4" {
			t.Errorf("%s: kind %q, id %q; want unnormalized, s1.4", rest, res.Event.Kind, res.Event.ID)
		}
	}
	if _, err := parse(t, `{"id":"e1","eventType":"git.push","message":"pushed","resource":{}}`); !errors.Is(err, connectors.ErrMalformed) {
		t.Errorf("git.push with a message of another shape: Parse = %v, want ErrMalformed", err)
	}
}

// TestPullRequestAbandoned: an update that abandons the pull request is
// change.abandoned, with the source branch and its head.
func TestPullRequestAbandoned(t *testing.T) {
	t.Parallel()
	res, err := parse(t, `{"id":"e1","eventType":"git.pullrequest.updated","message":{"text":"Jamal Hartnett abandoned pull request 43"},
		"resource":{"pullRequestId":43,"status":"abandoned","title":"Move session cache to Redis",
		"sourceRefName":"refs/heads/feature/redis-sessions","targetRefName":"refs/heads/master",
		"lastMergeSourceCommit":{"commitId":"885adddfa29eeeb8a0c9448b6744d2cfe02b1ebf"},
		"closedBy":{"displayName":"Normal Paulk"},
		"repository":{"name":"Fabrikam-Fiber-Git","remoteUrl":"https://fabrikam@dev.azure.com/fabrikam/Fabrikam-Fiber/_git/Fabrikam-Fiber-Git","project":{"name":"Fabrikam-Fiber"}}}}`)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &event.Event{
		ID: "e1", Source: "s", Connector: azuredevops.Name, Type: "git.pullrequest.updated", Kind: event.KindChangeAbandoned,
		Repository: &event.Repository{Name: "Fabrikam-Fiber/Fabrikam-Fiber-Git", URL: "https://dev.azure.com/fabrikam/Fabrikam-Fiber/_git/Fabrikam-Fiber-Git"},
		Ref:        "refs/heads/feature/redis-sessions", Branch: "feature/redis-sessions", Commit: "885adddfa29eeeb8a0c9448b6744d2cfe02b1ebf",
		Actor: "Normal Paulk", URL: "https://dev.azure.com/fabrikam/Fabrikam-Fiber/_git/Fabrikam-Fiber-Git/pullrequest/43",
		Change:     &event.Change{Number: 43, Title: "Move session cache to Redis", SourceBranch: "feature/redis-sessions", TargetBranch: "master"},
		ReceivedAt: connectortest.ReceivedAt,
	}
	if diff := cmp.Diff(want, res.Event); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPullRequestVote: an update that is not a push to the source branch
// (a vote, here) is other.
func TestPullRequestVote(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(azuredevops.Name, "git.pullrequest.updated")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.ReplaceAll(string(f.Body), "updated the source branch of", "approved")
	res, err := parse(t, body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if res.Event.Kind != event.KindOther || res.Event.Change == nil || res.Event.Change.Number != 42 {
		t.Fatalf("a vote normalized to kind %q, change %+v; want other with the change", res.Event.Kind, res.Event.Change)
	}
}

// TestRunStates: the states of a run and what they mean.
func TestRunStates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state, result string
		kind          event.Kind
		status        event.BuildStatus
		outcome       event.Outcome
	}{
		{"inProgress", "", event.KindBuildStarted, event.BuildRunning, ""},
		{"canceling", "", event.KindOther, event.BuildRunning, ""},
		{"completed", "succeeded", event.KindBuildFinished, event.BuildFinished, event.OutcomeSuccess},
		{"completed", "failed", event.KindBuildFinished, event.BuildFinished, event.OutcomeFailure},
		{"completed", "canceled", event.KindBuildFinished, event.BuildFinished, event.OutcomeCancelled},
		{"completed", "partiallySucceeded", event.KindBuildFinished, event.BuildFinished, event.OutcomeNeutral},
		{"unknown", "", event.KindOther, "", ""},
	}
	for _, tt := range tests {
		res, err := parse(t, `{"id":"e1","eventType":"ms.vss-pipelines.run-state-changed-event","resource":{"run":{"id":9,"state":"`+tt.state+`","result":"`+tt.result+`"}}}`)
		if err != nil {
			t.Fatalf("%s/%s: Parse: %v", tt.state, tt.result, err)
		}
		b := res.Event.Build
		if res.Event.Kind != tt.kind || b.Status != tt.status || b.Outcome != tt.outcome || b.ID != "9" || res.Event.Action != tt.state {
			t.Errorf("%s/%s: kind %q, status %q, outcome %q, id %q, action %q; want %q, %q, %q", tt.state, tt.result, res.Event.Kind, b.Status, b.Outcome, b.ID, res.Event.Action, tt.kind, tt.status, tt.outcome)
		}
	}
}

// TestSimulator: Delivery writes the type and the id into the body so
// that Parse reads them back, for every fixture; EventType reads the
// type back.
func TestSimulator(t *testing.T) {
	t.Parallel()
	sim := azuredevops.New().(connectors.Simulator)
	for _, f := range kit.Fixtures(t) {
		typ := sim.EventType(f.Header, f.Body)
		if typ == "" || !strings.HasPrefix(f.Name, typ) {
			t.Errorf("%s: EventType = %q", f.Name, typ)
		}
		for _, id := range []string{"load-17", "0b5f75b8-6b44-4017-882b-c66cb8731dab", "8a9d3c1e-5b7f-4e2a-9c6d-1f0e2b3a4c5d.99"} {
			h, body := sim.Delivery(typ, id, f.Body)
			if h.Get("Authorization") != "" || h.Get("Content-Type") != "application/json; charset=utf-8" || !strings.HasPrefix(h.Get("User-Agent"), "VSServices/") {
				t.Errorf("%s: Delivery headers %v", f.Name, h)
			}
			sim.Sign(h, body, testSecret)
			req := &connectors.Request{Source: "s", Header: h, Body: body, ReceivedAt: connectortest.ReceivedAt}
			if err := sim.(connectors.Connector).Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
				t.Fatalf("%s: Verify of a simulated delivery: %v", f.Name, err)
			}
			res, err := sim.(connectors.Connector).Parse(req)
			if err != nil {
				t.Fatalf("%s: Parse of a simulated delivery: %v", f.Name, err)
			}
			for i, ev := range events(res) {
				want := id
				if res.Batch != nil {
					want = id + "." + strconv.Itoa(i+1)
				}
				if ev.ID != want || ev.Type != typ {
					t.Errorf("%s: simulated delivery %q of %q parsed as %q of %q, want %q", f.Name, id, typ, ev.ID, ev.Type, want)
				}
			}
			if got := sim.EventType(nil, body); got != typ {
				t.Errorf("%s: EventType of a simulated delivery = %q", f.Name, got)
			}
		}
	}
	// Another type is written into the body as well.
	f, _ := fixtures.Get(azuredevops.Name, "workitem.created")
	if _, body := sim.Delivery("workitem.updated", "x", f.Body); sim.EventType(nil, body) != "workitem.updated" {
		t.Error("Delivery did not write the event type")
	}
	// A payload that is not a JSON object is sent as it is.
	if _, body := sim.Delivery("git.push", "x", []byte(`[1]`)); string(body) != `[1]` {
		t.Errorf("Delivery of an array = %s", body)
	}
}

// TestTimes: Azure DevOps' timestamps, with and without a zone.
func TestTimes(t *testing.T) {
	t.Parallel()
	res, err := parse(t, `{"id":"e1","eventType":"build.complete","resource":{"id":3,"status":"completed","result":"succeeded",
		"startTime":"2026-01-02T03:04:12.6205723","finishTime":"0001-01-01T00:00:00","lastChangedDate":"not a time"}}`)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := time.Date(2026, 1, 2, 3, 4, 12, 620572300, time.UTC)
	if b := res.Event.Build; b.StartedAt == nil || !b.StartedAt.Equal(want) || b.UpdatedAt != nil {
		t.Fatalf("StartedAt %v, UpdatedAt %v; want %v and none", b.StartedAt, b.UpdatedAt, want)
	}
}

// events returns a result's events: its event, or its batch's.
func events(res *connectors.Result) []*event.Event {
	if res.Batch == nil {
		return []*event.Event{res.Event}
	}
	out := make([]*event.Event, len(res.Batch))
	for i, r := range res.Batch {
		out[i] = r.Event
	}
	return out
}

// TestPushBatch: a push of several refs is one event per ref, each with
// its own id and the whole payload; a push of one is the delivery's
// event.
func TestPushBatch(t *testing.T) {
	t.Parallel()
	const a, b, zero = "aad331d8d3b131fa9ae03cf5e53965b51942618a", "33b55f7cb7e7e245323987634f960cf4a6e6bc74", "0000000000000000000000000000000000000000"
	update := func(ref, old string) string {
		return `{"name":"` + ref + `","oldObjectId":"` + old + `","newObjectId":"` + b + `"}`
	}
	push := func(id string, updates ...string) (*connectors.Result, []byte, error) {
		body := `{"id":"` + id + `","eventType":"git.push","resource":{"pushedBy":{"uniqueName":"jamal@fabrikam.com"},"refUpdates":[` + strings.Join(updates, ",") + `]}}`
		res, err := parse(t, body)
		return res, []byte(body), err
	}

	res, body, err := push("e1", update("refs/heads/feature", a), update("refs/tags/v1", zero))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if res.Event != nil || res.Payload != nil || len(res.Batch) != 2 {
		t.Fatalf("a push of two refs: event %v, %d payload bytes, batch of %d; want a batch of 2", res.Event, len(res.Payload), len(res.Batch))
	}
	for i, want := range []struct {
		id, ref string
		kind    event.Kind
	}{{"e1.1", "refs/heads/feature", event.KindCodePushed}, {"e1.2", "refs/tags/v1", event.KindTagCreated}} {
		r := res.Batch[i]
		if r.Event.ID != want.id || r.Event.Ref != want.ref || r.Event.Kind != want.kind || r.Event.Commit != b || r.Event.Actor != "jamal@fabrikam.com" {
			t.Errorf("batch[%d] = %+v; want id %s, ref %s, kind %s", i, r.Event, want.id, want.ref, want.kind)
		}
		if string(r.Payload) != string(body) {
			t.Errorf("batch[%d] carries %s, want the whole payload", i, r.Payload)
		}
	}

	res, _, err = push("e1", update("refs/heads/main", a))
	if err != nil || res.Batch != nil || res.Event.ID != "e1" || res.Event.Branch != "main" {
		t.Fatalf("a push of one ref: %+v, %v; want the event e1", res, err)
	}

	many := make([]string, connectors.MaxBatch+1)
	for i := range many {
		many[i] = update("refs/heads/b"+strconv.Itoa(i), a)
	}
	if res, _, err := push("e1", many[:connectors.MaxBatch]...); err != nil || len(res.Batch) != connectors.MaxBatch || res.Batch[connectors.MaxBatch-1].Event.ID != "e1.100" {
		t.Fatalf("a push of %d refs: %v; want a batch of as many", connectors.MaxBatch, err)
	}
	if _, _, err := push("e1", many...); !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "at most 100") {
		t.Fatalf("a push of %d refs: Parse = %v, want ErrMalformed naming the limit", len(many), err)
	}
	if _, _, err := push(strings.Repeat("a", connectors.MaxDeliveryID), update("refs/heads/a", a), update("refs/heads/b", a)); !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "longer than 128") {
		t.Fatalf("a push of two refs with the longest delivery id: Parse = %v, want ErrMalformed", err)
	}
}

// TestBuildRefs: build, run and stage events name the branch or tag they
// built, never a Ref, as every connector's build events do; a pull
// request's merge ref names neither.
func TestBuildRefs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref, branch, tag string
	}{
		{"refs/heads/feature/x", "feature/x", ""},
		{"refs/tags/v1.2.0", "", "v1.2.0"},
		{"refs/pull/42/merge", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		for typ, resource := range map[string]string{
			"build.complete": `{"id":3,"status":"completed","result":"succeeded","sourceBranch":"` + tt.ref + `"}`,
			"ms.vss-pipelines.run-state-changed-event":   `{"run":{"id":9,"state":"completed","result":"succeeded","resources":{"repositories":{"self":{"refName":"` + tt.ref + `"}}}}}`,
			"ms.vss-pipelines.stage-state-changed-event": `{"stage":{"id":"s","name":"Build","state":"completed"},"run":{"id":9,"resources":{"repositories":{"self":{"refName":"` + tt.ref + `"}}}}}`,
		} {
			res, err := parse(t, `{"id":"e1","eventType":"`+typ+`","resource":`+resource+`}`)
			if err != nil {
				t.Fatalf("%s %q: Parse: %v", typ, tt.ref, err)
			}
			if ev := res.Event; ev.Ref != "" || ev.Branch != tt.branch || ev.Tag != tt.tag {
				t.Errorf("%s %q: ref %q, branch %q, tag %q; want no ref, branch %q, tag %q", typ, tt.ref, ev.Ref, ev.Branch, ev.Tag, tt.branch, tt.tag)
			}
		}
	}
}
