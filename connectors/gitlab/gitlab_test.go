package gitlab_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/gitlab"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// testSecret is the webhook's secret token, sent as X-Gitlab-Token.
var testSecret = []byte("glwt-7f3c1e9a5b2d4c6e8a0f")

// kit is the connector under test with its fixtures.
var kit = connectortest.Kit{Name: gitlab.Name, New: gitlab.New, Source: "acme-gitlab", Secret: testSecret}

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves: each fixture must
// normalize to the kind its name promises.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"deployment.running":          event.KindDeploymentStarted,
		"deployment.success":          event.KindDeploymentFinished,
		"issue.open":                  event.KindUnnormalized,
		"job.created":                 event.KindTaskQueued,
		"job.failed":                  event.KindTaskFinished,
		"job.success":                 event.KindTaskFinished,
		"merge_request.approved":      event.KindOther,
		"merge_request.close":         event.KindChangeAbandoned,
		"merge_request.merge":         event.KindChangeMerged,
		"merge_request.open":          event.KindChangeCreated,
		"merge_request.update":        event.KindChangeUpdated,
		"merge_request.update-labels": event.KindOther,
		"pipeline.canceled":           event.KindBuildFinished,
		"pipeline.failed":             event.KindBuildFinished,
		"pipeline.pending":            event.KindBuildQueued,
		"pipeline.running":            event.KindBuildStarted,
		"pipeline.success":            event.KindBuildFinished,
		"push.branch":                 event.KindCodePushed,
		"push.branch-created":         event.KindBranchCreated,
		"push.branch-deleted":         event.KindBranchDeleted,
		"push.signing-token":          event.KindCodePushed,
		"release.create":              event.KindReleasePublished,
		"release.update":              event.KindOther,
		"system.push":                 event.KindCodePushed,
		"tag_push.created":            event.KindTagCreated,
		"tag_push.deleted":            event.KindTagDeleted,
	})
}

// TestRefusals: what Verify and Parse refuse with a secret token, and
// what they say.
func TestRefusals(t *testing.T) {
	set := func(name, value string) func(*connectors.Request) {
		return func(req *connectors.Request) { req.Header.Set(name, value) }
	}
	del := func(names ...string) func(*connectors.Request) {
		return func(req *connectors.Request) {
			for _, n := range names {
				req.Header.Del(n)
			}
		}
	}
	unauthorized := connectors.ErrUnauthorized
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "wrong token", Fixture: "push.branch", Secrets: [][]byte{[]byte("glwt-another-token")}, Want: unauthorized, Says: "X-Gitlab-Token does not match"},
		{Name: "no token and no signature", Fixture: "push.branch", Change: del(gitlab.HeaderToken), Want: unauthorized, Says: "neither the X-Gitlab-Token nor the webhook-signature header"},
		{Name: "empty token", Fixture: "push.branch", Change: set(gitlab.HeaderToken, ""), Want: unauthorized, Says: "X-Gitlab-Token header is empty"},
		{Name: "token a prefix of the secret", Fixture: "push.branch", Change: set(gitlab.HeaderToken, string(testSecret[:8])), Want: unauthorized, Says: "does not match"},
		{Name: "no secrets", Fixture: "push.branch", Secrets: [][]byte{}, Want: unauthorized, Says: "does not match"},
		{Name: "empty secret", Fixture: "push.branch", Secrets: [][]byte{{}}, Want: unauthorized, Says: "does not match"},
		{Name: "bad signature beside a right token", Fixture: "push.signing-token", Secrets: [][]byte{testSecret, signingToken},
			Change: set("webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="), Want: unauthorized, Says: "webhook-signature holds no signature"},
		{Name: "signature but no signing token among the secrets", Fixture: "push.signing-token",
			Change: set("webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="), Want: unauthorized, Says: "none of the source's secrets is a signing token"},
		{Name: "empty signature beside a right token", Fixture: "push.signing-token", Secrets: [][]byte{testSecret, signingToken},
			Change: set("webhook-signature", ""), Want: unauthorized, Says: "webhook-signature header is missing"},
		{Name: "a signing token is not a secret token", Fixture: "push.branch", Secrets: [][]byte{signingToken},
			Change: set(gitlab.HeaderToken, string(signingToken)), Want: unauthorized, Says: "does not match"},
		{Name: "delivery id with a slash", Fixture: "push.branch", Change: set(gitlab.HeaderIdempotencyKey, "a/b"), Want: connectors.ErrMalformed, Says: "Idempotency-Key header may hold only"},
		{Name: "event uuid too long", Fixture: "deployment.success", Change: set(gitlab.HeaderEventUUID, strings.Repeat("a", 129)), Want: connectors.ErrMalformed, Says: "X-Gitlab-Event-UUID header is longer than 128"},
		{Name: "event type with a path", Fixture: "push.branch", Change: set(gitlab.HeaderEvent, "../../Push Hook"), Want: connectors.ErrMalformed, Says: "X-Gitlab-Event header may hold only"},
		{Name: "no event type", Fixture: "push.branch", Change: del(gitlab.HeaderEvent), Want: connectors.ErrMalformed, Says: "X-Gitlab-Event header is missing"},
		{Name: "form-encoded", Fixture: "push.branch", Change: set("Content-Type", "application/x-www-form-urlencoded"), Want: connectors.ErrUnsupportedMediaType, Says: "GitLab sends application/json"},
		{Name: "no content type", Fixture: "push.branch", Change: del("Content-Type"), Want: connectors.ErrUnsupportedMediaType, Says: "Content-Type header is missing"},
	})
	required := kit
	required.New = configured(t, map[string]any{"require_signature": true})
	required.Refusals(t, []connectortest.Refusal{
		{Name: "require_signature with a token only", Fixture: "push.branch", Want: unauthorized, Says: "requires signed deliveries (settings.require_signature)"},
	})
}

// configured returns a constructor of connectors with settings.
func configured(t *testing.T, settings map[string]any) func() connectors.Connector {
	t.Helper()
	return func() connectors.Connector {
		c := gitlab.New()
		if err := c.(connectors.Configurable).Configure(settings); err != nil {
			t.Fatalf("Configure(%v): %v", settings, err)
		}
		return c
	}
}

// TestVerifyToken: X-Gitlab-Token against the source's secrets.
func TestVerifyToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		token   string
		secrets []string
		wantErr string // empty: must verify
	}{
		{name: "valid", token: "s3cret", secrets: []string{"s3cret"}},
		{name: "second secret during rotation", token: "new", secrets: []string{"old", "new"}},
		{name: "first secret during rotation", token: "old", secrets: []string{"old", "new"}},
		{name: "beside a signing token", token: "s3cret", secrets: []string{string(signingToken), "s3cret"}},
		{name: "wrong", token: "s3cret", secrets: []string{"other"}, wantErr: "does not match"},
		{name: "longer", token: "s3cret!", secrets: []string{"s3cret"}, wantErr: "does not match"},
		{name: "empty secret never verifies", token: " ", secrets: []string{""}, wantErr: "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			h.Set(gitlab.HeaderToken, tt.token)
			var secrets [][]byte
			for _, s := range tt.secrets {
				secrets = append(secrets, []byte(s))
			}
			err := gitlab.New().Verify(context.Background(), &connectors.Request{Header: h, Body: []byte(`{}`)}, secrets)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Verify = %v, want ErrUnauthorized containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), tt.token) && strings.TrimSpace(tt.token) != "" {
				t.Fatalf("error %q echoes the token", err)
			}
		})
	}
}

// TestEventType: X-Gitlab-Event values and the Event.Type each gives.
func TestEventType(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]string{
		"Push Hook":                  "push",
		"Tag Push Hook":              "tag_push",
		"Merge Request Hook":         "merge_request",
		"Release Hook":               "release",
		"Pipeline Hook":              "pipeline",
		"Job Hook":                   "build",
		"Deployment Hook":            "deployment",
		"System Hook":                "system",
		"Confidential Issue Hook":    "confidential_issue",
		"Wiki Page Hook":             "wiki_page",
		"Resource Access Token Hook": "access_token",
		"Hook":                       "hook",
	} {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(gitlab.HeaderEvent, header)
		res, err := gitlab.New().Parse(&connectors.Request{Header: h, Body: []byte(`{}`)})
		if err != nil {
			t.Errorf("%s: Parse: %v", header, err)
			continue
		}
		if res.Event.Type != want {
			t.Errorf("%s: Type = %q, want %q", header, res.Event.Type, want)
		}
	}
}

// TestDeliveryID: Idempotency-Key first, then X-Gitlab-Event-UUID, then
// the body's hash.
func TestDeliveryID(t *testing.T) {
	t.Parallel()
	body := []byte(`{"object_kind":"push"}`)
	tests := []struct {
		name       string
		set        map[string]string
		wantID     string
		wantIDFrom string
	}{
		{"idempotency key", map[string]string{gitlab.HeaderIdempotencyKey: "key-1", gitlab.HeaderEventUUID: "uuid-1"}, "key-1", ""},
		{"event uuid", map[string]string{gitlab.HeaderEventUUID: "uuid-1"}, "uuid-1", ""},
		{"neither", nil, connectors.ContentHash(body), connectors.IDFromContentHash},
		{"empty idempotency key", map[string]string{gitlab.HeaderIdempotencyKey: "", gitlab.HeaderEventUUID: "uuid-1"}, "uuid-1", ""},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(gitlab.HeaderEvent, "Push Hook")
		for k, v := range tt.set {
			h.Set(k, v)
		}
		res, err := gitlab.New().Parse(&connectors.Request{Header: h, Body: body})
		if err != nil {
			t.Fatalf("%s: Parse: %v", tt.name, err)
		}
		if res.Event.ID != tt.wantID || res.Event.IDFrom != tt.wantIDFrom {
			t.Errorf("%s: ID %q from %q, want %q from %q", tt.name, res.Event.ID, res.Event.IDFrom, tt.wantID, tt.wantIDFrom)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		event   string
		body    string
		wantMsg string
	}{
		{"truncated json", "Push Hook", `{"ref": "refs/heads/main"`, "push payload is not valid JSON"},
		{"ref of another type", "Push Hook", `{"ref": 42}`, "push payload"},
		{"merge request attributes not an object", "Merge Request Hook", `{"object_attributes": []}`, "merge_request payload"},
		{"pipeline id not a number", "Pipeline Hook", `{"object_attributes": {"id": "31"}}`, "pipeline payload"},
		{"deployment status not a string", "Deployment Hook", `{"status": true}`, "deployment payload"},
		{"release not an object", "Release Hook", `"v1.1"`, "release payload"},
		{"system hook not an object", "System Hook", `[1]`, "system payload"},
		{"array for an unknown type", "Emoji Hook", `[1]`, "emoji payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			h.Set("Content-Type", "application/json")
			h.Set(gitlab.HeaderEvent, tt.event)
			_, err := gitlab.New().Parse(&connectors.Request{Header: h, Body: []byte(tt.body)})
			if !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Parse = %v, want ErrMalformed containing %q", err, tt.wantMsg)
			}
		})
	}
}

// TestUnknownTypeAccepted: an event type the connector does not normalize
// is accepted with the fields GitLab's events share, whatever the shape of
// the others.
func TestUnknownTypeAccepted(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(gitlab.HeaderEvent, "Emoji Hook")
	h.Set(gitlab.HeaderIdempotencyKey, "d1")
	body := `{"object_kind":"emoji","user":{"username":"root"},"project":{"path_with_namespace":"flightjs/Flight","web_url":"http://example.com/flightjs/Flight"},"object_attributes":{"action":"award"},"note":7}`
	res, err := gitlab.New().Parse(&connectors.Request{Source: "s", Header: h, Body: []byte(body), ReceivedAt: connectortest.ReceivedAt})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &event.Event{
		ID: "d1", Source: "s", Connector: gitlab.Name, Type: "emoji", Action: "award", Kind: event.KindUnnormalized,
		Repository: &event.Repository{Name: "flightjs/Flight", URL: "http://example.com/flightjs/Flight"},
		Actor:      "root", ReceivedAt: connectortest.ReceivedAt,
	}
	if diff := cmp.Diff(want, res.Event); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Fields of other shapes are ignored, and an action that is not a
	// word is not kept.
	res, err = gitlab.New().Parse(&connectors.Request{Header: h, Body: []byte(`{"project":"x","user":5,"object_attributes":{"action":"<b>award</b>"}}`)})
	if err != nil || res.Event.Repository != nil || res.Event.Actor != "" || res.Event.Action != "" {
		t.Fatalf("Parse with odd fields = %+v, %v", res.Event, err)
	}
}

// TestSystemHook: a System Hook relaying something other than a push or a
// merge request is unnormalized, its event_name the action.
func TestSystemHook(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(gitlab.HeaderEvent, "System Hook")
	body := `{"event_name":"project_create","created_at":"2012-07-21T07:30:54Z","name":"StoreCloud","path_with_namespace":"jsmith/storecloud","project_id":74}`
	res, err := gitlab.New().Parse(&connectors.Request{Header: h, Body: []byte(body)})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if ev := res.Event; ev.Type != "system" || ev.Kind != event.KindUnnormalized || ev.Action != "project_create" {
		t.Errorf("system hook: Type %q Kind %q Action %q, want system, unnormalized, project_create", ev.Type, ev.Kind, ev.Action)
	}
}

// TestFixtureHeaders: recorded headers never hold a credential.
func TestFixtureHeaders(t *testing.T) {
	t.Parallel()
	for _, f := range kit.Fixtures(t) {
		for _, name := range []string{gitlab.HeaderToken, "Webhook-Signature", "Authorization"} {
			if _, ok := f.Header[http.CanonicalHeaderKey(name)]; ok {
				t.Errorf("%s records %s", f.Name, name)
			}
		}
	}
	if _, err := fixtures.Get(gitlab.Name, "push.signing-token"); err != nil {
		t.Fatal(err)
	}
}
