package awsevents_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/awsevents"
	"github.com/reflexops/reflex/event"
)

// normalize decodes and normalizes an event.
func normalize(t *testing.T, doc string) *event.Event {
	t.Helper()
	e, err := awsevents.Decode([]byte(doc))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	ev := &event.Event{}
	if err := e.Normalize(ev); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	return ev
}

// build returns a CodeBuild Build State Change with the given status and
// additional-information fields.
func build(status, info string) string {
	return `{"version":"0","id":"e1","detail-type":"CodeBuild Build State Change","source":"aws.codebuild","account":"123456789012","time":"2026-01-02T03:04:05Z","region":"eu-west-1",
		"resources":["arn:aws:codebuild:eu-west-1:123456789012:build/p:u1"],
		"detail":{"build-status":"` + status + `","project-name":"p","build-id":"arn:aws:codebuild:eu-west-1:123456789012:build/p:u1","additional-information":{` + info + `}}}`
}

// TestBuildStatuses: every build-status and what it means.
func TestBuildStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status  string
		kind    event.Kind
		bstatus event.BuildStatus
		outcome event.Outcome
		action  string
	}{
		{"IN_PROGRESS", event.KindBuildStarted, event.BuildRunning, "", "in_progress"},
		{"SUCCEEDED", event.KindBuildFinished, event.BuildFinished, event.OutcomeSuccess, "succeeded"},
		{"FAILED", event.KindBuildFinished, event.BuildFinished, event.OutcomeFailure, "failed"},
		{"FAULT", event.KindBuildFinished, event.BuildFinished, event.OutcomeFailure, "fault"},
		{"STOPPED", event.KindBuildFinished, event.BuildFinished, event.OutcomeCancelled, "stopped"},
		{"TIMED_OUT", event.KindBuildFinished, event.BuildFinished, event.OutcomeTimedOut, "timed_out"},
		{"QUEUED", event.KindOther, "", "", "queued"},
		{"succeeded", event.KindOther, "", "", ""},
		{"", event.KindOther, "", "", ""},
	}
	for _, tt := range tests {
		ev := normalize(t, build(tt.status, ""))
		b := ev.Build
		if ev.Kind != tt.kind || b.Status != tt.bstatus || b.Outcome != tt.outcome || ev.Action != tt.action {
			t.Errorf("%q: kind %q, status %q, outcome %q, action %q; want %q, %q, %q, %q", tt.status, ev.Kind, b.Status, b.Outcome, ev.Action, tt.kind, tt.bstatus, tt.outcome, tt.action)
		}
		if b.ID != "arn:aws:codebuild:eu-west-1:123456789012:build/p:u1" || b.Name != "p" || b.UpdatedAt == nil || !b.UpdatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Errorf("%q: build %+v", tt.status, b)
		}
	}
}

// TestSourceVersions: what a build built, from source-version.
func TestSourceVersions(t *testing.T) {
	t.Parallel()
	const sha = "9fceb02d0ae598e95dc970b74767f19372d61af8"
	tests := []struct {
		version             string
		commit, branch, tag string
	}{
		{sha, sha, "", ""},
		{strings.ToUpper(sha), "", "", ""},
		{sha[:12], "", "", ""},
		{"refs/heads/main", "", "main", ""},
		{"refs/heads/feature/x", "", "feature/x", ""},
		{"refs/tags/v1.2.3", "", "", "v1.2.3"},
		{"refs/heads/main^{" + sha + "}", sha, "main", ""},
		{"refs/tags/v1^{" + sha + "}", sha, "", "v1"},
		{"refs/heads/main^{abc}", "", "main", ""},
		{"main", "", "", ""},
		{"pr/12", "", "", ""},
		{"refs/heads/", "", "", ""},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		ev := normalize(t, build("SUCCEEDED", `"source-version":"`+tt.version+`"`))
		if ev.Commit != tt.commit || ev.Branch != tt.branch || ev.Tag != tt.tag || ev.Ref != "" {
			t.Errorf("%q: commit %q, branch %q, tag %q, ref %q", tt.version, ev.Commit, ev.Branch, ev.Tag, ev.Ref)
		}
	}
}

// TestSourceRepositories: the repository of a source location, when it
// is a Git host's.
func TestSourceRepositories(t *testing.T) {
	t.Parallel()
	tests := []struct {
		location, typ string
		want          *event.Repository
	}{
		{"https://github.com/acme/api.git", "GITHUB", &event.Repository{Name: "acme/api", URL: "https://github.com/acme/api"}},
		{"https://github.com/acme/api", "GITHUB", &event.Repository{Name: "acme/api", URL: "https://github.com/acme/api"}},
		{"https://token@github.com/acme/api.git", "GITHUB", &event.Repository{Name: "acme/api", URL: "https://github.com/acme/api"}},
		{"https://ghe.example.com/acme/api.git", "GITHUB_ENTERPRISE", &event.Repository{Name: "acme/api", URL: "https://ghe.example.com/acme/api"}},
		{"https://jdoe@bitbucket.org/acme/web.git", "BITBUCKET", &event.Repository{Name: "acme/web", URL: "https://bitbucket.org/acme/web"}},
		{"https://gitlab.com/acme/group/api.git", "GITLAB", &event.Repository{Name: "acme/group/api", URL: "https://gitlab.com/acme/group/api"}},
		{"https://git-codecommit.us-east-2.amazonaws.com/v1/repos/acme-api", "CODECOMMIT", &event.Repository{Name: "acme-api", URL: "https://console.aws.amazon.com/codesuite/codecommit/repositories/acme-api/browse?region=us-east-2"}},
		{"https://git-codecommit.us-east-2.amazonaws.com/v1/repos/a/b", "CODECOMMIT", nil},
		{"https://git.example.com/acme/api.git", "GITHUB", nil},
		{"https://github.com/acme", "GITHUB", nil},
		{"https://github.com/acme/api/tree/main", "GITHUB", nil},
		{"https://github.com/acme/../api", "GITHUB", nil},
		{"http://github.com/acme/api.git", "GITHUB", nil},
		{"https://github.com/acme/api.git?x=1", "GITHUB", nil},
		{"codebuild-123456789012-input-bucket/source.zip", "S3", nil},
		{"", "NO_SOURCE", nil},
	}
	for _, tt := range tests {
		ev := normalize(t, build("SUCCEEDED", `"source":{"location":"`+tt.location+`","type":"`+tt.typ+`"}`))
		if diff := cmp.Diff(tt.want, ev.Repository); diff != "" {
			t.Errorf("%q: (-want +got)\n%s", tt.location, diff)
		}
	}
}

// TestBuildDetails: the number, start time, log link and initiator, and
// what is left out when they are not of their expected shape.
func TestBuildDetails(t *testing.T) {
	t.Parallel()
	ev := normalize(t, build("SUCCEEDED", `"build-number":7,"build-start-time":"Sep 1, 2017 4:12:29 PM","initiator":"jdoe",
		"logs":{"deep-link":"https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=g;stream=s"}`))
	start := time.Date(2017, 9, 1, 16, 12, 29, 0, time.UTC)
	b := ev.Build
	if b.Number != 7 || b.StartedAt == nil || !b.StartedAt.Equal(start) || ev.Actor != "jdoe" ||
		b.URL != "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=g;stream=s" || ev.URL != b.URL {
		t.Errorf("build %+v, actor %q, url %q", b, ev.Actor, ev.URL)
	}
	ev = normalize(t, build("SUCCEEDED", `"build-number":7.5,"build-start-time":"2017-09-01T16:12:29Z","logs":{"deep-link":"javascript:alert(1)"}`))
	if ev.Build.Number != 0 || ev.Build.StartedAt != nil || ev.Build.URL != "" {
		t.Errorf("build %+v", ev.Build)
	}
	// The build ARN from resources when the detail has none.
	ev = normalize(t, `{"id":"e1","detail-type":"CodeBuild Build State Change","resources":["arn:aws:codebuild:eu-west-1:123456789012:build/p:u2"],"detail":{"build-status":"FAILED"}}`)
	if ev.Build.ID != "arn:aws:codebuild:eu-west-1:123456789012:build/p:u2" {
		t.Errorf("build id %q", ev.Build.ID)
	}
}

// image returns an ECR event.
func image(detailType, account, region, detail string) string {
	return `{"version":"0","id":"e1","detail-type":"` + detailType + `","source":"aws.ecr","account":"` + account + `","time":"2026-01-02T03:04:05Z","region":"` + region + `","resources":[],"detail":` + detail + `}`
}

// TestImages: ECR's image actions and scans.
func TestImages(t *testing.T) {
	t.Parallel()
	const digest = "sha256:4c8d4f3f0b2e6a1d9e7c5b3a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e"
	const repo = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/api"
	tests := []struct {
		name, doc string
		kind      event.Kind
		action    string
		artifact  *event.Artifact
	}{
		{"push", image("ECR Image Action", "123456789012", "eu-west-1", `{"result":"SUCCESS","repository-name":"acme/api","image-digest":"`+digest+`","action-type":"PUSH","image-tag":"v1"}`),
			event.KindArtifactPublished, "pushed", &event.Artifact{Type: "container", Repository: repo, Tag: "v1", Digest: digest, Reference: repo + "@" + digest}},
		{"untagged push", image("ECR Image Action", "123456789012", "eu-west-1", `{"result":"SUCCESS","repository-name":"acme/api","image-digest":"`+digest+`","action-type":"PUSH"}`),
			event.KindArtifactPublished, "pushed", &event.Artifact{Type: "container", Repository: repo, Digest: digest, Reference: repo + "@" + digest}},
		{"push without a digest", image("ECR Image Action", "123456789012", "eu-west-1", `{"result":"SUCCESS","repository-name":"acme/api","action-type":"PUSH","image-tag":"v1"}`),
			event.KindArtifactPublished, "pushed", &event.Artifact{Type: "container", Repository: repo, Tag: "v1", DigestMissing: true, Reference: repo + ":v1"}},
		{"push in China", image("ECR Image Action", "123456789012", "cn-north-1", `{"result":"SUCCESS","repository-name":"api","image-digest":"`+digest+`","action-type":"PUSH","image-tag":"v1"}`),
			event.KindArtifactPublished, "pushed", &event.Artifact{Type: "container", Repository: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api", Tag: "v1", Digest: digest, Reference: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api@" + digest}},
		{"failed push", image("ECR Image Action", "123456789012", "eu-west-1", `{"result":"FAILURE","repository-name":"acme/api","action-type":"PUSH","image-tag":"v1"}`),
			event.KindOther, "push-failed", &event.Artifact{Type: "container", Repository: repo, Tag: "v1", DigestMissing: true, Reference: repo + ":v1"}},
		{"delete", image("ECR Image Action", "123456789012", "eu-west-1", `{"result":"SUCCESS","repository-name":"acme/api","image-digest":"`+digest+`","action-type":"DELETE","image-tag":"v1"}`),
			event.KindOther, "deleted", &event.Artifact{Type: "container", Repository: repo, Tag: "v1", Digest: digest, Reference: repo + "@" + digest}},
		{"failed delete", image("ECR Image Action", "123456789012", "eu-west-1", `{"result":"FAILURE","repository-name":"acme/api","image-digest":"`+digest+`","action-type":"DELETE"}`),
			event.KindOther, "delete-failed", &event.Artifact{Type: "container", Repository: repo, Digest: digest, Reference: repo + "@" + digest}},
		{"scan", image("ECR Image Scan", "123456789012", "eu-west-1", `{"scan-status":"COMPLETE","repository-name":"acme/api","image-digest":"`+digest+`","image-tags":["v1","latest"],"finding-severity-counts":{"HIGH":1}}`),
			event.KindOther, "scanned", &event.Artifact{Type: "container", Repository: repo, Tag: "v1", Digest: digest, Reference: repo + "@" + digest}},
		{"failed scan", image("ECR Image Scan", "123456789012", "eu-west-1", `{"scan-status":"FAILED","repository-name":"acme/api","image-digest":"`+digest+`","image-tags":[]}`),
			event.KindOther, "scan-failed", &event.Artifact{Type: "container", Repository: repo, Digest: digest, Reference: repo + "@" + digest}},
		{"account of another shape", image("ECR Image Action", ":123456789012", "eu-west-1", `{"result":"SUCCESS","repository-name":"acme/api","image-digest":"`+digest+`","action-type":"PUSH","image-tag":"v1"}`),
			event.KindArtifactPublished, "pushed", &event.Artifact{Type: "container", Repository: "acme/api", Tag: "v1", Digest: digest, Reference: "acme/api@" + digest}},
		{"values of other shapes", image("ECR Image Action", "123456789012", "eu-west-1", `{"result":"SUCCESS","repository-name":"Acme/API","image-digest":"sha256:7f5b","action-type":"PUSH","image-tag":"-x"}`),
			event.KindArtifactPublished, "pushed", &event.Artifact{Type: "container", DigestMissing: true}},
	}
	for _, tt := range tests {
		ev := normalize(t, tt.doc)
		if ev.Kind != tt.kind || ev.Action != tt.action || !strings.HasPrefix(ev.Type, "ECR Image ") {
			t.Errorf("%s: kind %q, action %q, type %q", tt.name, ev.Kind, ev.Action, ev.Type)
		}
		if diff := cmp.Diff(tt.artifact, ev.Artifact); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
		if ev.Repository != nil || ev.Build != nil {
			t.Errorf("%s: an image event with a repository or a build", tt.name)
		}
	}
}

// TestDecode: what is an event, what is refused, and the detail-types
// that are not normalized.
func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		notEvent  bool   // Decode fails with ErrNotEvent
		wantErr   string // Decode or Normalize fails with ErrMalformed saying this
		kind      event.Kind
	}{
		{name: "unknown detail-type, any detail", doc: `{"id":"e1","detail-type":"Scheduled Event","detail":{"result":[1],"build-status":{}}}`, kind: event.KindUnnormalized},
		{name: "phase change", doc: `{"id":"e1","detail-type":"CodeBuild Build Phase Change","detail":{"completed-phase":"BUILD"}}`, kind: event.KindUnnormalized},
		{name: "known type, detail of another shape", doc: `{"id":"e1","detail-type":"CodeBuild Build State Change","detail":{"build-status":1}}`, wantErr: "the CodeBuild Build State Change event does not have the documented shape"},
		{name: "known type, detail not an object", doc: `{"id":"e1","detail-type":"ECR Image Scan","detail":[]}`, wantErr: "does not have the documented shape"},
		{name: "known type, build number a string", doc: `{"id":"e1","detail-type":"CodeBuild Build State Change","detail":{"additional-information":{"build-number":"7"}}}`, wantErr: "does not have the documented shape"},
		{name: "detail-type of another shape", doc: `{"id":"e1","detail-type":["ECR Image Action"]}`, notEvent: true},
		{name: "not an object", doc: `"ECR Image Action"`, notEvent: true},
		{name: "not JSON", doc: `{"id":"e1",`, notEvent: true},
		{name: "detail-type with a tab", doc: `{"id":"e1","detail-type":"A\tB"}`, wantErr: "detail-type may hold only"},
		{name: "detail-type starting with a space", doc: `{"id":"e1","detail-type":" A"}`, wantErr: "detail-type may hold only"},
		{name: "detail-type too long", doc: `{"id":"e1","detail-type":"` + strings.Repeat("a", 129) + `"}`, wantErr: "longer than 128"},
	}
	for _, tt := range tests {
		e, err := awsevents.Decode([]byte(tt.doc))
		if err == nil {
			err = e.Normalize(&event.Event{})
		}
		switch {
		case tt.notEvent:
			if !errors.Is(err, awsevents.ErrNotEvent) || !errors.Is(err, connectors.ErrMalformed) {
				t.Errorf("%s: %v, want ErrNotEvent", tt.name, err)
			}
		case tt.wantErr != "":
			if !errors.Is(err, connectors.ErrMalformed) || errors.Is(err, awsevents.ErrNotEvent) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: %v, want ErrMalformed saying %q", tt.name, err, tt.wantErr)
			}
		default:
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			ev := &event.Event{}
			_ = e.Normalize(ev)
			if ev.Kind != tt.kind || ev.Type == "" {
				t.Errorf("%s: kind %q type %q", tt.name, ev.Kind, ev.Type)
			}
		}
	}
	if e, err := awsevents.Decode([]byte(`{"detail-type":"Scheduled Event"}`)); err != nil || e.IsEvent() {
		t.Errorf("an event without an id: %v, IsEvent %v", err, e != nil && e.IsEvent())
	}
}
