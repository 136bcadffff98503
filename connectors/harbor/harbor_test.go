package harbor_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/harbor"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// testSecret is the webhook policy's Auth Header value, scheme word and
// all: Harbor sends it as it is.
var testSecret = []byte("Bearer hb-7f3a9c1e5b2d4f6081a2")

// kit is the connector under test with its fixtures.
var kit = connectortest.Kit{Name: harbor.Name, New: harbor.New, Source: "acme-harbor", Secret: testSecret}

// TestGolden verifies and normalizes every fixture and compares the result
// field by field with its golden file. UPDATE_GOLDEN=1 rewrites the goldens.
func TestGolden(t *testing.T) { kit.Golden(t) }

// TestGoldenKinds guards the goldens themselves.
func TestGoldenKinds(t *testing.T) {
	kit.Kinds(t, map[string]event.Kind{
		"PUSH_ARTIFACT":           event.KindArtifactPublished,
		"PUSH_ARTIFACT.by-digest": event.KindArtifactPublished,
		"DELETE_ARTIFACT":         event.KindOther,
		"SCANNING_COMPLETED":      event.KindOther,
		"REPLICATION":             event.KindOther,
		"harbor.artifact.pushed":  event.KindArtifactPublished,
	})
}

// TestRefusals: what Verify (or Parse) must refuse, each with a message
// that says what is wrong and never echoes the secret.
func TestRefusals(t *testing.T) {
	setAuth := func(v ...string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Header["Authorization"] = v }
	}
	setBody := func(body string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Body = []byte(body) }
	}
	setType := func(ct string) func(*connectors.Request) {
		return func(r *connectors.Request) { r.Header.Set("Content-Type", ct) }
	}
	kit.Refusals(t, []connectortest.Refusal{
		{Name: "missing Authorization", Fixture: "PUSH_ARTIFACT", Change: func(r *connectors.Request) { r.Header.Del("Authorization") }, Want: connectors.ErrUnauthorized, Says: "Authorization header is missing"},
		{Name: "empty Authorization", Fixture: "PUSH_ARTIFACT", Change: setAuth(""), Want: connectors.ErrUnauthorized, Says: "set the webhook policy's Auth Header"},
		{Name: "wrong value", Fixture: "PUSH_ARTIFACT", Change: setAuth("Bearer guess"), Want: connectors.ErrUnauthorized, Says: "does not match the source's secret"},
		{Name: "token without the scheme word", Fixture: "PUSH_ARTIFACT", Change: setAuth(strings.TrimPrefix(string(testSecret), "Bearer ")), Want: connectors.ErrUnauthorized, Says: "whole Auth Header value"},
		{Name: "scheme word in another case", Fixture: "PUSH_ARTIFACT", Change: setAuth("bearer " + strings.TrimPrefix(string(testSecret), "Bearer ")), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "two Authorization headers", Fixture: "PUSH_ARTIFACT", Change: setAuth(string(testSecret), "Bearer other"), Want: connectors.ErrUnauthorized, Says: "2 Authorization headers"},
		{Name: "empty secret", Fixture: "PUSH_ARTIFACT", Secrets: [][]byte{{}}, Change: setAuth(" "), Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "no secrets", Fixture: "PUSH_ARTIFACT", Secrets: [][]byte{}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "rotated out", Fixture: "PUSH_ARTIFACT", Secrets: [][]byte{[]byte("Bearer new")}, Want: connectors.ErrUnauthorized, Says: "does not match"},
		{Name: "XML", Fixture: "PUSH_ARTIFACT", Change: setType("application/xml"), Want: connectors.ErrUnsupportedMediaType, Says: "Harbor sends application/json"},
		{Name: "CloudEvents batch", Fixture: "harbor.artifact.pushed", Change: setType("application/cloudevents-batch+json"), Want: connectors.ErrUnsupportedMediaType, Says: "cloudevents connector"},
		{Name: "not JSON", Fixture: "PUSH_ARTIFACT", Change: setBody(`type=PUSH_ARTIFACT`), Want: connectors.ErrMalformed, Says: "not a Harbor notification"},
		{Name: "no type", Fixture: "PUSH_ARTIFACT", Change: setBody(`{"occur_at":1,"event_data":{}}`), Want: connectors.ErrMalformed, Says: "type is missing"},
		{Name: "push without resources", Fixture: "PUSH_ARTIFACT", Change: setBody(`{"type":"PUSH_ARTIFACT","event_data":{"repository":{"repo_full_name":"acme/api"}}}`), Want: connectors.ErrMalformed, Says: "names no resource"},
		{Name: "push without repository", Fixture: "PUSH_ARTIFACT", Change: setBody(`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"tag":"v1"}]}}`), Want: connectors.ErrMalformed, Says: "repository (repo_full_name) is missing"},
		{Name: "repository with a space", Fixture: "PUSH_ARTIFACT", Change: setBody(`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"tag":"v1"}],"repository":{"repo_full_name":"acme/a pi"}}}`), Want: connectors.ErrMalformed, Says: "may hold only"},
		{Name: "bad tag", Fixture: "PUSH_ARTIFACT", Change: setBody(`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"tag":"-v1"}],"repository":{"repo_full_name":"acme/api"}}}`), Want: connectors.ErrMalformed, Says: "not an image tag"},
		{Name: "CloudEvent without id", Fixture: "harbor.artifact.pushed", Change: setBody(`{"specversion":"1.0","type":"harbor.artifact.pushed","data":{}}`), Want: connectors.ErrMalformed, Says: "CloudEvent's id is missing"},
		{Name: "CloudEvent of another version", Fixture: "harbor.artifact.pushed", Change: setBody(`{"specversion":"0.3","id":"a","type":"harbor.artifact.pushed","data":{}}`), Want: connectors.ErrMalformed, Says: "not 1.0"},
		{Name: "CloudEvents media type without a CloudEvent", Fixture: "harbor.artifact.pushed", Change: setBody(`{"type":"PUSH_ARTIFACT","event_data":{}}`), Want: connectors.ErrMalformed, Says: "specversion"},
	})
}

// TestWholeValue: the secret is the whole header value, whatever its
// shape; rotation tries every secret.
func TestWholeValue(t *testing.T) {
	t.Parallel()
	f, err := fixtures.Get(harbor.Name, "PUSH_ARTIFACT")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		header  string
		secrets []string
		ok      bool
	}{
		{"bare token", "s3cret-token", []string{"s3cret-token"}, true},
		{"basic credentials", "Basic cmVmbGV4OnMzY3JldA==", []string{"Basic cmVmbGV4OnMzY3JldA=="}, true},
		{"second secret while rotating", "Bearer new", []string{"Bearer old", "Bearer new"}, true},
		{"bearer for a bare secret", "Bearer s3cret-token", []string{"s3cret-token"}, false},
		{"bare for a bearer secret", "s3cret-token", []string{"Bearer s3cret-token"}, false},
		{"trailing space", "s3cret-token ", []string{"s3cret-token"}, false},
		{"prefix of the secret", "s3cret", []string{"s3cret-token"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := f.Header.Clone()
			h.Set("Authorization", tt.header)
			var secrets [][]byte
			for _, s := range tt.secrets {
				secrets = append(secrets, []byte(s))
			}
			err := harbor.New().Verify(context.Background(), &connectors.Request{Header: h, Body: f.Body}, secrets)
			if (err == nil) != tt.ok {
				t.Fatalf("Verify = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, connectors.ErrUnauthorized) {
				t.Fatalf("Verify = %v, want ErrUnauthorized", err)
			}
		})
	}
}

// parse parses body as a Default-format delivery.
func parse(t *testing.T, body string) *connectors.Result {
	t.Helper()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	res, err := harbor.New().Parse(&connectors.Request{Source: "s", Header: h, Body: []byte(body)})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res
}

// TestArtifacts: how each resource becomes an artifact.
func TestArtifacts(t *testing.T) {
	t.Parallel()
	const digest = "sha256:3f1a9c4e8b2d7f6a5e0c9b8a7d6e5f4c3b2a1908f7e6d5c4b3a29180f7e6d5c4"
	tests := []struct {
		name     string
		resource string
		want     event.Artifact
	}{
		{"tag and digest", `{"digest":"` + digest + `","tag":"v1","resource_url":"Harbor.Example.com/acme/api:v1"}`,
			event.Artifact{Type: "container", Repository: "harbor.example.com/acme/api", Tag: "v1", Digest: digest, Reference: "harbor.example.com/acme/api:v1"}},
		{"digest as the tag", `{"digest":"` + digest + `","tag":"` + digest + `","resource_url":"harbor.example.com/acme/api@` + digest + `"}`,
			event.Artifact{Type: "container", Repository: "harbor.example.com/acme/api", Digest: digest, Reference: "harbor.example.com/acme/api@" + digest}},
		{"no digest", `{"tag":"v1","resource_url":"harbor.example.com/acme/api:v1"}`,
			event.Artifact{Type: "container", Repository: "harbor.example.com/acme/api", Tag: "v1", DigestMissing: true, Reference: "harbor.example.com/acme/api:v1"}},
		{"digest not a digest", `{"digest":"sha256:12345","tag":"v1","resource_url":"harbor.example.com/acme/api:v1"}`,
			event.Artifact{Type: "container", Repository: "harbor.example.com/acme/api", Tag: "v1", DigestMissing: true, Reference: "harbor.example.com/acme/api:v1"}},
		{"no resource_url", `{"digest":"` + digest + `","tag":"v1"}`,
			event.Artifact{Type: "container", Repository: "acme/api", Tag: "v1", Digest: digest, Reference: "acme/api:v1"}},
		{"resource_url of another repository", `{"digest":"` + digest + `","tag":"v1","resource_url":"harbor.example.com/other/api:v1"}`,
			event.Artifact{Type: "container", Repository: "acme/api", Tag: "v1", Digest: digest, Reference: "acme/api:v1"}},
		{"resource_url with a path-like host", `{"tag":"v1","resource_url":"harbor example/acme/api:v1"}`,
			event.Artifact{Type: "container", Repository: "acme/api", Tag: "v1", DigestMissing: true, Reference: "acme/api:v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := parse(t, `{"type":"PUSH_ARTIFACT","operator":"ci","event_data":{"resources":[`+tt.resource+`],"repository":{"repo_full_name":"acme/api"}}}`)
			if diff := cmp.Diff(&tt.want, res.Event.Artifact); diff != "" {
				t.Errorf("artifact (-want +got):\n%s", diff)
			}
			if res.Event.Tag != tt.want.Tag {
				t.Errorf("event tag = %q, want %q", res.Event.Tag, tt.want.Tag)
			}
		})
	}
}

// TestBatch: a notification of several resources is a batch of one event
// per resource, the host of one resource serving all.
func TestBatch(t *testing.T) {
	t.Parallel()
	body := `{"type":"DELETE_ARTIFACT","operator":"alice","event_data":{"resources":[` +
		`{"tag":"v1"},{"tag":"v2","resource_url":"harbor.example.com/acme/api:v2"}],"repository":{"namespace":"acme","name":"api"}}}`
	res := parse(t, body)
	if res.Event != nil || len(res.Batch) != 2 {
		t.Fatalf("got event %v and a batch of %d, want a batch of 2", res.Event, len(res.Batch))
	}
	id := connectors.ContentHash([]byte(body))
	for i, r := range res.Batch {
		ev := r.Event
		wantTag := []string{"v1", "v2"}[i]
		if ev.ID != id+"."+string(rune('1'+i)) || ev.IDFrom != connectors.IDFromContentHash {
			t.Errorf("event %d: id %q from %q", i, ev.ID, ev.IDFrom)
		}
		if ev.Kind != event.KindOther || ev.Action != "deleted" || ev.Actor != "alice" {
			t.Errorf("event %d: kind %s action %s actor %s", i, ev.Kind, ev.Action, ev.Actor)
		}
		if ev.Artifact.Repository != "harbor.example.com/acme/api" || ev.Artifact.Tag != wantTag {
			t.Errorf("event %d: artifact %+v", i, ev.Artifact)
		}
		if !r.Checked || string(r.Payload) != body {
			t.Errorf("event %d: payload not the checked body", i)
		}
	}
}

// TestUnnormalized: a type the connector does not know is kept with its
// common fields.
func TestUnnormalized(t *testing.T) {
	t.Parallel()
	res := parse(t, `{"type":"UPLOAD_CHART","operator":"admin","event_data":{"resources":[{"tag":"0.1.0"}]}}`)
	if res.Event.Kind != event.KindUnnormalized || res.Event.Type != "UPLOAD_CHART" || res.Event.Artifact != nil {
		t.Fatalf("got %+v, want an unnormalized UPLOAD_CHART", res.Event)
	}
}

// TestSimulator: Delivery writes the type (and a CloudEvent's id) into
// the payload, and EventType reads it back.
func TestSimulator(t *testing.T) {
	t.Parallel()
	sim := harbor.New().(connectors.Simulator)
	for _, name := range []string{"PUSH_ARTIFACT", "harbor.artifact.pushed"} {
		f, err := fixtures.Get(harbor.Name, name)
		if err != nil {
			t.Fatal(err)
		}
		h, body := sim.Delivery("DELETE_ARTIFACT", "0f2c9e4a-1111-4222-8333-444455556666", f.Body)
		if got := sim.EventType(h, body); got != "DELETE_ARTIFACT" {
			t.Errorf("%s: EventType = %q", name, got)
		}
		sim.Sign(h, body, testSecret)
		req := &connectors.Request{Header: h, Body: body}
		if err := harbor.New().Verify(context.Background(), req, [][]byte{testSecret}); err != nil {
			t.Fatalf("%s: Verify: %v", name, err)
		}
		res, err := harbor.New().Parse(req)
		if err != nil {
			t.Fatalf("%s: Parse: %v", name, err)
		}
		want := connectors.ContentHash(body)
		if name == "harbor.artifact.pushed" {
			want = "0f2c9e4a-1111-4222-8333-444455556666"
		}
		if res.Event.ID != want || res.Event.Action != "deleted" {
			t.Errorf("%s: id %q action %q, want id %q, deleted", name, res.Event.ID, res.Event.Action, want)
		}
	}
}
