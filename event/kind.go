package event

import "slices"

// Kind is the normalized meaning of an event, the same for every provider.
// Its values follow the CDEvents vocabulary (subject.predicate) where one
// fits.
type Kind string

// The normalized kinds.
const (
	// KindCodePushed: commits were pushed to a branch.
	KindCodePushed Kind = "code.pushed"
	// KindBranchCreated: a branch was created.
	KindBranchCreated Kind = "branch.created"
	// KindBranchDeleted: a branch was deleted.
	KindBranchDeleted Kind = "branch.deleted"
	// KindTagCreated: a tag was created.
	KindTagCreated Kind = "tag.created"
	// KindTagDeleted: a tag was deleted.
	KindTagDeleted Kind = "tag.deleted"
	// KindChangeCreated: a change request was opened.
	KindChangeCreated Kind = "change.created"
	// KindChangeUpdated: new commits arrived on an open change request.
	KindChangeUpdated Kind = "change.updated"
	// KindChangeMerged: a change request was merged.
	KindChangeMerged Kind = "change.merged"
	// KindChangeAbandoned: a change request was closed without merging.
	KindChangeAbandoned Kind = "change.abandoned"
	// KindReleasePublished: a release was published.
	KindReleasePublished Kind = "release.published"
	// KindBuildQueued: a build or pipeline run was queued.
	KindBuildQueued Kind = "build.queued"
	// KindBuildStarted: a build or pipeline run started.
	KindBuildStarted Kind = "build.started"
	// KindBuildFinished: a build or pipeline run finished, see Build.Outcome.
	KindBuildFinished Kind = "build.finished"
	// KindTaskQueued: one job of a run was queued.
	KindTaskQueued Kind = "task.queued"
	// KindTaskStarted: one job of a run started.
	KindTaskStarted Kind = "task.started"
	// KindTaskFinished: one job of a run finished, see Build.Outcome.
	KindTaskFinished Kind = "task.finished"
	// KindArtifactPublished: an artifact such as an image was published.
	KindArtifactPublished Kind = "artifact.published"
	// KindDeploymentStarted: a deployment was created or is in progress.
	KindDeploymentStarted Kind = "deployment.started"
	// KindDeploymentFinished: a deployment reached a final state.
	KindDeploymentFinished Kind = "deployment.finished"
	// KindOther: an event type the connector knows, with an action that has
	// no normalized meaning (a pull request labelled, say). Its fields are
	// still filled in.
	KindOther Kind = "other"
	// KindUnnormalized: an event type the connector does not normalize.
	// It is accepted, stored and visible with its common fields only.
	KindUnnormalized Kind = "unnormalized"
)

// cdeventsTypes maps kinds to the CDEvents 0.5 event type that means the
// same thing. Kinds without a faithful CDEvents counterpart are absent.
var cdeventsTypes = map[Kind]string{
	KindBranchCreated:     "dev.cdevents.branch.created.0.3.0",
	KindBranchDeleted:     "dev.cdevents.branch.deleted.0.3.0",
	KindChangeCreated:     "dev.cdevents.change.created.0.4.0",
	KindChangeMerged:      "dev.cdevents.change.merged.0.3.0",
	KindBuildQueued:       "dev.cdevents.pipelinerun.queued.0.3.0",
	KindBuildStarted:      "dev.cdevents.pipelinerun.started.0.3.0",
	KindBuildFinished:     "dev.cdevents.pipelinerun.finished.0.3.0",
	KindTaskStarted:       "dev.cdevents.taskrun.started.0.3.0",
	KindTaskFinished:      "dev.cdevents.taskrun.finished.0.3.0",
	KindArtifactPublished: "dev.cdevents.artifact.published.0.3.0",
}

// CDEventsType returns the CDEvents type name that matches the kind, or ""
// when none does. A finished deployment maps to service.deployed only when
// it succeeded, so the event is needed, not just its kind.
func (e *Event) CDEventsType() string {
	if e.Kind == KindDeploymentFinished {
		if e.Deployment != nil && e.Deployment.State == "success" {
			return "dev.cdevents.service.deployed.0.3.0"
		}
		return ""
	}
	return cdeventsTypes[e.Kind]
}

// kinds lists every kind.
var kinds = []Kind{
	KindCodePushed, KindBranchCreated, KindBranchDeleted, KindTagCreated, KindTagDeleted,
	KindChangeCreated, KindChangeUpdated, KindChangeMerged, KindChangeAbandoned, KindReleasePublished,
	KindBuildQueued, KindBuildStarted, KindBuildFinished, KindTaskQueued, KindTaskStarted, KindTaskFinished,
	KindArtifactPublished, KindDeploymentStarted, KindDeploymentFinished, KindOther, KindUnnormalized,
}

// Kinds returns every kind, in the order of the documentation.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// KnownKind reports whether k is one of the kinds.
func KnownKind(k Kind) bool { return slices.Contains(kinds, k) }
