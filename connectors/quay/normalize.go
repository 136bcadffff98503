package quay

import (
	"fmt"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/convert"
	"github.com/reflexops/reflex/connectors/imageref"
	"github.com/reflexops/reflex/event"
)

// normalize fills ev from the payload of its type. It returns the events
// of a batch, when a repo_push updated several tags, and nil otherwise.
func normalize(p *payload, ev *event.Event) ([]*event.Event, error) {
	if err := checkRepository(p); err != nil {
		return nil, err
	}
	switch ev.Type {
	case EventRepoPush:
		return normalizePush(p, ev)
	case EventVulnerabilityFound:
		return nil, normalizeVulnerability(p, ev)
	case EventBuildQueued, EventBuildStart, EventBuildSuccess, EventBuildFailure, EventBuildCancelled, EventBuild:
		normalizeBuild(p, ev)
		return nil, nil
	}
	ev.Kind = event.KindUnnormalized
	ev.URL = p.Homepage
	return nil, nil
}

// normalizePush reads a repo_push: one artifact.published event per
// updated tag, a batch when there are several. Quay names no digest.
// A push that updated no tag is other.
func normalizePush(p *payload, ev *event.Event) ([]*event.Event, error) {
	image, err := imageOf(p)
	if err != nil {
		return nil, err
	}
	tags := *p.UpdatedTags
	ev.URL = p.Homepage
	if len(tags) == 0 {
		ev.Kind = event.KindOther
		ev.Action = "no_tag_updated"
		ev.Artifact = &event.Artifact{Type: "container", Repository: image, DigestMissing: true}
		return nil, nil
	}
	if len(tags) > connectors.MaxBatch {
		return nil, fmt.Errorf("%w: the repo_push updated %d tags, more than the %d events a delivery may carry", connectors.ErrMalformed, len(tags), connectors.MaxBatch)
	}
	events := make([]*event.Event, len(tags))
	for i, tag := range tags {
		if !imageref.ValidTag(tag) {
			return nil, fmt.Errorf("%w: updated_tags[%d] is not a tag (letters, digits, '_', '.' and '-', at most 128)", connectors.ErrMalformed, i)
		}
		e := *ev
		e.Kind = event.KindArtifactPublished
		e.Tag = tag
		e.Artifact = &event.Artifact{Type: "container", Repository: image, Tag: tag, DigestMissing: true, Reference: image + ":" + tag}
		events[i] = &e
	}
	if len(events) == 1 {
		*ev = *events[0]
		return nil, nil
	}
	return events, nil
}

// normalizeVulnerability reads a vulnerability_found: other, with the
// image it concerns, and its tag or digest when it names one alone.
func normalizeVulnerability(p *payload, ev *event.Event) error {
	image, err := imageOf(p)
	if err != nil {
		return err
	}
	ev.Kind = event.KindOther
	ev.Action = EventVulnerabilityFound
	ev.URL = p.Homepage
	a := &event.Artifact{Type: "container", Repository: image, DigestMissing: true}
	if len(p.Tags) == 1 {
		switch ref := p.Tags[0]; {
		case imageref.ValidDigest(ref):
			a.Digest, a.DigestMissing, a.Reference = ref, false, image+"@"+ref
		case imageref.ValidTag(ref):
			a.Tag, a.Reference = ref, image+":"+ref
			ev.Tag = ref
		}
	}
	ev.Artifact = a
	return nil
}

// buildKinds gives each build event its kind, status and outcome; a build
// event whose type is unknown (EventBuild) is other.
var buildKinds = map[string]struct {
	kind    event.Kind
	status  event.BuildStatus
	outcome event.Outcome
}{
	EventBuildQueued:    {event.KindBuildQueued, event.BuildQueued, ""},
	EventBuildStart:     {event.KindBuildStarted, event.BuildRunning, ""},
	EventBuildSuccess:   {event.KindBuildFinished, event.BuildFinished, event.OutcomeSuccess},
	EventBuildFailure:   {event.KindBuildFinished, event.BuildFinished, event.OutcomeFailure},
	EventBuildCancelled: {event.KindBuildFinished, event.BuildFinished, event.OutcomeCancelled},
	EventBuild:          {event.KindOther, "", ""},
}

// normalizeBuild reads a build event: the build (its id; its name, the
// repository, so that a repository's builds are one series; what
// triggered it; its page) and the commit and branch or tag it built,
// when its trigger says.
func normalizeBuild(p *payload, ev *event.Event) {
	k := buildKinds[ev.Type]
	ev.Kind = k.kind
	ev.URL = p.Homepage
	ev.Build = &event.Build{
		ID:      *p.BuildID,
		Name:    p.Repository,
		Status:  k.status,
		Outcome: k.outcome,
		Trigger: trigger(p),
		URL:     p.Homepage,
	}
	if p.ManualUser != nil {
		ev.Actor = *p.ManualUser
	}
	m := p.TriggerMetadata
	if m == nil {
		return
	}
	if sha := convert.First(m.Commit, m.CommitSHA); convert.IsSHA(sha) {
		ev.Commit = sha
	}
	if branch, ok := strings.CutPrefix(m.Ref, "refs/heads/"); ok {
		ev.Branch = branch
	} else if tag, ok := strings.CutPrefix(m.Ref, "refs/tags/"); ok {
		ev.Tag = tag
	}
	if ev.Actor == "" && m.CommitInfo != nil && m.CommitInfo.Author != nil {
		ev.Actor = m.CommitInfo.Author.Username
	}
}

// trigger returns what started a build: its trigger's kind ("github",
// "gitlab", "bitbucket", "custom-git"), or "manual" for a build started
// by hand.
func trigger(p *payload) string {
	if p.TriggerKind != nil && *p.TriggerKind != "" {
		return *p.TriggerKind
	}
	if p.IsManual != nil && *p.IsManual {
		return "manual"
	}
	return ""
}

// checkRepository checks the repository every notification names,
// "<namespace>/<name>", which becomes a build's name and part of an
// image's.
func checkRepository(p *payload) error {
	if p.Repository == "" {
		return fmt.Errorf("%w: the payload's repository is missing", connectors.ErrMalformed)
	}
	parts := strings.Split(p.Repository, "/")
	if len(parts) < 2 {
		return fmt.Errorf("%w: the payload's repository is not <namespace>/<name>", connectors.ErrMalformed)
	}
	for _, part := range parts {
		if !imageref.ValidComponent(part) {
			return fmt.Errorf("%w: the payload's repository is not a Quay repository name (lower-case letters and digits, separated by '.', '_' or '-')", connectors.ErrMalformed)
		}
	}
	return nil
}

// imageOf returns the image a notification concerns, docker_url: the
// registry's host and the repository ("quay.io/acme/api").
func imageOf(p *payload) (string, error) {
	if p.DockerURL == "" {
		return "", fmt.Errorf("%w: the payload's docker_url is missing", connectors.ErrMalformed)
	}
	host, ok := strings.CutSuffix(p.DockerURL, "/"+p.Repository)
	if !ok || !imageref.ValidHost(host) {
		return "", fmt.Errorf("%w: the payload's docker_url is not the registry's host and the repository", connectors.ErrMalformed)
	}
	return p.DockerURL, nil
}
