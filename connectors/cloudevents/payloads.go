package cloudevents

// cdEvent is the part of a CDEvent Reflex reads: its context and subject.
// Content holds the fields of every subject normalized; each subject's
// schema uses a few of them.
type cdEvent struct {
	Context struct {
		ID        string `json:"id"`
		Source    string `json:"source"`
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
	} `json:"context"`
	Subject struct {
		ID      string    `json:"id"`
		Source  string    `json:"source"`
		Content cdContent `json:"content"`
	} `json:"subject"`
}

// cdContent is the union of the subject content fields normalized.
type cdContent struct {
	// Repository: change.*, branch.*.
	Repository *cdRef `json:"repository"`
	// PipelineName: pipelinerun.*.
	PipelineName string `json:"pipelineName"`
	// TaskName and PipelineRun: taskrun.*.
	TaskName    string `json:"taskName"`
	PipelineRun *cdRef `json:"pipelineRun"`
	// URI: pipelinerun.*, taskrun.*, environment.*, repository.* (CDEvents
	// 0.5); URL is its name in CDEvents 0.4.
	URI string `json:"uri"`
	URL string `json:"url"`
	// Outcome: pipelinerun.finished, taskrun.finished.
	Outcome string `json:"outcome"`
	// ArtifactID: build.finished, service.*.
	ArtifactID string `json:"artifactId"`
	// Environment: service.*.
	Environment *cdRef `json:"environment"`
	// User: artifact.published.
	User string `json:"user"`
	// Name, Owner and ViewURL: repository.*, environment.* (Name).
	Name    string `json:"name"`
	Owner   string `json:"owner"`
	ViewURL string `json:"viewUrl"`
}

// cdRef is a reference to another subject.
type cdRef struct {
	ID     string `json:"id"`
	Source string `json:"source"`
}

// uri returns the content's URI under either of its names.
func (c *cdContent) uri() string {
	if c.URI != "" {
		return c.URI
	}
	return c.URL
}
