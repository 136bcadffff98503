package cloudevents

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// cdeventsPrefix starts every CDEvents type; custom types
// (dev.cdeventsx.…) do not match it and stay unnormalized.
const cdeventsPrefix = "dev.cdevents."

// subjectNormalizer fills ev from a CDEvent of one subject, by predicate.
type subjectNormalizer func(predicate string, cd *cdEvent, ev *event.Event)

// subjects maps each CDEvents subject the connector normalizes to its
// normalizer; a predicate it gives no meaning becomes event.KindOther.
// Any other subject is accepted as event.KindUnnormalized.
var subjects = map[string]subjectNormalizer{
	"change":      normalizeChange,
	"branch":      normalizeBranch,
	"pipelinerun": normalizePipelineRun,
	"taskrun":     normalizeTaskRun,
	"build":       normalizeBuild,
	"artifact":    normalizeArtifact,
	"service":     normalizeService,
	"environment": normalizeEnvironment,
	"repository":  normalizeRepository,
}

// splitCDEventsType returns the subject and predicate of a CDEvents type,
// dev.cdevents.<subject>.<predicate>.<version>, whatever the version.
func splitCDEventsType(typ string) (subject, predicate string, ok bool) {
	rest, ok := strings.CutPrefix(typ, cdeventsPrefix)
	if !ok {
		return "", "", false
	}
	subject, rest, _ = strings.Cut(rest, ".")
	predicate, version, _ := strings.Cut(rest, ".")
	return subject, predicate, subject != "" && predicate != "" && version != ""
}

// normalize fills ev from the JSON data of a CloudEvent of type typ (nil
// when the data is absent or not JSON): a CDEvent of a known subject is
// normalized, anything else stays event.KindUnnormalized.
func normalize(a *attributes, data []byte, ev *event.Event) error {
	typ := a.typ
	subject, predicate, ok := splitCDEventsType(typ)
	if !ok {
		return nil
	}
	fn, known := subjects[subject]
	if !known {
		return nil
	}
	if data == nil {
		return fmt.Errorf("%w: a CDEvent's data is its JSON document (context, subject), and this %s event has none", connectors.ErrMalformed, typ)
	}
	var cd cdEvent
	// The callers checked data (a part of a checked event, or checked on
	// its own), so the fast decoder takes it as it is.
	if err := gojson.Unmarshal(data, &cd); err != nil {
		return fmt.Errorf("%w: the data of the %s event is not a CDEvent of the expected shape: %v", connectors.ErrMalformed, typ, err)
	}
	if err := matchContext(a, &cd); err != nil {
		return err
	}
	ev.Action = predicate
	ev.Kind = event.KindOther
	fn(predicate, &cd, ev)
	return nil
}

// matchContext checks that the attributes repeat the CDEvent's context, as
// the CDEvents binding requires. It matters for binary mode: there the
// attributes travel in headers that an HMAC or a bearer token does not
// cover, and the id and type decide de-duplication and meaning, so they
// must be those of the signed body.
func matchContext(a *attributes, cd *cdEvent) error {
	for _, f := range []struct{ attr, got, want string }{
		{"id", a.id, cd.Context.ID}, {"source", a.source, cd.Context.Source}, {"type", a.typ, cd.Context.Type},
	} {
		if f.got != f.want {
			return fmt.Errorf("%w: the event's %s is not its CDEvent's context.%s; they must be the same", connectors.ErrMalformed, f.attr, f.attr)
		}
	}
	return nil
}

func normalizeChange(predicate string, cd *cdEvent, ev *event.Event) {
	setRepository(ev, cd.Subject.Content.Repository)
	ev.Change = &event.Change{Number: changeNumber(cd.Subject.ID), Merged: predicate == "merged"}
	switch predicate {
	case "created":
		ev.Kind = event.KindChangeCreated
	case "updated":
		ev.Kind = event.KindChangeUpdated
	case "merged":
		ev.Kind = event.KindChangeMerged
	case "abandoned":
		ev.Kind = event.KindChangeAbandoned
	}
}

func normalizeBranch(predicate string, cd *cdEvent, ev *event.Event) {
	setRepository(ev, cd.Subject.Content.Repository)
	if branch := strings.TrimPrefix(cd.Subject.ID, "refs/heads/"); branch != "" {
		ev.Branch, ev.Ref = branch, "refs/heads/"+branch
	}
	switch predicate {
	case "created":
		ev.Kind = event.KindBranchCreated
	case "deleted":
		ev.Kind = event.KindBranchDeleted
	}
}

// runKinds maps the predicates of a run to the kinds of a pipeline run
// (build.*) and of a task run (task.*), with the run's status.
var runKinds = map[string]struct {
	build, task event.Kind
	status      event.BuildStatus
}{
	"queued":   {event.KindBuildQueued, event.KindTaskQueued, event.BuildQueued},
	"started":  {event.KindBuildStarted, event.KindTaskStarted, event.BuildRunning},
	"finished": {event.KindBuildFinished, event.KindTaskFinished, event.BuildFinished},
}

// newBuild returns the Build of a run's CDEvent, and sets ev's kind (that
// of a task when task is true).
func newBuild(predicate string, cd *cdEvent, ev *event.Event, task bool) *event.Build {
	b := &event.Build{ID: cd.Subject.ID, URL: cd.Subject.Content.uri()}
	if k, ok := runKinds[predicate]; ok {
		ev.Kind, b.Status = k.build, k.status
		if task {
			ev.Kind = k.task
		}
	}
	if b.Status == event.BuildFinished {
		b.Outcome = outcome(cd.Subject.Content.Outcome)
	}
	if at := timestamp(cd.Context.Timestamp); at != nil {
		b.UpdatedAt = at
		if predicate == "started" {
			b.StartedAt = at
		}
	}
	ev.URL = b.URL
	return b
}

func normalizePipelineRun(predicate string, cd *cdEvent, ev *event.Event) {
	ev.Build = newBuild(predicate, cd, ev, false)
	ev.Build.Name = cd.Subject.Content.PipelineName
}

func normalizeTaskRun(predicate string, cd *cdEvent, ev *event.Event) {
	ev.Build = newBuild(predicate, cd, ev, true)
	ev.Build.Name = cd.Subject.Content.TaskName
	if run := cd.Subject.Content.PipelineRun; run != nil {
		ev.Build.RunID = run.ID
	}
}

func normalizeBuild(predicate string, cd *cdEvent, ev *event.Event) {
	ev.Build = newBuild(predicate, cd, ev, false)
	if id := cd.Subject.Content.ArtifactID; id != "" {
		ev.Artifact = artifactOf(id)
	}
}

func normalizeArtifact(predicate string, cd *cdEvent, ev *event.Event) {
	ev.Artifact = artifactOf(cd.Subject.ID)
	ev.Actor = cd.Subject.Content.User
	if predicate == "published" {
		ev.Kind = event.KindArtifactPublished
	}
}

// normalizeService reads a service's deployment: deployed, upgraded and
// rolled back are each a deployment that finished successfully.
func normalizeService(predicate string, cd *cdEvent, ev *event.Event) {
	c := &cd.Subject.Content
	ev.Deployment = &event.Deployment{ID: cd.Subject.ID, Ref: c.ArtifactID}
	if c.Environment != nil {
		ev.Deployment.Environment = c.Environment.ID
	}
	if c.ArtifactID != "" {
		ev.Artifact = artifactOf(c.ArtifactID)
	}
	switch predicate {
	case "deployed", "upgraded", "rolledback":
		ev.Kind = event.KindDeploymentFinished
		ev.Deployment.State = "success"
	}
}

func normalizeEnvironment(_ string, cd *cdEvent, ev *event.Event) {
	ev.URL = cd.Subject.Content.uri()
}

func normalizeRepository(_ string, cd *cdEvent, ev *event.Event) {
	c := &cd.Subject.Content
	name := c.Name
	if c.Owner != "" && name != "" {
		name = c.Owner + "/" + name
	}
	if name == "" {
		name = cd.Subject.ID
	}
	ev.Repository = &event.Repository{Name: name, URL: c.ViewURL}
	ev.URL = c.ViewURL
}

// setRepository names the repository of a change or branch: its id, or
// its source when the id is missing.
func setRepository(ev *event.Event, ref *cdRef) {
	if ref == nil {
		return
	}
	if name := ref.ID; name != "" {
		ev.Repository = &event.Repository{Name: name}
	} else if ref.Source != "" {
		ev.Repository = &event.Repository{Name: ref.Source}
	}
}

// outcome maps a CDEvents outcome onto Reflex's: an error (the run could
// not complete) is a failure, cancel is cancelled; anything else is left
// unset.
func outcome(s string) event.Outcome {
	switch s {
	case "success":
		return event.OutcomeSuccess
	case "failure", "error":
		return event.OutcomeFailure
	case "cancel":
		return event.OutcomeCancelled
	}
	return ""
}

// changeNumber reads a change request's number from its subject id when
// the id is, or ends in, a number ("42", "pulls/42"); 0 otherwise.
func changeNumber(id string) int {
	last := id[strings.LastIndexAny(id, "/#!")+1:]
	n, err := strconv.Atoi(last)
	if err != nil || n < 0 || strings.HasPrefix(last, "+") {
		return 0
	}
	return n
}

// timestamp reads a CDEvent's context timestamp; nil when it is not RFC
// 3339.
func timestamp(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}
