package gitea

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/reflexops/reflex/connectors/convert"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// normalizePackage reads a package event of Gitea's package registry: a
// version created is an artifact published, whatever the package type.
func normalizePackage(payload []byte, ev *event.Event) error {
	var p packagePayload
	if err := decode(payload, &p); err != nil {
		return malformed("package", err)
	}
	pkg := p.Package
	if pkg == nil {
		return fmt.Errorf("%w: the package payload has no package block", connectors.ErrMalformed)
	}
	setRepo(ev, p.Repository)
	ev.Action = p.Action
	ev.Actor = p.Sender.name()
	ev.URL = pkg.HTMLURL
	owner := pkg.Owner.name()
	a := &event.Artifact{Type: strings.ToLower(pkg.Type), Repository: pkg.Name}
	if owner != "" {
		a.Repository = owner + "/" + pkg.Name
	}
	if a.Type == "container" {
		containerArtifact(a, owner, pkg.Name, pkg.Version, pkg.HTMLURL)
		ev.Tag = a.Tag
	} else {
		a.Version = pkg.Version
	}
	ev.Artifact = a
	ev.Kind = convert.Pick(p.Action == "created", event.KindArtifactPublished, event.KindOther)
	return nil
}

// containerArtifact describes a container image version. The registry is
// served at the root of the instance's host, which the package's page
// (https://host/owner/-/packages/container/name/version) gives; image
// names are lower-case. A version pushed by digest alone is named by it.
func containerArtifact(a *event.Artifact, owner, name, version, page string) {
	if u, err := url.Parse(page); err == nil && u.Host != "" && owner != "" {
		a.Repository = strings.ToLower(u.Host + "/" + owner + "/" + name)
	}
	if strings.HasPrefix(version, "sha256:") {
		a.Digest = version
		a.Reference = a.Repository + "@" + version
		return
	}
	a.Tag = version
	if version != "" {
		a.Reference = a.Repository + ":" + version
	}
}
