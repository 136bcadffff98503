package github

import "time"

// The parts of GitHub's payloads the connector reads, and nothing else:
// decoding only these fields (the others are skipped, not built) is most
// of what normalizing costs. Field names follow GitHub's webhook payloads
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads).

type account struct {
	Login string `json:"login"`
	Name  string `json:"name"`
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
	Sender     account     `json:"sender"`
}

type pushPayload struct {
	Repository *repository `json:"repository"`
	Sender     account     `json:"sender"`
	Pusher     account     `json:"pusher"`
	Ref        string      `json:"ref"`
	Before     string      `json:"before"`
	After      string      `json:"after"`
	Compare    string      `json:"compare"`
	Created    bool        `json:"created"`
	Deleted    bool        `json:"deleted"`
	HeadCommit *struct {
		ID string `json:"id"`
	} `json:"head_commit"`
}

type refPayload struct {
	common
	Ref     string `json:"ref"`
	RefType string `json:"ref_type"`
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

type workflowRunPayload struct {
	common
	WorkflowRun struct {
		ID              int64      `json:"id"`
		Name            string     `json:"name"`
		RunNumber       int        `json:"run_number"`
		RunAttempt      int        `json:"run_attempt"`
		Status          string     `json:"status"`
		Conclusion      string     `json:"conclusion"`
		Event           string     `json:"event"`
		HTMLURL         string     `json:"html_url"`
		HeadBranch      string     `json:"head_branch"`
		HeadSHA         string     `json:"head_sha"`
		RunStartedAt    *time.Time `json:"run_started_at"`
		UpdatedAt       *time.Time `json:"updated_at"`
		TriggeringActor account    `json:"triggering_actor"`
		Actor           account    `json:"actor"`
	} `json:"workflow_run"`
	Workflow struct {
		Name string `json:"name"`
	} `json:"workflow"`
}

type workflowJobPayload struct {
	common
	WorkflowJob struct {
		ID           int64      `json:"id"`
		Name         string     `json:"name"`
		WorkflowName string     `json:"workflow_name"`
		RunID        int64      `json:"run_id"`
		RunAttempt   int        `json:"run_attempt"`
		Status       string     `json:"status"`
		Conclusion   string     `json:"conclusion"`
		HTMLURL      string     `json:"html_url"`
		HeadBranch   string     `json:"head_branch"`
		HeadSHA      string     `json:"head_sha"`
		StartedAt    *time.Time `json:"started_at"`
	} `json:"workflow_job"`
}

type checkSuitePayload struct {
	common
	CheckSuite struct {
		ID         int64      `json:"id"`
		HeadBranch string     `json:"head_branch"`
		HeadSHA    string     `json:"head_sha"`
		Before     string     `json:"before"`
		Status     string     `json:"status"`
		Conclusion string     `json:"conclusion"`
		UpdatedAt  *time.Time `json:"updated_at"`
		App        struct {
			Slug string `json:"slug"`
			Name string `json:"name"`
		} `json:"app"`
	} `json:"check_suite"`
}

type deploymentStatusPayload struct {
	common
	Deployment struct {
		ID          int64  `json:"id"`
		SHA         string `json:"sha"`
		Ref         string `json:"ref"`
		Environment string `json:"environment"`
	} `json:"deployment"`
	DeploymentStatus struct {
		State          string `json:"state"`
		LogURL         string `json:"log_url"`
		TargetURL      string `json:"target_url"`
		Environment    string `json:"environment"`
		EnvironmentURL string `json:"environment_url"`
	} `json:"deployment_status"`
}
