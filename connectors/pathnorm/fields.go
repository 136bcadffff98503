package pathnorm

import (
	"strconv"
	"strings"
	"time"

	"github.com/reflexops/reflex/connectors/convert"

	"github.com/reflexops/reflex/event"
)

// fieldID names a field of the event model a path can fill.
type fieldID int

// The fields, in the order of Fields.
const (
	fKind fieldID = iota
	fAction
	fRepository
	fRepositoryURL
	fRepositoryDefaultBranch
	fRef
	fBranch
	fTag
	fCommit
	fBefore
	fActor
	fURL
	fChangeNumber
	fChangeTitle
	fChangeSourceBranch
	fChangeTargetBranch
	fChangeMerged
	fReleaseName
	fReleasePrerelease
	fBuildID
	fBuildName
	fBuildPipeline
	fBuildRunID
	fBuildNumber
	fBuildAttempt
	fBuildStatus
	fBuildOutcome
	fBuildTrigger
	fBuildURL
	fBuildStartedAt
	fBuildUpdatedAt
	fArtifactType
	fArtifactRepository
	fArtifactTag
	fArtifactDigest
	fArtifactVersion
	fArtifactReference
	fDeploymentID
	fDeploymentEnvironment
	fDeploymentRef
	fDeploymentState
	fDeploymentURL
	numFields
)

// Field is one field of the event model a path can fill.
type Field struct {
	// Name is the field's name in a normalize setting, e.g. "commit" or
	// "artifact.digest".
	Name string
	// Description says what the field holds and what a value must be.
	Description string
}

// fields describes each fieldID.
var fields = [numFields]Field{
	fKind:                    {"kind", "a member holding a Reflex kind (e.g. \"build.finished\"), used when settings.kinds does not map the event type; other values leave the event unnormalized"},
	fAction:                  {"action", "the action that refines the event type, e.g. \"closed\""},
	fRepository:              {"repository", "the repository's full name, e.g. \"acme/widget\"; without it the repository's url and default branch are dropped"},
	fRepositoryURL:           {"repository.url", "the repository's web page"},
	fRepositoryDefaultBranch: {"repository.default_branch", "the repository's default branch"},
	fRef:                     {"ref", "the full Git ref, e.g. \"refs/heads/main\"; its branch or tag fills branch or tag when they have no path"},
	fBranch:                  {"branch", "the branch name"},
	fTag:                     {"tag", "the tag name"},
	fCommit:                  {"commit", "the commit SHA the event points at (40 zeros count as none)"},
	fBefore:                  {"before", "the commit SHA the ref pointed at before a push"},
	fActor:                   {"actor", "who caused the event"},
	fURL:                     {"url", "a web page for the event"},
	fChangeNumber:            {"change.number", "the change request's number (an integer)"},
	fChangeTitle:             {"change.title", "the change request's title"},
	fChangeSourceBranch:      {"change.source_branch", "the branch the change comes from"},
	fChangeTargetBranch:      {"change.target_branch", "the branch the change goes into"},
	fChangeMerged:            {"change.merged", "whether the change is merged (a boolean)"},
	fReleaseName:             {"release.name", "the release's title"},
	fReleasePrerelease:       {"release.prerelease", "whether the release is a pre-release (a boolean)"},
	fBuildID:                 {"build.id", "the run's or job's id"},
	fBuildName:               {"build.name", "the workflow, pipeline or job name"},
	fBuildPipeline:           {"build.pipeline", "the pipeline a job belongs to"},
	fBuildRunID:              {"build.run_id", "the id of the run a job belongs to"},
	fBuildNumber:             {"build.number", "the run's sequence number (an integer)"},
	fBuildAttempt:            {"build.attempt", "the attempt, from 1 (an integer)"},
	fBuildStatus:             {"build.status", "queued, running or finished; pending/waiting read as queued, in_progress/started as running, completed or an outcome as finished; other values are dropped"},
	fBuildOutcome:            {"build.outcome", "success, failure, cancelled, skipped or neutral; succeeded/passed read as success, failed/error as failure, canceled/aborted as cancelled; other values are dropped"},
	fBuildTrigger:            {"build.trigger", "what started the run, e.g. \"push\""},
	fBuildURL:                {"build.url", "the run's web page"},
	fBuildStartedAt:          {"build.started_at", "when the run started: RFC 3339, or Unix seconds"},
	fBuildUpdatedAt:          {"build.updated_at", "the sender's last update time: RFC 3339, or Unix seconds"},
	fArtifactType:            {"artifact.type", "the package ecosystem, e.g. \"container\" or \"npm\""},
	fArtifactRepository:      {"artifact.repository", "the image or package repository, e.g. \"ghcr.io/acme/api\""},
	fArtifactTag:             {"artifact.tag", "the tag pushed"},
	fArtifactDigest:          {"artifact.digest", "the content digest, e.g. \"sha256:…\""},
	fArtifactVersion:         {"artifact.version", "the package version"},
	fArtifactReference:       {"artifact.reference", "a reference to pull the artifact by; repository:tag or repository@digest when it has no path"},
	fDeploymentID:            {"deployment.id", "the deployment's id"},
	fDeploymentEnvironment:   {"deployment.environment", "the target environment, e.g. \"production\""},
	fDeploymentRef:           {"deployment.ref", "what was deployed: a branch, tag or SHA"},
	fDeploymentState:         {"deployment.state", "the deployment's state as the sender names it, e.g. \"in_progress\", except that succeeded/successful/passed read as success and failed as failure, the words GitHub uses"},
	fDeploymentURL:           {"deployment.url", "the deployment's target or log URL"},
}

// Fields returns the fields a normalize setting may name, in the order of
// the event model.
func Fields() []Field { return append([]Field(nil), fields[:]...) }

// fieldByName returns the id of a field name.
func fieldByName(name string) (fieldID, bool) {
	for id, f := range fields {
		if f.Name == name {
			return fieldID(id), true
		}
	}
	return 0, false
}

// target collects the values of one event before they are attached.
type target struct {
	ev         *event.Event
	kind       string
	repo       event.Repository
	change     event.Change
	release    event.Release
	build      event.Build
	artifact   event.Artifact
	deployment event.Deployment
}

// set fills field id from s, the text of a value of the given kind,
// dropping a value of the wrong shape.
func (t *target) set(id fieldID, kind byte, s string) {
	ev := t.ev
	switch id {
	case fKind:
		t.kind = s
	case fAction:
		ev.Action = s
	case fRepository:
		t.repo.Name = s
	case fRepositoryURL:
		t.repo.URL = s
	case fRepositoryDefaultBranch:
		t.repo.DefaultBranch = s
	case fRef:
		ev.Ref = s
	case fBranch:
		ev.Branch = s
	case fTag:
		ev.Tag = s
	case fCommit:
		ev.Commit = convert.NonZeroSHA(s)
	case fBefore:
		ev.Before = convert.NonZeroSHA(s)
	case fActor:
		ev.Actor = s
	case fURL:
		ev.URL = s
	case fChangeNumber:
		t.change.Number = integer(kind, s)
	case fChangeTitle:
		t.change.Title = s
	case fChangeSourceBranch:
		t.change.SourceBranch = s
	case fChangeTargetBranch:
		t.change.TargetBranch = s
	case fChangeMerged:
		t.change.Merged = boolean(kind, s)
	case fReleaseName:
		t.release.Name = s
	case fReleasePrerelease:
		t.release.Prerelease = boolean(kind, s)
	default:
		t.setBlock(id, kind, s)
	}
}

// setBlock fills the build, artifact and deployment fields from s, a
// value of the given kind.
func (t *target) setBlock(id fieldID, kind byte, s string) {
	switch id {
	case fBuildID:
		t.build.ID = s
	case fBuildName:
		t.build.Name = s
	case fBuildPipeline:
		t.build.Pipeline = s
	case fBuildRunID:
		t.build.RunID = s
	case fBuildNumber:
		t.build.Number = integer(kind, s)
	case fBuildAttempt:
		t.build.Attempt = integer(kind, s)
	case fBuildStatus:
		t.build.Status = buildStatus(s)
	case fBuildOutcome:
		t.build.Outcome = outcome(s)
	case fBuildTrigger:
		t.build.Trigger = s
	case fBuildURL:
		t.build.URL = s
	case fBuildStartedAt:
		t.build.StartedAt = timestamp(kind, s)
	case fBuildUpdatedAt:
		t.build.UpdatedAt = timestamp(kind, s)
	case fArtifactType:
		t.artifact.Type = s
	case fArtifactRepository:
		t.artifact.Repository = s
	case fArtifactTag:
		t.artifact.Tag = s
	case fArtifactDigest:
		t.artifact.Digest = s
	case fArtifactVersion:
		t.artifact.Version = s
	case fArtifactReference:
		t.artifact.Reference = s
	case fDeploymentID:
		t.deployment.ID = s
	case fDeploymentEnvironment:
		t.deployment.Environment = s
	case fDeploymentRef:
		t.deployment.Ref = s
	case fDeploymentState:
		t.deployment.State = deploymentState(s)
	case fDeploymentURL:
		t.deployment.URL = s
	}
}

// integer reads a whole number, written as a number or a string; anything
// else is 0.
func integer(kind byte, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || kind == kindBool {
		return 0
	}
	return n
}

// boolean reads true, written as a boolean or the string "true".
func boolean(kind byte, s string) bool {
	return (kind == kindBool || kind == kindString) && s == "true"
}

// timestamp reads an RFC 3339 time or Unix seconds.
func timestamp(kind byte, s string) *time.Time {
	var t time.Time
	switch kind {
	case kindString:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return nil
		}
	case kindNumber:
		secs, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil
		}
		t = time.Unix(secs, 0)
	default:
		return nil
	}
	t = t.UTC()
	return &t
}

// outcomes maps the words senders use for a finished run's result.
var outcomes = map[string]event.Outcome{
	"success": event.OutcomeSuccess, "succeeded": event.OutcomeSuccess, "successful": event.OutcomeSuccess, "passed": event.OutcomeSuccess,
	"failure": event.OutcomeFailure, "failed": event.OutcomeFailure, "error": event.OutcomeFailure, "errored": event.OutcomeFailure,
	"cancelled": event.OutcomeCancelled, "canceled": event.OutcomeCancelled, "aborted": event.OutcomeCancelled,
	"timed_out": event.OutcomeTimedOut, "timedout": event.OutcomeTimedOut, "timeout": event.OutcomeTimedOut,
	"skipped": event.OutcomeSkipped, "neutral": event.OutcomeNeutral,
}

func outcome(s string) event.Outcome { return outcomes[strings.ToLower(s)] }

// statuses maps the words senders use for a run's progress.
var statuses = map[string]event.BuildStatus{
	"queued": event.BuildQueued, "pending": event.BuildQueued, "waiting": event.BuildQueued, "requested": event.BuildQueued,
	"running": event.BuildRunning, "in_progress": event.BuildRunning, "started": event.BuildRunning,
	"finished": event.BuildFinished, "completed": event.BuildFinished, "done": event.BuildFinished,
}

// buildStatus reads a status; an outcome word means the run finished.
func buildStatus(s string) event.BuildStatus {
	s = strings.ToLower(s)
	if st, ok := statuses[s]; ok {
		return st
	}
	if outcomes[s] != "" {
		return event.BuildFinished
	}
	return ""
}

// deploymentState reads a state, in GitHub's words for success and
// failure, so that a policy (and CDEvents' service.deployed) reads the
// same whatever the sender.
func deploymentState(s string) string {
	switch strings.ToLower(s) {
	case "success", "succeeded", "successful", "passed":
		return "success"
	case "failure", "failed":
		return "failure"
	}
	return s
}
