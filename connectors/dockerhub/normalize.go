package dockerhub

import (
	"fmt"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/imageref"
	"github.com/reflexops/reflex/event"
)

// registryHost is the registry Docker Hub's images are named by.
const registryHost = "docker.io"

// officialNamespace is the namespace of Docker Hub's official images,
// which Docker names without it ("nginx" is "library/nginx").
const officialNamespace = "library"

// pushPayload is the part of a Docker Hub webhook the connector reads.
// callback_url is left alone: see the package documentation.
type pushPayload struct {
	PushData struct {
		Pusher string `json:"pusher"`
		Tag    string `json:"tag"`
	} `json:"push_data"`
	Repository struct {
		RepoName  string `json:"repo_name"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
		RepoURL   string `json:"repo_url"`
	} `json:"repository"`
}

// normalize fills ev from a push: the image pushed, by its full name
// (docker.io/<namespace>/<name>), and its tag. Docker Hub names no digest,
// so the event says the digest is missing: the tag may have moved by the
// time anything acts on it.
func normalize(p *pushPayload, ev *event.Event) error {
	repo, err := imageName(p)
	if err != nil {
		return err
	}
	tag := p.PushData.Tag
	if tag == "" {
		return fmt.Errorf("%w: the payload's push_data.tag is missing", connectors.ErrMalformed)
	}
	if !imageref.ValidTag(tag) {
		return fmt.Errorf("%w: the payload's push_data.tag is not a Docker tag (letters, digits, '_', '.' and '-', at most 128)", connectors.ErrMalformed)
	}
	image := registryHost + "/" + repo
	ev.Kind = event.KindArtifactPublished
	ev.Actor = p.PushData.Pusher
	ev.URL = p.Repository.RepoURL
	ev.Tag = tag
	ev.Artifact = &event.Artifact{
		Type:          "container",
		Repository:    image,
		Tag:           tag,
		DigestMissing: true,
		Reference:     image + ":" + tag,
	}
	return nil
}

// imageName returns the repository's name within Docker Hub,
// "<namespace>/<name>": from namespace and name, or else from repo_name,
// where an official image has no namespace ("nginx" is
// "library/nginx"). Each part must be a registry's name component.
func imageName(p *pushPayload) (string, error) {
	r := &p.Repository
	namespace, name, what := r.Namespace, r.Name, "namespace and name"
	if namespace == "" && name == "" {
		what = "repo_name"
		if r.RepoName == "" {
			return "", fmt.Errorf("%w: the payload's repository names no repository (repo_name, or namespace and name)", connectors.ErrMalformed)
		}
		var ok bool
		if namespace, name, ok = strings.Cut(r.RepoName, "/"); !ok {
			namespace, name = officialNamespace, r.RepoName
		}
	}
	if !imageref.ValidComponent(namespace) || !imageref.ValidComponent(name) {
		return "", fmt.Errorf("%w: the payload's repository %s is not a Docker Hub repository name (lower-case letters and digits, separated by '.', '_' or '-')", connectors.ErrMalformed, what)
	}
	return namespace + "/" + name, nil
}
