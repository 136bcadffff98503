package quay

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/reflexops/reflex/connectors"
)

// Quay's notification events, as Event.Type holds them: the names Quay
// gives them (https://docs.projectquay.io/use_quay.html#repository-events),
// which it sends in no header and no field.
const (
	EventRepoPush           = "repo_push"
	EventBuildQueued        = "build_queued"
	EventBuildStart         = "build_start"
	EventBuildSuccess       = "build_success"
	EventBuildFailure       = "build_failure"
	EventBuildCancelled     = "build_cancelled"
	EventVulnerabilityFound = "vulnerability_found"
	EventMirrorSyncStarted  = "repo_mirror_sync_started"
	EventMirrorSyncSuccess  = "repo_mirror_sync_success"
	EventMirrorSyncFailed   = "repo_mirror_sync_failed"
)

// What Event.Type holds when neither the URL nor the payload says which
// event a notification is.
const (
	// EventBuild is a build event whose payload has the shape Quay gives
	// build_start, build_success, build_failure and build_cancelled
	// alike: which of them it is, only the URL's event parameter can
	// say.
	EventBuild = "build"
	// EventNotification is a notification of no shape the connector
	// knows (a repository mirror's, or one reshaped by a template).
	EventNotification = "notification"
)

// QueryEvent is the query parameter of the webhook URL that names the
// notification's event, e.g. /hooks/{source}/{token}?event=build_success:
// Quay sends each notification to its own URL, and says nothing else of
// which event it is. It is not a secret.
const QueryEvent = "event"

// shape is the family of events a payload's fields place it in.
type shape int

const (
	shapeOther shape = iota
	shapePush
	shapeBuild
	shapeVulnerability
)

// shapes maps each event Quay names to the shape of its payload.
var shapes = map[string]shape{
	EventRepoPush:           shapePush,
	EventBuildQueued:        shapeBuild,
	EventBuildStart:         shapeBuild,
	EventBuildSuccess:       shapeBuild,
	EventBuildFailure:       shapeBuild,
	EventBuildCancelled:     shapeBuild,
	EventVulnerabilityFound: shapeVulnerability,
	EventMirrorSyncStarted:  shapeOther,
	EventMirrorSyncSuccess:  shapeOther,
	EventMirrorSyncFailed:   shapeOther,
}

// shapeNames names the shapes in errors.
var shapeNames = map[shape]string{
	shapeOther:         "repository notification",
	shapePush:          "repo_push (it has updated_tags)",
	shapeBuild:         "build event (it has build_id)",
	shapeVulnerability: "vulnerability_found (it has vulnerability)",
}

// shapeOf returns the shape of a payload, by the field each event's
// payload alone has: updated_tags, build_id, vulnerability (or
// vulnerabilities).
func shapeOf(p *payload) shape {
	switch {
	case p.UpdatedTags != nil:
		return shapePush
	case p.BuildID != nil:
		return shapeBuild
	case p.Vulnerability != nil || p.Vulnerabilities != nil:
		return shapeVulnerability
	}
	return shapeOther
}

// buildEvent returns which build event a build payload is, when its
// fields say: error_message only build_failure's has, image_id or
// manifest_digests only build_success's (and only when the builder
// reported them), is_manual only build_queued's. Otherwise it returns
// EventBuild and false.
func buildEvent(p *payload) (string, bool) {
	switch {
	case p.ErrorMessage != nil:
		return EventBuildFailure, true
	case p.ImageID != nil || len(p.ManifestDigests) > 0:
		return EventBuildSuccess, true
	case p.IsManual != nil && p.BuildName == "":
		return EventBuildQueued, true
	}
	return EventBuild, false
}

// eventType returns the notification's event: the URL's event parameter
// when there is one, which must fit the payload's shape; else what the
// shape says.
func eventType(p *payload, query url.Values) (string, error) {
	got := shapeOf(p)
	detected := EventNotification
	decisive := false
	switch got {
	case shapePush:
		detected, decisive = EventRepoPush, true
	case shapeVulnerability:
		detected, decisive = EventVulnerabilityFound, true
	case shapeBuild:
		detected, decisive = buildEvent(p)
	}
	values := query[QueryEvent]
	switch {
	case len(values) == 0:
		return detected, nil
	case len(values) > 1:
		return "", fmt.Errorf("%w: the webhook URL names the event more than once", connectors.ErrMalformed)
	}
	named := values[0]
	want, known := shapes[named]
	if !known {
		return "", fmt.Errorf("%w: the webhook URL's event parameter is not a Quay event (%s)", connectors.ErrMalformed, knownEvents())
	}
	if want != got {
		return "", fmt.Errorf("%w: the webhook URL says %s, but the payload is a %s", connectors.ErrMalformed, named, shapeNames[got])
	}
	if decisive && named != detected {
		return "", fmt.Errorf("%w: the webhook URL says %s, but the payload is a %s's", connectors.ErrMalformed, named, detected)
	}
	return named, nil
}

// knownEvents lists Quay's events for errors, in a fixed order.
func knownEvents() string {
	return strings.Join([]string{
		EventRepoPush, EventBuildQueued, EventBuildStart, EventBuildSuccess, EventBuildFailure, EventBuildCancelled,
		EventVulnerabilityFound, EventMirrorSyncStarted, EventMirrorSyncSuccess, EventMirrorSyncFailed,
	}, ", ")
}
