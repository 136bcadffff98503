package pubsub

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// The message attributes Cloud Build sets on its status messages.
const (
	AttrBuildID = "buildId"
	AttrStatus  = "status"
)

// normalize fills ev from a message's attributes and decoded data, and
// returns the payload to store: the data document for a message it
// recognises (a Cloud Build status message, an Artifact Registry
// notification), nil for any other (the envelope is stored then, with its
// attributes).
func normalize(attrs map[string]string, data []byte, ev *event.Event) ([]byte, error) {
	if isBuildMessage(attrs) {
		ev.Type = TypeCloudBuild
		return data, normalizeBuild(attrs, data, ev)
	}
	if n, ok := readNotification(data); ok {
		ev.Type = TypeGCR
		return data, normalizeRegistry(n, ev)
	}
	ev.Type = TypePubSub
	ev.Kind = event.KindUnnormalized
	return nil, nil
}

// typeOf returns the type normalize gives a message.
func typeOf(attrs map[string]string, data []byte) string {
	if isBuildMessage(attrs) {
		return TypeCloudBuild
	}
	if _, ok := readNotification(data); ok {
		return TypeGCR
	}
	return TypePubSub
}

// isBuildMessage reports whether a message's attributes are a Cloud Build
// status message's.
func isBuildMessage(attrs map[string]string) bool {
	return attrs[AttrBuildID] != "" && attrs[AttrStatus] != ""
}

// registryNotification is the data of an Artifact Registry (or Container
// Registry) notification: what happened to which image.
type registryNotification struct {
	Action string `json:"action"`
	Digest string `json:"digest"`
	Tag    string `json:"tag"`
}

// readNotification decodes data as a registry notification: a JSON
// object with an action and a digest or a tag.
func readNotification(data []byte) (*registryNotification, bool) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false
	}
	var n registryNotification
	if err := connectors.Decode(data, &n); err != nil || n.Action == "" || n.Digest == "" && n.Tag == "" {
		return nil, false
	}
	return &n, true
}

// normalizeRegistry reads a registry notification: INSERT (an image
// pushed, or a tag added to one) publishes the artifact; DELETE is other,
// with the artifact it removed. The image's repository, tag and digest
// come from the digest and tag references, which must name the same
// image.
func normalizeRegistry(n *registryNotification, ev *event.Event) error {
	a := &event.Artifact{Type: "container"}
	if n.Digest != "" {
		ref, err := parseReference(n.Digest)
		if err != nil || ref.digest == "" {
			return fmt.Errorf("%w: the notification's digest is not an image reference host/path@sha256:…", connectors.ErrMalformed)
		}
		a.Repository, a.Digest = ref.repository, ref.digest
	}
	if n.Tag != "" {
		ref, err := parseReference(n.Tag)
		if err != nil || ref.tag == "" {
			return fmt.Errorf("%w: the notification's tag is not an image reference host/path:tag", connectors.ErrMalformed)
		}
		if a.Repository != "" && a.Repository != ref.repository {
			return fmt.Errorf("%w: the notification's digest and tag name different images", connectors.ErrMalformed)
		}
		a.Repository, a.Tag = ref.repository, ref.tag
	}
	a.DigestMissing = a.Digest == ""
	a.Reference = reference(a)
	ev.Artifact = a
	switch n.Action {
	case "INSERT":
		ev.Kind, ev.Action = event.KindArtifactPublished, "inserted"
	case "DELETE":
		ev.Kind, ev.Action = event.KindOther, "deleted"
	default:
		ev.Kind, ev.Action = event.KindOther, lowerWord(n.Action)
	}
	return nil
}

// reference returns the reference to pull an artifact by: by digest when
// it has one, else by tag.
func reference(a *event.Artifact) string {
	switch {
	case a.Digest != "":
		return a.Repository + "@" + a.Digest
	case a.Tag != "":
		return a.Repository + ":" + a.Tag
	}
	return ""
}

// lowerWord returns an enum value of the provider (letters, digits and
// '_', at most 32) in lower case, or "" for anything else, so that an
// action is never a string the sender chose freely.
func lowerWord(s string) string {
	if s == "" || len(s) > 32 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return ""
		}
	}
	return strings.ToLower(s)
}
