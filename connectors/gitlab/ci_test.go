package gitlab_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/gitlab"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/fixtures"
)

// parseFixture parses a fixture's payload with change applied to its
// decoded JSON.
func parseFixture(t *testing.T, name string, change func(map[string]any)) *event.Event {
	t.Helper()
	f, err := fixtures.Get(gitlab.Name, name)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(f.Body, &doc); err != nil {
		t.Fatal(err)
	}
	change(doc)
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gitlab.New().Parse(&connectors.Request{Source: kit.Source, Header: f.Header.Clone(), Body: body})
	if err != nil {
		t.Fatalf("%s: Parse: %v", name, err)
	}
	return res.Event
}

// TestDeploymentState: Deployment.State is GitLab's status in the words
// of GitHub's deployment_status, as docs/events.md promises; the action
// keeps GitLab's.
func TestDeploymentState(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status, state string
		kind          event.Kind
	}{
		{"created", "queued", event.KindDeploymentStarted},
		{"running", "in_progress", event.KindDeploymentStarted},
		{"success", "success", event.KindDeploymentFinished},
		{"failed", "failure", event.KindDeploymentFinished},
		{"canceled", "inactive", event.KindDeploymentFinished},
		{"blocked", "blocked", event.KindOther},
	} {
		ev := parseFixture(t, "deployment.success", func(doc map[string]any) { doc["status"] = tt.status })
		if ev.Deployment == nil || ev.Deployment.State != tt.state || ev.Action != tt.status || ev.Kind != tt.kind {
			t.Errorf("status %s: state %+v, action %q, kind %q; want state %q, action %q, kind %q", tt.status, ev.Deployment, ev.Action, ev.Kind, tt.state, tt.status, tt.kind)
		}
	}
}

// TestUnnamedPipelineJobs: the jobs of a pipeline without a workflow:name
// name it as the pipeline event does, so a build's steps are keyed by the
// same name whichever event came first.
func TestUnnamedPipelineJobs(t *testing.T) {
	t.Parallel()
	pipeline := parseFixture(t, "pipeline.success", func(doc map[string]any) {
		delete(doc["object_attributes"].(map[string]any), "name")
	})
	job := parseFixture(t, "job.success", func(doc map[string]any) {
		delete(doc["commit"].(map[string]any), "name")
	})
	if pipeline.Build.Name != "pipeline" {
		t.Errorf("unnamed pipeline: Build.Name = %q, want \"pipeline\"", pipeline.Build.Name)
	}
	if job.Build.Pipeline != pipeline.Build.Name {
		t.Errorf("job of an unnamed pipeline: Build.Pipeline = %q, want the pipeline's name %q", job.Build.Pipeline, pipeline.Build.Name)
	}
	if job.Build.RunID == "" {
		t.Error("job of an unnamed pipeline: the pipeline's id is lost from RunID")
	}
}

// TestTimesNeverRefused: a time GitLab sends in a shape the connector
// cannot read is left out, and the delivery is accepted: GitLab disables
// a hook whose deliveries are refused.
func TestTimesNeverRefused(t *testing.T) {
	t.Parallel()
	for _, v := range []any{1614048113, true, map[string]any{"at": "2021-02-23"}, []any{1}, "yesterday"} {
		job := parseFixture(t, "job.success", func(doc map[string]any) {
			doc["build_started_at"] = v
			doc["build_started_at_iso"] = v
			doc["build_finished_at"] = v
		})
		if job.Build.StartedAt != nil {
			t.Errorf("build_started_at %v: StartedAt = %v, want none", v, job.Build.StartedAt)
		}
		if want := time.Date(2021, 2, 23, 3, 0, 11, 0, time.UTC); job.Build.UpdatedAt == nil || !job.Build.UpdatedAt.Equal(want) {
			t.Errorf("build_finished_at %v: UpdatedAt = %v, want build_finished_at_iso %v", v, job.Build.UpdatedAt, want)
		}
		pipeline := parseFixture(t, "pipeline.success", func(doc map[string]any) {
			doc["object_attributes"].(map[string]any)["finished_at"] = v
		})
		if want := time.Date(2016, 8, 12, 15, 23, 28, 0, time.UTC); pipeline.Build.UpdatedAt == nil || !pipeline.Build.UpdatedAt.Equal(want) {
			t.Errorf("finished_at %v: UpdatedAt = %v, want created_at %v", v, pipeline.Build.UpdatedAt, want)
		}
	}
}
