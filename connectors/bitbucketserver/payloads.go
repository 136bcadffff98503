package bitbucketserver

// The parts of Bitbucket Server's payloads the connector reads, and
// nothing else. Field names follow the event payloads and their common
// entities (https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html).

type link struct {
	Href string `json:"href"`
}

type user struct {
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	DisplayName string `json:"displayName"`
}

type repository struct {
	Slug    string `json:"slug"`
	Project struct {
		Key string `json:"key"`
	} `json:"project"`
	Links struct {
		Self []link `json:"self"`
	} `json:"links"`
}

// ref is a branch or tag as a push change or a pull request names it.
type ref struct {
	ID           string      `json:"id"`
	DisplayID    string      `json:"displayId"`
	Type         string      `json:"type"`
	LatestCommit string      `json:"latestCommit"`
	Repository   *repository `json:"repository"`
}

// refChange is one of a push's ref changes.
type refChange struct {
	Ref      ref    `json:"ref"`
	RefID    string `json:"refId"`
	FromHash string `json:"fromHash"`
	ToHash   string `json:"toHash"`
	Type     string `json:"type"`
}

type refsChangedPayload struct {
	Actor      user        `json:"actor"`
	Repository *repository `json:"repository"`
	Changes    []refChange `json:"changes"`
}

type pullRequestPayload struct {
	Actor            user   `json:"actor"`
	PreviousFromHash string `json:"previousFromHash"`
	PullRequest      struct {
		ID         int    `json:"id"`
		Title      string `json:"title"`
		State      string `json:"state"`
		FromRef    ref    `json:"fromRef"`
		ToRef      ref    `json:"toRef"`
		Properties struct {
			MergeCommit *struct {
				ID string `json:"id"`
			} `json:"mergeCommit"`
		} `json:"properties"`
		Links struct {
			Self []link `json:"self"`
		} `json:"links"`
	} `json:"pullRequest"`
}
