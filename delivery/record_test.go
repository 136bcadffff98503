package delivery

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/state"
)

// full is a record with every field set.
func full() *Record {
	code := 3
	return &Record{
		Name: "d-1", Service: "web", Zone: "production", Trigger: "deploy-main", Action: "deploy",
		Params: map[string]string{"version": "1.2.3"}, Release: "1.2.3", Status: StatusFailed,
		Event: &RecordEvent{ID: "e1", Source: "acme", Kind: "artifact.published", Repository: "acme/web", Commit: "c0ffee",
			Image: "ghcr.io/acme/web:1.2.3", Digest: "sha256:00", RequestID: "req-7f3a"},
		Agent: "agent-1", Reason: "exit 3", Output: "boom",
		Attempts: []Attempt{{Attempt: 1, Run: "r1", Agent: "agent-1", Status: attemptFailed, StartedAt: "2026-03-01T12:00:00Z",
			FinishedAt: "2026-03-01T12:00:05Z", ExitCode: &code, Output: "boom", Error: "exit 3"}},
		QueuedAt: "2026-03-01T11:59:59Z", StartedAt: "2026-03-01T12:00:00Z", FinishedAt: "2026-03-01T12:00:05Z",
	}
}

// TestRecordMatchesTheSchema: a record with every field set is a valid
// deployment object, and every field of the record is a property the
// schema names, so the two cannot drift apart.
func TestRecordMatchesTheSchema(t *testing.T) {
	content, err := full().content(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := state.Validate(state.TypeDeploy, content); err != nil {
		t.Fatalf("a full record is not a valid deployment: %v", err)
	}
	raw, err := os.ReadFile("../state/schemas/deployment.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	for _, name := range recordFields() {
		if _, ok := schema.Properties[name]; !ok {
			t.Errorf("record field %q is not in the deployment schema", name)
		}
	}
	for _, bad := range []Status{"", "done"} {
		r := full()
		r.Status = bad
		c, _ := r.content(nil)
		if err := state.Validate(state.TypeDeploy, c); err == nil {
			t.Errorf("status %q passed the schema", bad)
		}
	}
}

// TestRecordContent: reading and writing a record keeps the fields it
// does not know, and removes the ones it empties.
func TestRecordContent(t *testing.T) {
	base, err := full().content(nil)
	if err != nil {
		t.Fatal(err)
	}
	base["github"] = map[string]any{"repository": "acme/web", "deployment_id": float64(7)}
	r, err := recordOf(&state.Object{Name: "d-1", Content: base})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(full(), r); diff != "" {
		t.Fatalf("read back (-want +got):\n%s", diff)
	}
	r.Output, r.Reason = "", ""
	got, err := r.content(base)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["github"]; !ok {
		t.Error("the provider's reference was dropped")
	}
	for _, k := range []string{"output", "reason"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s emptied, but still in the content", k)
		}
	}
	if _, ok := base["output"]; !ok {
		t.Error("content changed its base")
	}
}
