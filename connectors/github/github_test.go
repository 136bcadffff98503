package github_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/github"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

var (
	testSecret = []byte("It's a Secret to Everybody")
	receivedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// kit is the connector under test with its fixtures.
var kit = connectortest.Kit{Name: github.Name, New: github.New, Source: "acme-github", Secret: testSecret}

// request builds a signed request from a fixture.
func request(t testing.TB, f fixtures.Fixture) *connectors.Request {
	t.Helper()
	return kit.Request(t, f)
}

func loadFixtures(t testing.TB) []fixtures.Fixture {
	t.Helper()
	return kit.Fixtures(t)
}

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves: each fixture family must
// normalize to the kind its name promises, so a wrong golden written by
// UPDATE_GOLDEN cannot pass unnoticed.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"ping":                             "",
		"check_suite.completed":            event.KindBuildFinished,
		"create.branch":                    event.KindBranchCreated,
		"create.tag":                       event.KindTagCreated,
		"delete.branch":                    event.KindBranchDeleted,
		"deployment_status.created":        event.KindDeploymentFinished,
		"issues.opened":                    event.KindUnnormalized,
		"package.published":                event.KindArtifactPublished,
		"pull_request.closed":              event.KindChangeAbandoned,
		"pull_request.closed-merged":       event.KindChangeMerged,
		"pull_request.opened":              event.KindChangeCreated,
		"pull_request.synchronize":         event.KindChangeUpdated,
		"push.branch":                      event.KindCodePushed,
		"push.branch-deleted":              event.KindBranchDeleted,
		"push.tag":                         event.KindTagCreated,
		"registry_package.published":       event.KindArtifactPublished,
		"release.published":                event.KindReleasePublished,
		"workflow_job.completed":           event.KindTaskFinished,
		"workflow_job.queued":              event.KindTaskQueued,
		"workflow_run.completed":           event.KindBuildFinished,
		"workflow_run.completed-failure":   event.KindBuildFinished,
		"workflow_run.completed-cancelled": event.KindBuildFinished,
		"workflow_run.requested":           event.KindBuildQueued,
	})
}

func TestVerify(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(github.Name, "push.branch")
	if err != nil {
		t.Fatal(err)
	}
	sign := func(secret string) string {
		h := http.Header{}
		github.New().(connectors.Signer).Sign(h, f.Body, []byte(secret))
		return h.Get(github.HeaderSignature)
	}
	tests := []struct {
		name    string
		header  map[string]string
		secrets []string
		wantErr string // empty: must verify
	}{
		{name: "valid", header: map[string]string{github.HeaderSignature: sign("s3cret")}, secrets: []string{"s3cret"}},
		{name: "second secret during rotation", header: map[string]string{github.HeaderSignature: sign("new")}, secrets: []string{"old", "new"}},
		{name: "wrong secret", header: map[string]string{github.HeaderSignature: sign("other")}, secrets: []string{"s3cret"}, wantErr: "does not match"},
		{name: "missing", header: nil, secrets: []string{"s3cret"}, wantErr: "X-Hub-Signature-256 header is missing"},
		{name: "sha1 only", header: map[string]string{github.HeaderSignature1: "sha1=0123456789abcdef0123456789abcdef01234567"}, secrets: []string{"s3cret"}, wantErr: "only the SHA-1"},
		{name: "sha1 in the sha256 header", header: map[string]string{github.HeaderSignature: "sha1=0123456789abcdef0123456789abcdef01234567"}, secrets: []string{"s3cret"}, wantErr: `must start with "sha256="`},
		{name: "not hex", header: map[string]string{github.HeaderSignature: "sha256=zz"}, secrets: []string{"s3cret"}, wantErr: "does not match"},
		{name: "empty secret never verifies", header: map[string]string{github.HeaderSignature: sign("")}, secrets: []string{""}, wantErr: "does not match"},
		{name: "no secrets", header: map[string]string{github.HeaderSignature: sign("s3cret")}, secrets: nil, wantErr: "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			var secrets [][]byte
			for _, s := range tt.secrets {
				secrets = append(secrets, []byte(s))
			}
			err := github.New().Verify(context.Background(), &connectors.Request{Header: h, Body: f.Body}, secrets)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Verify = %v, want ErrUnauthorized containing %q", err, tt.wantErr)
			}
			for _, s := range tt.secrets {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Fatalf("error %q echoes the secret", err)
				}
			}
		})
	}
}

// TestVerifyDocumentedVector checks the signature against GitHub's published
// test vector.
func TestVerifyDocumentedVector(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set(github.HeaderSignature, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	req := &connectors.Request{Header: h, Body: []byte("Hello, World!")}
	if err := github.New().Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
		t.Fatalf("Verify of GitHub's documented vector: %v", err)
	}
	req.Body = []byte("Hello, World?")
	if err := github.New().Verify(context.Background(), req, [][]byte{testSecret}); err == nil {
		t.Fatal("Verify accepted a changed body")
	}
}

func TestParseForm(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(github.Name, "push.branch")
	if err != nil {
		t.Fatal(err)
	}
	h := f.Header.Clone()
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	body := []byte(url.Values{"payload": {string(f.Body)}}.Encode())
	res, err := github.New().Parse(&connectors.Request{Source: "acme-github", Header: h, Body: body, ReceivedAt: receivedAt})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	jsonRes, err := github.New().Parse(request(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(jsonRes.Event, res.Event); diff != "" {
		t.Errorf("form-encoded delivery normalizes differently from JSON (-json +form):\n%s", diff)
	}
	if !bytes.Equal(res.Payload, f.Body) {
		t.Error("Payload of a form delivery is not the decoded payload field")
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	base := http.Header{}
	base.Set("Content-Type", "application/json")
	base.Set(github.HeaderEvent, "push")
	base.Set(github.HeaderDelivery, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	tests := []struct {
		name    string
		set     map[string]string
		body    string
		wantErr error
		wantMsg string
	}{
		{name: "no event header", set: map[string]string{github.HeaderEvent: ""}, body: `{}`, wantErr: connectors.ErrMalformed, wantMsg: "X-GitHub-Event header is missing"},
		{name: "no delivery header", set: map[string]string{github.HeaderDelivery: ""}, body: `{}`, wantErr: connectors.ErrMalformed, wantMsg: "X-GitHub-Delivery header is missing"},
		{name: "delivery id with a slash", set: map[string]string{github.HeaderDelivery: "a/b"}, body: `{}`, wantErr: connectors.ErrMalformed, wantMsg: "may hold only"},
		{name: "delivery id too long", set: map[string]string{github.HeaderDelivery: strings.Repeat("a", 129)}, body: `{}`, wantErr: connectors.ErrMalformed, wantMsg: "longer than 128"},
		{name: "event type with a path", set: map[string]string{github.HeaderEvent: "../../x"}, body: `{}`, wantErr: connectors.ErrMalformed, wantMsg: "X-GitHub-Event header may hold only"},
		{name: "event type in capitals", set: map[string]string{github.HeaderEvent: "Push"}, body: `{}`, wantErr: connectors.ErrMalformed, wantMsg: "may hold only"},
		{name: "event type too long", set: map[string]string{github.HeaderEvent: strings.Repeat("a", 60<<10)}, body: `{}`, wantErr: connectors.ErrMalformed, wantMsg: "longer than 64"},
		{name: "xml", set: map[string]string{"Content-Type": "application/xml"}, body: `<a/>`, wantErr: connectors.ErrUnsupportedMediaType, wantMsg: `"application/xml"`},
		{name: "no content type", set: map[string]string{"Content-Type": ""}, body: `{}`, wantErr: connectors.ErrUnsupportedMediaType, wantMsg: "Content-Type header is missing"},
		{name: "truncated json", body: `{"ref": "refs/heads/main"`, wantErr: connectors.ErrMalformed, wantMsg: "push payload is not valid JSON"},
		{name: "wrong shape", body: `{"ref": 42}`, wantErr: connectors.ErrMalformed, wantMsg: "push payload"},
		{name: "json array for unknown type", set: map[string]string{github.HeaderEvent: "star"}, body: `[1]`, wantErr: connectors.ErrMalformed, wantMsg: "star payload"},
		{name: "form without payload", set: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: `x=1`, wantErr: connectors.ErrMalformed, wantMsg: "no payload field"},
		{name: "package without block", set: map[string]string{github.HeaderEvent: "package"}, body: `{"action":"published"}`, wantErr: connectors.ErrMalformed, wantMsg: "no package block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := base.Clone()
			for k, v := range tt.set {
				h.Set(k, v)
			}
			_, err := github.New().Parse(&connectors.Request{Header: h, Body: []byte(tt.body), ReceivedAt: receivedAt})
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Parse = %v, want %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

// TestUnknownTypeAccepted: an event type the connector does not know is
// accepted with its common fields, whatever the shape of its other fields.
func TestUnknownTypeAccepted(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(github.HeaderEvent, "sponsorship")
	h.Set(github.HeaderDelivery, "d1")
	body := `{"action":"created","repository":{"full_name":"acme/widget"},"sender":{"login":"octocat"},"sponsorship":7}`
	res, err := github.New().Parse(&connectors.Request{Source: "s", Header: h, Body: []byte(body), ReceivedAt: receivedAt})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &event.Event{
		ID: "d1", Source: "s", Connector: "github", Type: "sponsorship", Action: "created",
		Kind: event.KindUnnormalized, Repository: &event.Repository{Name: "acme/widget"},
		Actor: "octocat", ReceivedAt: receivedAt,
	}
	if diff := cmp.Diff(want, res.Event); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A repository field of another shape is ignored, not an error.
	res, err = github.New().Parse(&connectors.Request{Header: h, Body: []byte(`{"repository":"x"}`)})
	if err != nil || res.Event.Repository != nil {
		t.Fatalf("Parse with an odd repository field = %+v, %v", res, err)
	}
}
