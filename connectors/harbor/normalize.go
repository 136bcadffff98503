package harbor

import (
	"fmt"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// payload is a notification in either format: the Default one (type,
// occur_at, operator, event_data) or the CloudEvents one (specversion,
// id, type, the operator extension, data). Both share type and operator.
type payload struct {
	Type        string     `json:"type"`
	Operator    string     `json:"operator"`
	EventData   *eventData `json:"event_data"`
	SpecVersion string     `json:"specversion"`
	ID          string     `json:"id"`
	Data        *eventData `json:"data"`
}

// eventData is what a notification is about. Replication and retention
// details are left in the payload.
type eventData struct {
	Resources  []resource  `json:"resources"`
	Repository *repository `json:"repository"`
}

// resource is one artifact of a notification. Its scan_overview stays in
// the payload.
type resource struct {
	Digest      string `json:"digest"`
	Tag         string `json:"tag"`
	ResourceURL string `json:"resource_url"`
}

// repository is the repository the resources belong to.
type repository struct {
	Name         string `json:"name"`
	Namespace    string `json:"namespace"`
	RepoFullName string `json:"repo_full_name"`
}

// meaning is what a Default-format type normalizes to.
type meaning struct {
	kind   event.Kind
	action string
	// artifacts is true when the type's resources are artifacts the
	// event describes; an artifact.published needs one.
	artifacts bool
}

// meanings maps Harbor's Default types to their kind and action.
var meanings = map[string]meaning{
	"PUSH_ARTIFACT":      {event.KindArtifactPublished, "pushed", true},
	"PULL_ARTIFACT":      {event.KindOther, "pulled", true},
	"DELETE_ARTIFACT":    {event.KindOther, "deleted", true},
	"SCANNING_COMPLETED": {event.KindOther, "scanned", true},
	"SCANNING_FAILED":    {event.KindOther, "scan_failed", true},
	"SCANNING_STOPPED":   {event.KindOther, "scan_stopped", true},
	"QUOTA_EXCEED":       {event.KindOther, "quota_exceeded", true},
	"QUOTA_WARNING":      {event.KindOther, "quota_warning", true},
	"REPLICATION":        {event.KindOther, "replicated", false},
	"TAG_RETENTION":      {event.KindOther, "retention_finished", false},
}

// cloudEventTypes maps Harbor's CloudEvents types to the Default types
// (src/pkg/notifier/formats/cloudevents.go).
var cloudEventTypes = map[string]string{
	"harbor.artifact.pushed":            "PUSH_ARTIFACT",
	"harbor.artifact.pulled":            "PULL_ARTIFACT",
	"harbor.artifact.deleted":           "DELETE_ARTIFACT",
	"harbor.scan.completed":             "SCANNING_COMPLETED",
	"harbor.scan.failed":                "SCANNING_FAILED",
	"harbor.scan.stopped":               "SCANNING_STOPPED",
	"harbor.quota.exceeded":             "QUOTA_EXCEED",
	"harbor.quota.warned":               "QUOTA_WARNING",
	"harbor.replication.status.changed": "REPLICATION",
	"harbor.tag_retention.finished":     "TAG_RETENTION",
}

// normalize returns the events of a notification: base with its kind and
// action, once per resource for a type about artifacts (at least once).
func normalize(base *event.Event, data *eventData) ([]*event.Event, error) {
	typ := base.Type
	if t, ok := cloudEventTypes[typ]; ok {
		typ = t
	}
	m, ok := meanings[typ]
	if !ok {
		base.Kind = event.KindUnnormalized
		return []*event.Event{base}, nil
	}
	base.Kind, base.Action = m.kind, m.action
	if !m.artifacts {
		return []*event.Event{base}, nil
	}
	var resources []resource
	var repo string
	if data != nil {
		resources = data.Resources
		repo = data.Repository.fullName()
	}
	switch {
	case len(resources) == 0 && m.kind == event.KindArtifactPublished:
		return nil, fmt.Errorf("%w: the %s notification names no resource", connectors.ErrMalformed, base.Type)
	case len(resources) == 0:
		return []*event.Event{base}, nil
	case len(resources) > connectors.MaxBatch:
		return nil, fmt.Errorf("%w: the notification names %d resources, more than %d", connectors.ErrMalformed, len(resources), connectors.MaxBatch)
	}
	if err := checkRepository(repo); err != nil {
		return nil, err
	}
	host := ""
	for _, r := range resources {
		if host = hostOf(r.ResourceURL, repo); host != "" {
			break
		}
	}
	events := make([]*event.Event, len(resources))
	for i, r := range resources {
		a, err := artifactOf(host, repo, r)
		if err != nil {
			return nil, err
		}
		ev := *base
		ev.Artifact, ev.Tag = a, a.Tag
		events[i] = &ev
	}
	return events, nil
}

// fullName returns the repository's name within Harbor, "project/name",
// from repo_full_name, else from namespace and name.
func (r *repository) fullName() string {
	switch {
	case r == nil:
		return ""
	case r.RepoFullName != "":
		return r.RepoFullName
	case r.Namespace != "" && r.Name != "":
		return r.Namespace + "/" + r.Name
	}
	return ""
}

// maxRepository bounds a repository name (Harbor's limit is 255).
const maxRepository = 255

// checkRepository accepts a Harbor repository name: path components of
// letters, digits, '.', '_' and '-' joined by '/'.
func checkRepository(repo string) error {
	err := connectors.CheckValue("the notification's repository (repo_full_name)", repo, maxRepository, func(_ int, r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/", r)
	}, "letters, digits, '.', '_', '-' and '/'")
	if err == nil && (strings.HasPrefix(repo, "/") || strings.HasSuffix(repo, "/") || strings.Contains(repo, "//")) {
		err = fmt.Errorf("%w: the notification's repository (repo_full_name) has an empty path component", connectors.ErrMalformed)
	}
	return err
}

// hostOf returns the registry host of a resource_url, which Harbor builds
// as "<host>/<repository>:<tag>" or "…@<digest>": what precedes
// "/<repository>". "" when the URL does not have that shape.
func hostOf(resourceURL, repo string) string {
	host, rest, ok := strings.Cut(resourceURL, "/")
	if !ok || !validHost(host) {
		return ""
	}
	if after, ok := strings.CutPrefix(rest, repo); !ok || after != "" && after[0] != ':' && after[0] != '@' {
		return ""
	}
	return strings.ToLower(host)
}

// maxHost bounds a host name with its port.
const maxHost = 261

// validHost accepts a host name or address with an optional port.
func validHost(host string) bool {
	if host == "" || len(host) > maxHost {
		return false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-:[]", r)) {
			return false
		}
	}
	return true
}

// artifactOf describes one resource: the image "<host>/<repo>" (repo
// alone when no resource names the host), its tag (none when Harbor names
// the artifact by digest in the tag field), its digest, and a reference
// by tag, else by digest.
func artifactOf(host, repo string, r resource) (*event.Artifact, error) {
	a := &event.Artifact{Type: "container", Repository: repo}
	if host != "" {
		a.Repository = host + "/" + repo
	}
	tag, digest := r.Tag, r.Digest
	if isDigest(tag) {
		if digest == "" {
			digest = tag
		}
		tag = ""
	}
	if tag != "" && !isTag(tag) {
		return nil, fmt.Errorf("%w: the resource's tag is not an image tag (letters, digits, '_', '.' and '-', at most 128)", connectors.ErrMalformed)
	}
	a.Tag = tag
	if isDigest(digest) {
		a.Digest = digest
	} else {
		a.DigestMissing = true
	}
	switch {
	case a.Tag != "":
		a.Reference = a.Repository + ":" + a.Tag
	case a.Digest != "":
		a.Reference = a.Repository + "@" + a.Digest
	}
	return a, nil
}

// isTag reports whether s is an image tag:
// [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
func isTag(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || i > 0 && (r == '.' || r == '-')) {
			return false
		}
	}
	return true
}

// isDigest reports whether s is a content digest Reflex keeps:
// "sha256:" and 64 lower-case hex digits, or "sha512:" and 128.
func isDigest(s string) bool {
	alg, hex, ok := strings.Cut(s, ":")
	switch {
	case !ok:
		return false
	case alg == "sha256" && len(hex) == 64, alg == "sha512" && len(hex) == 128:
	default:
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
