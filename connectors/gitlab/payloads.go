package gitlab

import (
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors"
)

// The parts of GitLab's payloads the connector reads, and nothing else:
// decoding only these fields is most of what normalizing costs. Field
// names follow
// https://docs.gitlab.com/user/project/integrations/webhook_events/.

// project is the "project" block every project event carries.
type project struct {
	PathWithNamespace string `json:"path_with_namespace"`
	WebURL            string `json:"web_url"`
	DefaultBranch     string `json:"default_branch"`
}

// user is the "user" block (User#hook_attrs).
type user struct {
	Username string `json:"username"`
}

// pushPayload is a Push Hook or Tag Push Hook.
type pushPayload struct {
	Project      *project `json:"project"`
	Ref          string   `json:"ref"`
	Before       string   `json:"before"`
	After        string   `json:"after"`
	CheckoutSHA  string   `json:"checkout_sha"`
	UserUsername string   `json:"user_username"`
}

type mergeRequestPayload struct {
	Project          *project `json:"project"`
	User             user     `json:"user"`
	ObjectAttributes struct {
		IID            int    `json:"iid"`
		Title          string `json:"title"`
		SourceBranch   string `json:"source_branch"`
		TargetBranch   string `json:"target_branch"`
		State          string `json:"state"`
		Action         string `json:"action"`
		URL            string `json:"url"`
		OldRev         string `json:"oldrev"`
		MergeCommitSHA string `json:"merge_commit_sha"`
		LastCommit     struct {
			ID string `json:"id"`
		} `json:"last_commit"`
	} `json:"object_attributes"`
}

type releasePayload struct {
	Project *project `json:"project"`
	Name    string   `json:"name"`
	Tag     string   `json:"tag"`
	URL     string   `json:"url"`
	Action  string   `json:"action"`
	Commit  struct {
		ID string `json:"id"`
	} `json:"commit"`
}

type pipelinePayload struct {
	Project          *project `json:"project"`
	User             user     `json:"user"`
	ObjectAttributes struct {
		ID         int64      `json:"id"`
		IID        int        `json:"iid"`
		Name       string     `json:"name"`
		Ref        string     `json:"ref"`
		Tag        bool       `json:"tag"`
		SHA        string     `json:"sha"`
		Source     string     `json:"source"`
		Status     string     `json:"status"`
		URL        string     `json:"url"`
		CreatedAt  gitlabTime `json:"created_at"`
		FinishedAt gitlabTime `json:"finished_at"`
	} `json:"object_attributes"`
}

// jobPayload is a Job Hook (object_kind "build"). Its commit.id is the
// pipeline's id, not a SHA; sha is the commit.
type jobPayload struct {
	Project       *project   `json:"project"`
	User          user       `json:"user"`
	Ref           string     `json:"ref"`
	Tag           bool       `json:"tag"`
	SHA           string     `json:"sha"`
	BuildID       int64      `json:"build_id"`
	BuildName     string     `json:"build_name"`
	BuildStatus   string     `json:"build_status"`
	StartedAt     gitlabTime `json:"build_started_at"`
	StartedAtISO  gitlabTime `json:"build_started_at_iso"`
	FinishedAt    gitlabTime `json:"build_finished_at"`
	FinishedAtISO gitlabTime `json:"build_finished_at_iso"`
	RetriesCount  *int       `json:"retries_count"`
	PipelineID    int64      `json:"pipeline_id"`
	// Commit describes the pipeline: its id is the pipeline's, its name
	// the pipeline's name (workflow:name), when it has one.
	Commit struct {
		Name string `json:"name"`
	} `json:"commit"`
}

type deploymentPayload struct {
	Project                *project `json:"project"`
	User                   user     `json:"user"`
	Status                 string   `json:"status"`
	DeploymentID           int64    `json:"deployment_id"`
	DeployableURL          string   `json:"deployable_url"`
	Environment            string   `json:"environment"`
	EnvironmentExternalURL string   `json:"environment_external_url"`
	CommitURL              string   `json:"commit_url"`
	Ref                    string   `json:"ref"`
}

// systemPayload names what a System Hook reports.
type systemPayload struct {
	ObjectKind string `json:"object_kind"`
	EventName  string `json:"event_name"`
}

// gitlabTime reads GitLab's timestamps, which come as
// "2026-01-02 03:04:05 UTC", "2021-04-28 21:50:00 +0200" or RFC 3339 by
// event and version. One it cannot read, a string of another form or a
// value that is no string at all, is left zero, as null is: a time is
// never a reason to refuse a delivery (and GitLab disables a hook whose
// deliveries are refused).
type gitlabTime struct{ time.Time }

// timeLayouts are the forms gitlabTime reads; "UTC" is literal text.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05 UTC", "2006-01-02 15:04:05 -0700"}

// UnmarshalJSON reads a timestamp string; null, a number, an object or
// anything else it cannot read leaves the time zero.
func (t *gitlabTime) UnmarshalJSON(b []byte) error {
	t.Time = time.Time{}
	var s *string
	if err := connectors.Decode(b, &s); err != nil || s == nil {
		return nil // left out, never refused
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, strings.TrimSpace(*s)); err == nil {
			t.Time = v
			return nil
		}
	}
	return nil
}

// ptr returns the time as UTC, or nil when it is zero.
func (t gitlabTime) ptr() *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
