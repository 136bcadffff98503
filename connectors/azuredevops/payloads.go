package azuredevops

import "github.com/reflexops/reflex/connectors/convert"

// The parts of Azure DevOps' notifications the connector reads, and
// nothing else. Field names follow the service hook payloads
// (https://learn.microsoft.com/azure/devops/service-hooks/events).
//
// The body is decoded once, before its event type is known, so resource
// holds the fields of every event type the connector normalizes: their
// names do not clash in type across those events. A body whose resource
// does not fit is decoded again without it (see Parse), so an event type
// the connector does not normalize is accepted whatever its resource
// holds.

// envelope is what every notification carries around its resource.
type envelope struct {
	ID             string         `json:"id"`
	EventType      string         `json:"eventType"`
	SubscriptionID string         `json:"subscriptionId"`
	NotificationID notificationID `json:"notificationId"`
}

// notification is a whole delivery.
type notification struct {
	envelope
	Message struct {
		Text string `json:"text"`
	} `json:"message"`
	Resource *resource `json:"resource"`
}

// resource is the resource of the events the connector normalizes: a
// push, a pull request, a build, a pipeline run or stage, a release
// deployment.
type resource struct {
	// git.push
	RefUpdates []refUpdate `json:"refUpdates"`
	PushedBy   *identity   `json:"pushedBy"`

	// git.push, pull requests and build.complete
	Repository *repository `json:"repository"`

	// pull requests
	PullRequestID         int        `json:"pullRequestId"`
	Title                 string     `json:"title"`
	SourceRefName         string     `json:"sourceRefName"`
	TargetRefName         string     `json:"targetRefName"`
	LastMergeSourceCommit *commitRef `json:"lastMergeSourceCommit"`
	LastMergeCommit       *commitRef `json:"lastMergeCommit"`
	CreatedBy             *identity  `json:"createdBy"`
	ClosedBy              *identity  `json:"closedBy"`

	// pull requests and build.complete
	Status string `json:"status"`
	Links  links  `json:"_links"`

	// build.complete
	ID              int64  `json:"id"`
	BuildNumber     string `json:"buildNumber"`
	Result          string `json:"result"`
	Reason          string `json:"reason"`
	StartTime       string `json:"startTime"`
	FinishTime      string `json:"finishTime"`
	LastChangedDate string `json:"lastChangedDate"`
	SourceBranch    string `json:"sourceBranch"`
	SourceVersion   string `json:"sourceVersion"`
	Definition      named  `json:"definition"`
	Project         named  `json:"project"`

	// build.complete and pipeline events
	RequestedFor *identity `json:"requestedFor"`

	// pipeline run and stage events
	Run          *pipelineRun `json:"run"`
	Pipeline     named        `json:"pipeline"`
	Stage        *stage       `json:"stage"`
	Repositories []struct {
		Alias string `json:"alias"`
		URL   string `json:"url"`
	} `json:"repositories"`

	// release deployment events
	Environment *struct {
		Name    string     `json:"name"`
		Status  string     `json:"status"`
		Release releaseRef `json:"release"`
	} `json:"environment"`
	Deployment *struct {
		ID                 int64      `json:"id"`
		DeploymentStatus   string     `json:"deploymentStatus"`
		Release            releaseRef `json:"release"`
		ReleaseEnvironment named      `json:"releaseEnvironment"`
		RequestedFor       *identity  `json:"requestedFor"`
	} `json:"deployment"`
}

// refUpdate is one ref a push updated.
type refUpdate struct {
	Name        string `json:"name"`
	OldObjectID string `json:"oldObjectId"`
	NewObjectID string `json:"newObjectId"`
}

// identity is an IdentityRef: who pushed, created, requested.
type identity struct {
	DisplayName string `json:"displayName"`
	UniqueName  string `json:"uniqueName"`
}

// name returns the identity's unique name (an e-mail address for most
// users), or its display name.
func (i *identity) name() string {
	if i == nil {
		return ""
	}
	return convert.First(i.UniqueName, i.DisplayName)
}

// named is anything referred to by name: a definition, a project, a
// pipeline.
type named struct {
	Name string `json:"name"`
}

// links holds the web link of a resource's _links.
type links struct {
	Web struct {
		Href string `json:"href"`
	} `json:"web"`
}

// repository is a Git repository as pushes and pull requests carry it, or
// a build's repository (type, name, url).
type repository struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	URL           string `json:"url"`
	RemoteURL     string `json:"remoteUrl"`
	WebURL        string `json:"webUrl"`
	DefaultBranch string `json:"defaultBranch"`
	Project       named  `json:"project"`
}

type commitRef struct {
	CommitID string `json:"commitId"`
}

// id returns the commit id, "" when there is no commit.
func (c *commitRef) id() string {
	if c == nil {
		return ""
	}
	return c.CommitID
}

type pipelineRun struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	State        string `json:"state"`
	Result       string `json:"result"`
	CreatedDate  string `json:"createdDate"`
	FinishedDate string `json:"finishedDate"`
	Pipeline     named  `json:"pipeline"`
	Links        links  `json:"_links"`
	Resources    struct {
		Repositories struct {
			Self *struct {
				Repository struct {
					FullName string `json:"fullName"`
				} `json:"repository"`
				RefName string `json:"refName"`
				Version string `json:"version"`
			} `json:"self"`
		} `json:"repositories"`
	} `json:"resources"`
}

type stage struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	State       string `json:"state"`
	Result      string `json:"result"`
	StartTime   string `json:"startTime"`
	FinishTime  string `json:"finishTime"`
	Links       links  `json:"_links"`
}

// releaseRef is a classic release as a deployment names it.
type releaseRef struct {
	Links links `json:"_links"`
}
