package cloudevents

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

func TestArtifactOf(t *testing.T) {
	const digest = "sha256:244fd47e07d1004f0aed9c156aa09083c82bf8944eceb67c946ff7430510a77b"
	tests := []struct {
		id   string
		want *event.Artifact
	}{
		{"pkg:oci/debian@sha256%3A244fd47e07d1004f0aed9c156aa09083c82bf8944eceb67c946ff7430510a77b?repository_url=docker.io/library/debian&arch=amd64&tag=latest",
			&event.Artifact{Type: "container", Repository: "docker.io/library/debian", Tag: "latest", Digest: digest, Reference: "docker.io/library/debian@" + digest}},
		{"pkg:oci/hello-wasm@sha256%3A244fd47e07d1004f0aed9c156aa09083c82bf8944eceb67c946ff7430510a77b?tag=v1",
			&event.Artifact{Type: "container", Repository: "hello-wasm", Tag: "v1", Digest: digest, Reference: "hello-wasm@" + digest}},
		{"pkg:oci/static@sha256%3a244fd47e07d1004f0aed9c156aa09083c82bf8944eceb67c946ff7430510a77b?repository_url=https%3A%2F%2Fgcr.io%2Fdistroless%2Fstatic",
			&event.Artifact{Type: "container", Repository: "gcr.io/distroless/static", Digest: digest, Reference: "gcr.io/distroless/static@" + digest}},
		{"PKG:OCI/myapp?tag=v2",
			&event.Artifact{Type: "container", Repository: "myapp", Tag: "v2", Reference: "myapp:v2"}},
		{"pkg:docker/customer/dockerimage@sha256%3A244fd47e07d1004f0aed9c156aa09083c82bf8944eceb67c946ff7430510a77b?repository_url=gcr.io",
			&event.Artifact{Type: "container", Repository: "gcr.io/customer/dockerimage", Digest: digest, Reference: "gcr.io/customer/dockerimage@" + digest}},
		{"pkg:docker/smartentry/debian@dc437cc87d10",
			&event.Artifact{Type: "container", Repository: "smartentry/debian", Tag: "dc437cc87d10", Reference: "smartentry/debian:dc437cc87d10"}},
		{"pkg:golang/mygit.com/myorg/myapp@234fd47e07d1004f0aed9c",
			&event.Artifact{Type: "golang", Repository: "mygit.com/myorg/myapp", Version: "234fd47e07d1004f0aed9c", Reference: "pkg:golang/mygit.com/myorg/myapp@234fd47e07d1004f0aed9c"}},
		{"pkg:npm/%40angular/animation@12.3.1",
			&event.Artifact{Type: "npm", Repository: "@angular/animation", Version: "12.3.1", Reference: "pkg:npm/%40angular/animation@12.3.1"}},
		{"ghcr.io/acme/widget:v1", &event.Artifact{Repository: "ghcr.io/acme/widget:v1"}},
		{"pkg:oci/bad%zz@x", &event.Artifact{Repository: "pkg:oci/bad%zz@x"}},
		{"pkg:oci", &event.Artifact{Repository: "pkg:oci"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, artifactOf(tt.id)); diff != "" {
			t.Errorf("artifactOf(%q) (-want +got):\n%s", tt.id, diff)
		}
	}
}

func TestSplitCDEventsType(t *testing.T) {
	tests := []struct {
		typ, subject, predicate string
		ok                      bool
	}{
		{"dev.cdevents.pipelinerun.finished.0.3.0", "pipelinerun", "finished", true},
		{"dev.cdevents.change.created.0.5.0-draft", "change", "created", true},
		{"dev.cdevents.pipelinerun.finished", "", "", false},
		{"dev.cdeventsx.mytool-resource.created.0.1.0", "", "", false},
		{"com.github.pull_request.opened", "", "", false},
	}
	for _, tt := range tests {
		s, p, ok := splitCDEventsType(tt.typ)
		if ok != tt.ok || ok && (s != tt.subject || p != tt.predicate) {
			t.Errorf("splitCDEventsType(%q) = %q, %q, %v", tt.typ, s, p, ok)
		}
	}
}

// TestNormalizeKinds covers every subject and predicate mapped, whatever
// the version of the type.
func TestNormalizeKinds(t *testing.T) {
	tests := []struct {
		typ  string
		want event.Kind
	}{
		{"dev.cdevents.change.created.0.4.0", event.KindChangeCreated},
		{"dev.cdevents.change.updated.0.3.0", event.KindChangeUpdated},
		{"dev.cdevents.change.merged.0.2.0", event.KindChangeMerged},
		{"dev.cdevents.change.abandoned.0.3.0", event.KindChangeAbandoned},
		{"dev.cdevents.change.reviewed.0.3.0", event.KindOther},
		{"dev.cdevents.branch.created.0.3.0", event.KindBranchCreated},
		{"dev.cdevents.branch.deleted.0.3.0", event.KindBranchDeleted},
		{"dev.cdevents.pipelinerun.queued.0.3.0", event.KindBuildQueued},
		{"dev.cdevents.pipelinerun.started.0.3.0", event.KindBuildStarted},
		{"dev.cdevents.pipelinerun.finished.9.9.9", event.KindBuildFinished},
		{"dev.cdevents.taskrun.queued.0.1.0", event.KindTaskQueued},
		{"dev.cdevents.taskrun.started.0.3.0", event.KindTaskStarted},
		{"dev.cdevents.taskrun.finished.0.3.0", event.KindTaskFinished},
		{"dev.cdevents.build.queued.0.3.0", event.KindBuildQueued},
		{"dev.cdevents.build.started.0.3.0", event.KindBuildStarted},
		{"dev.cdevents.build.finished.0.3.0", event.KindBuildFinished},
		{"dev.cdevents.artifact.published.0.3.0", event.KindArtifactPublished},
		{"dev.cdevents.artifact.packaged.0.3.0", event.KindOther},
		{"dev.cdevents.service.deployed.0.3.0", event.KindDeploymentFinished},
		{"dev.cdevents.service.upgraded.0.3.0", event.KindDeploymentFinished},
		{"dev.cdevents.service.rolledback.0.3.0", event.KindDeploymentFinished},
		{"dev.cdevents.service.removed.0.3.0", event.KindOther},
		{"dev.cdevents.environment.created.0.3.0", event.KindOther},
		{"dev.cdevents.repository.modified.0.3.0", event.KindOther},
		{"dev.cdevents.testsuiterun.finished.0.3.0", event.KindUnnormalized},
		{"dev.cdeventsx.acme-widget.built.0.1.0", event.KindUnnormalized},
		{"com.example.someevent", event.KindUnnormalized},
	}
	for _, tt := range tests {
		ev := &event.Event{Kind: event.KindUnnormalized}
		a := &attributes{id: "e-1", source: "/ci", typ: tt.typ}
		data := `{"context":{"id":"e-1","source":"/ci","type":"` + tt.typ + `"},"subject":{"id":"x","content":{}}}`
		if err := normalize(a, []byte(data), ev); err != nil {
			t.Errorf("%s: %v", tt.typ, err)
			continue
		}
		if ev.Kind != tt.want {
			t.Errorf("%s: kind %q, want %q", tt.typ, ev.Kind, tt.want)
		}
	}
}

func TestOutcome(t *testing.T) {
	for in, want := range map[string]event.Outcome{
		"success": event.OutcomeSuccess, "failure": event.OutcomeFailure, "error": event.OutcomeFailure,
		"cancel": event.OutcomeCancelled, "": "", "exploded": "",
	} {
		if got := outcome(in); got != want {
			t.Errorf("outcome(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChangeNumber(t *testing.T) {
	for in, want := range map[string]int{"42": 42, "acme/widget/pulls/1347": 1347, "gerrit!123": 123, "mySubject123": 0, "pulls/-4": 0, "pulls/+4": 0, "": 0} {
		if got := changeNumber(in); got != want {
			t.Errorf("changeNumber(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestDecodeHeader(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "Euro%20%E2%82%AC%20%F0%9F%98%80", want: "Euro € 😀"},
		{in: "lower%e2%82%ac", want: "lower€"},
		{in: "plus+stays", want: "plus+stays"},
		{in: `"quoted \"value\" here"`, want: `quoted "value" here`},
		{in: `"quoted%20then%20decoded"`, want: "quoted then decoded"},
		{in: "%41%42", want: "AB"},
		{in: `"stray " quote"`, bad: true},
		{in: "%C0%A0", bad: true},
		{in: "%ED%A0%80", bad: true},
		{in: "%FF", bad: true},
		{in: "50%", bad: true},
		{in: "%00", bad: true},
		{in: "%C2%85", bad: true},
	}
	for _, tt := range tests {
		got, err := decodeHeader(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("decodeHeader(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("decodeHeader(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestEncodeHeaderRoundTrip(t *testing.T) {
	for _, s := range []string{"Euro € 😀", `say "hi" 100%`, "/plain/source", "tab\there"} {
		enc := encodeHeader(s)
		if enc == s && s != "/plain/source" {
			t.Errorf("encodeHeader(%q) encoded nothing", s)
		}
		got, err := decodeHeader(enc)
		if s == "tab\there" {
			if err == nil {
				t.Errorf("a control character decoded: %q", got)
			}
			continue
		}
		if err != nil || got != s {
			t.Errorf("decodeHeader(encodeHeader(%q)) = %q, %v", s, got, err)
		}
	}
	if got := encodeHeader("Euro € 😀"); got != "Euro%20%E2%82%AC%20%F0%9F%98%80" {
		t.Errorf("encodeHeader = %q, want the binding's example", got)
	}
}

// TestContextMustMatch: the attributes of a CDEvent must be its signed
// context's, so that a header nobody signed cannot change its id or type.
func TestContextMustMatch(t *testing.T) {
	const typ = "dev.cdevents.pipelinerun.finished.0.3.0"
	data := []byte(`{"context":{"id":"e-1","source":"/ci","type":"` + typ + `"},"subject":{"id":"x","content":{}}}`)
	for _, a := range []attributes{
		{id: "e-2", source: "/ci", typ: typ},
		{id: "e-1", source: "/other", typ: typ},
		{id: "e-1", source: "/ci", typ: "dev.cdevents.pipelinerun.started.0.3.0"},
	} {
		err := normalize(&a, data, &event.Event{})
		if !errors.Is(err, connectors.ErrMalformed) || !strings.Contains(err.Error(), "must be the same") {
			t.Errorf("attributes %+v: %v, want ErrMalformed", a, err)
		}
	}
}
