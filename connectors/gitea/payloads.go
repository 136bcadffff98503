package gitea

import (
	"time"

	"github.com/reflexops/reflex/connectors/convert"
)

// The parts of Gitea's payloads the connector reads, and nothing else:
// decoding only these fields is most of what normalizing costs. Field
// names follow Gitea's modules/structs (hook.go, repo_actions.go,
// package.go), which Forgejo shares.

// account is a Gitea user: login, with username as its Gogs-era copy.
type account struct {
	Login    string `json:"login"`
	Username string `json:"username"`
}

// name returns the account's login.
func (a *account) name() string {
	if a == nil {
		return ""
	}
	return convert.First(a.Login, a.Username)
}

type repository struct {
	FullName      string `json:"full_name"`
	HTMLURL       string `json:"html_url"`
	DefaultBranch string `json:"default_branch"`
}

// common are the fields most events share.
type common struct {
	Action     string      `json:"action"`
	Repository *repository `json:"repository"`
	Sender     *account    `json:"sender"`
}

type pushPayload struct {
	Repository *repository `json:"repository"`
	Sender     *account    `json:"sender"`
	Pusher     *account    `json:"pusher"`
	Ref        string      `json:"ref"`
	Before     string      `json:"before"`
	After      string      `json:"after"`
	CompareURL string      `json:"compare_url"`
	HeadCommit *struct {
		ID string `json:"id"`
	} `json:"head_commit"`
}

// refPayload is a create or delete event; sha is sent on create only.
type refPayload struct {
	common
	Ref     string `json:"ref"`
	RefType string `json:"ref_type"`
	SHA     string `json:"sha"`
}

type pullRequestPayload struct {
	common
	Number      int `json:"number"`
	PullRequest struct {
		HTMLURL        string `json:"html_url"`
		Number         int    `json:"number"`
		Title          string `json:"title"`
		Merged         bool   `json:"merged"`
		MergeCommitSHA string `json:"merge_commit_sha"`
		Head           struct {
			Ref string `json:"ref"`
			SHA string `json:"sha"`
		} `json:"head"`
		Base struct {
			Ref string `json:"ref"`
		} `json:"base"`
	} `json:"pull_request"`
}

type releasePayload struct {
	common
	Release struct {
		HTMLURL         string `json:"html_url"`
		TagName         string `json:"tag_name"`
		TargetCommitish string `json:"target_commitish"`
		Name            string `json:"name"`
		Prerelease      bool   `json:"prerelease"`
	} `json:"release"`
}

// statusPayload is a commit status; it has no action.
type statusPayload struct {
	Repository *repository `json:"repository"`
	Sender     *account    `json:"sender"`
	ID         int64       `json:"id"`
	SHA        string      `json:"sha"`
	State      string      `json:"state"`
	Context    string      `json:"context"`
	TargetURL  string      `json:"target_url"`
	CreatedAt  *time.Time  `json:"created_at"`
	UpdatedAt  *time.Time  `json:"updated_at"`
}

type workflowRunPayload struct {
	common
	Workflow struct {
		Name string `json:"name"`
	} `json:"workflow"`
	WorkflowRun struct {
		ID           int64      `json:"id"`
		RunNumber    int        `json:"run_number"`
		RunAttempt   int        `json:"run_attempt"`
		Status       string     `json:"status"`
		Conclusion   string     `json:"conclusion"`
		Event        string     `json:"event"`
		Path         string     `json:"path"`
		HTMLURL      string     `json:"html_url"`
		HeadBranch   string     `json:"head_branch"`
		HeadSHA      string     `json:"head_sha"`
		StartedAt    *time.Time `json:"started_at"`
		UpdatedAt    *time.Time `json:"updated_at"`
		TriggerActor *account   `json:"trigger_actor"`
		Actor        *account   `json:"actor"`
	} `json:"workflow_run"`
}

type workflowJobPayload struct {
	common
	WorkflowJob struct {
		ID         int64      `json:"id"`
		Name       string     `json:"name"`
		RunID      int64      `json:"run_id"`
		RunAttempt int        `json:"run_attempt"`
		Status     string     `json:"status"`
		Conclusion string     `json:"conclusion"`
		HTMLURL    string     `json:"html_url"`
		HeadBranch string     `json:"head_branch"`
		HeadSHA    string     `json:"head_sha"`
		StartedAt  *time.Time `json:"started_at"`
	} `json:"workflow_job"`
}

type packagePayload struct {
	common
	Package *struct {
		Type    string   `json:"type"`
		Name    string   `json:"name"`
		Version string   `json:"version"`
		HTMLURL string   `json:"html_url"`
		Owner   *account `json:"owner"`
	} `json:"package"`
}
