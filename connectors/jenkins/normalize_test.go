package jenkins

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// TestRepositoryOf: the Git remote forms Jenkins reports, and what is not
// one; user information never survives.
func TestRepositoryOf(t *testing.T) {
	tests := []struct {
		remote string
		want   *event.Repository
	}{
		{"https://github.com/acme/api.git", &event.Repository{Name: "acme/api", URL: "https://github.com/acme/api"}},
		{"https://ci-bot:ghp_0123456789@github.com/acme/api.git/", &event.Repository{Name: "acme/api", URL: "https://github.com/acme/api"}},
		{"http://gitea.local:3000/acme/api", &event.Repository{Name: "acme/api", URL: "http://gitea.local:3000/acme/api"}},
		{"https://gitlab.example.com/group/sub/api.git", &event.Repository{Name: "group/sub/api", URL: "https://gitlab.example.com/group/sub/api"}},
		{"https://bitbucket.acme.example/scm/plat/docs.git", &event.Repository{Name: "plat/docs"}},
		{"git@github.com:acme/ledger.git", &event.Repository{Name: "acme/ledger"}},
		{"github.com:acme/ledger", &event.Repository{Name: "acme/ledger"}},
		{"ssh://git@bitbucket.acme.example:7999/plat/integration.git", &event.Repository{Name: "plat/integration"}},
		{"", nil},
		{"/srv/git/api.git", nil},
		{"file:///srv/git/api.git", nil},
		{"C:\\repos\\api", nil},
		{"https://github.com/", nil},
		{"./api:v1", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, repositoryOf(tt.remote)); diff != "" {
			t.Errorf("repositoryOf(%q) (-want +got):\n%s", tt.remote, diff)
		}
	}
}

// TestBranchOf: the remote's name and ref prefixes are dropped, nothing
// else.
func TestBranchOf(t *testing.T) {
	for in, want := range map[string]string{
		"origin/main":                 "main",
		"origin/release/1.4":          "release/1.4",
		"refs/heads/main":             "main",
		"refs/remotes/origin/develop": "develop",
		"feature/retry":               "feature/retry",
		"upstream/main":               "upstream/main",
		"":                            "",
	} {
		if got := branchOf(in); got != want {
			t.Errorf("branchOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJobName: the full name from the job's url, the short name when the
// url does not agree.
func TestJobName(t *testing.T) {
	tests := []struct {
		url, name, want string
	}{
		{"job/acme/job/api/", "api", "acme/api"},
		{"job/acme/job/ledger/job/feature%252Fretry/", "feature%2Fretry", "acme/ledger/feature%2Fretry"},
		{"job/nightly/", "nightly", "nightly"},
		{"job/acme/job/api/", "", "acme/api"},
		{"job/acme/job/api/", "web", "web"},
		{"view/all/job/api/", "api", "api"},
		{"job/acme/api/", "api", "api"},
		{"", "api", "api"},
		{"job/a%2Fb/", "a%2Fb", "a%2Fb"},
	}
	for _, tt := range tests {
		got, err := jobName(tt.url, tt.name)
		if err != nil || got != tt.want {
			t.Errorf("jobName(%q, %q) = %q, %v; want %q", tt.url, tt.name, got, err, tt.want)
		}
	}
}

// TestOutcomes: each phase and result, and the times each phase gives.
func TestOutcomes(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 0, 0, 123e6, time.UTC)
	tests := []struct {
		phase, status string
		kind          event.Kind
		buildStatus   event.BuildStatus
		outcome       event.Outcome
		action        string
	}{
		{"QUEUED", "", event.KindBuildQueued, event.BuildQueued, "", ""},
		{"STARTED", "FAILURE", event.KindBuildStarted, event.BuildRunning, "", ""},
		{"COMPLETED", "SUCCESS", event.KindOther, event.BuildFinished, event.OutcomeSuccess, "success"},
		{"FINALIZED", "SUCCESS", event.KindBuildFinished, event.BuildFinished, event.OutcomeSuccess, "success"},
		{"FINALIZED", "FAILURE", event.KindBuildFinished, event.BuildFinished, event.OutcomeFailure, "failure"},
		{"FINALIZED", "UNSTABLE", event.KindBuildFinished, event.BuildFinished, event.OutcomeFailure, "unstable"},
		{"FINALIZED", "ABORTED", event.KindBuildFinished, event.BuildFinished, event.OutcomeCancelled, "aborted"},
		{"FINALIZED", "NOT_BUILT", event.KindBuildFinished, event.BuildFinished, event.OutcomeSkipped, "not_built"},
		{"FINALIZED", "CRASHED", event.KindOther, event.BuildFinished, "", "crashed"},
		{"FINALIZED", "", event.KindOther, event.BuildFinished, "", ""},
		{"NONE", "SUCCESS", event.KindUnnormalized, "", "", ""},
	}
	for _, tt := range tests {
		n := &notification{Name: "api", URL: "job/api/", Build: &buildState{
			Number: 4, Phase: tt.phase, Status: tt.status, Duration: 60000,
			Timestamp: jenkinsTime{start.Add(time.Minute)},
		}}
		ev := &event.Event{}
		if err := normalize(n, ev); err != nil {
			t.Fatalf("%s %s: %v", tt.phase, tt.status, err)
		}
		b := ev.Build
		if ev.Kind != tt.kind || b.Status != tt.buildStatus || b.Outcome != tt.outcome || ev.Action != tt.action || ev.Type != tt.phase {
			t.Errorf("%s %s: kind %s, status %s, outcome %s, action %q, type %s", tt.phase, tt.status, ev.Kind, b.Status, b.Outcome, ev.Action, ev.Type)
		}
		if b.ID != "api#4" || b.Name != "api" || b.Number != 4 || !b.UpdatedAt.Equal(start.Add(time.Minute)) {
			t.Errorf("%s: build %+v", tt.phase, b)
		}
		var wantStart *time.Time
		switch tt.phase {
		case "STARTED":
			wantStart = new(start.Add(time.Minute))
		case "COMPLETED":
			wantStart = &start
		}
		if diff := cmp.Diff(wantStart, b.StartedAt); diff != "" {
			t.Errorf("%s: started at (-want +got):\n%s", tt.phase, diff)
		}
	}
}

// TestTimestamp: milliseconds, the old string form, and no time.
func TestTimestamp(t *testing.T) {
	tests := []struct {
		raw  string
		want time.Time
	}{
		{`1767322800123`, time.Date(2026, 1, 2, 3, 0, 0, 123e6, time.UTC)},
		{`"2026-01-02T03:00:00.123+00:00"`, time.Date(2026, 1, 2, 3, 0, 0, 123e6, time.UTC)},
		{`"yesterday"`, time.Time{}},
		{`null`, time.Time{}},
	}
	for _, tt := range tests {
		var b buildState
		if err := connectors.Decode([]byte(`{"timestamp":`+tt.raw+`}`), &b); err != nil {
			t.Fatalf("%s: %v", tt.raw, err)
		}
		if !b.Timestamp.Equal(tt.want) {
			t.Errorf("%s = %v, want %v", tt.raw, b.Timestamp.Time, tt.want)
		}
	}
	var b buildState
	if err := connectors.Decode([]byte(`{"timestamp":1.5}`), &b); err == nil {
		t.Error("a fractional timestamp was read")
	}
}
