package bitbucket

// The parts of Bitbucket Cloud's payloads the connector reads, and
// nothing else. Field names follow the event payloads and their common
// entities (https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/).

type link struct {
	Href string `json:"href"`
}

type account struct {
	DisplayName string `json:"display_name"`
	Nickname    string `json:"nickname"`
}

type repository struct {
	FullName string `json:"full_name"`
	Links    struct {
		HTML link `json:"html"`
	} `json:"links"`
}

// common are the fields every event shares.
type common struct {
	Actor      account     `json:"actor"`
	Repository *repository `json:"repository"`
}

type commit struct {
	Hash string `json:"hash"`
}

// refState is one side of a pushed ref change: null when the ref was
// created (old) or deleted (new).
type refState struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Target commit `json:"target"`
}

// refChange is one of a push's ref changes.
type refChange struct {
	Old   *refState `json:"old"`
	New   *refState `json:"new"`
	Links struct {
		HTML link `json:"html"`
	} `json:"links"`
}

type pushPayload struct {
	common
	Push struct {
		Changes []refChange `json:"changes"`
	} `json:"push"`
}

// endpoint is the source or destination of a pull request.
type endpoint struct {
	Branch struct {
		Name string `json:"name"`
	} `json:"branch"`
	Commit commit `json:"commit"`
}

type pullRequestPayload struct {
	common
	PullRequest struct {
		ID          int      `json:"id"`
		Title       string   `json:"title"`
		State       string   `json:"state"`
		Source      endpoint `json:"source"`
		Destination endpoint `json:"destination"`
		MergeCommit *commit  `json:"merge_commit"`
		Links       struct {
			HTML link `json:"html"`
		} `json:"links"`
	} `json:"pullrequest"`
}

type commitStatusPayload struct {
	common
	CommitStatus struct {
		Key       string  `json:"key"`
		Name      string  `json:"name"`
		State     string  `json:"state"`
		URL       string  `json:"url"`
		Refname   string  `json:"refname"`
		CreatedOn string  `json:"created_on"`
		UpdatedOn string  `json:"updated_on"`
		Commit    *commit `json:"commit"`
		Links     struct {
			Commit link `json:"commit"`
		} `json:"links"`
	} `json:"commit_status"`
}
