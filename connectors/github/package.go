package github

import (
	"fmt"
	"strings"

	"github.com/reflexops/reflex/connectors/convert"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// packagePayload is the part of a package or registry_package event that
// Reflex reads.
type packagePayload struct {
	Action          string        `json:"action"`
	Package         *packageBlock `json:"package"`
	RegistryPackage *packageBlock `json:"registry_package"`
	Repository      *repository   `json:"repository"`
	Sender          account       `json:"sender"`
}

type packageBlock struct {
	Name           string `json:"name"`
	Namespace      string `json:"namespace"`
	Ecosystem      string `json:"ecosystem"`
	PackageType    string `json:"package_type"`
	PackageVersion *struct {
		Version           string `json:"version"`
		HTMLURL           string `json:"html_url"`
		PackageURL        string `json:"package_url"`
		TargetOID         string `json:"target_oid"`
		ContainerMetadata *struct {
			Tag struct {
				Name   string `json:"name"`
				Digest string `json:"digest"`
			} `json:"tag"`
			Labels struct {
				All map[string]string `json:"all_labels"`
			} `json:"labels"`
			Manifest struct {
				Digest string `json:"digest"`
			} `json:"manifest"`
		} `json:"container_metadata"`
	} `json:"package_version"`
}

// revisionLabel is the OCI label that names the commit an image was built from.
const revisionLabel = "org.opencontainers.image.revision"

// normalizePackage returns the normalizer of the package event (current
// name) or registry_package (older name), which carry the same block under
// different keys.
func normalizePackage(typ string) normalizer {
	return func(payload []byte, ev *event.Event) error {
		var p packagePayload
		if err := decode(payload, &p); err != nil {
			return malformed(typ, err)
		}
		pkg := p.Package
		if typ == "registry_package" {
			pkg = p.RegistryPackage
		}
		if pkg == nil {
			return fmt.Errorf("%w: the %s payload has no %s block", connectors.ErrMalformed, typ, typ)
		}
		setRepo(ev, p.Repository)
		ev.Actor = p.Sender.Login
		ev.Action = p.Action
		ev.Artifact = artifactOf(pkg)
		if v := pkg.PackageVersion; v != nil {
			ev.URL = v.HTMLURL
			ev.Commit = v.TargetOID
			if m := v.ContainerMetadata; m != nil && m.Labels.All[revisionLabel] != "" {
				ev.Commit = m.Labels.All[revisionLabel]
			}
			ev.Tag = ev.Artifact.Tag
		}
		switch p.Action {
		case "published", "updated":
			ev.Kind = event.KindArtifactPublished
		default:
			ev.Kind = event.KindOther
		}
		return nil
	}
}

// artifactOf describes the published package version. For container images
// the repository and reference come from package_url ("ghcr.io/o/n:tag"),
// which GitHub leaves ending in ":" when a push carried no tag: the image is
// then referenced by digest.
func artifactOf(pkg *packageBlock) *event.Artifact {
	a := &event.Artifact{Type: strings.ToLower(pkg.PackageType)}
	if a.Type == "" {
		a.Type = strings.ToLower(pkg.Ecosystem)
	}
	v := pkg.PackageVersion
	if v == nil {
		a.Repository = pkg.Name
		return a
	}
	m := v.ContainerMetadata
	if a.Type == "docker" || m != nil {
		a.Type = "container"
	}
	if a.Type != "container" {
		a.Repository = pkg.Name
		if pkg.Namespace != "" {
			a.Repository = pkg.Namespace + "/" + pkg.Name
		}
		a.Version = v.Version
		return a
	}
	a.Repository = imageRepository(v.PackageURL)
	if a.Repository == "" {
		a.Repository = pkg.Namespace + "/" + pkg.Name
	}
	if m != nil {
		a.Tag = m.Tag.Name
		a.Digest = convert.First(m.Tag.Digest, m.Manifest.Digest)
	}
	if a.Digest == "" && strings.HasPrefix(v.Version, "sha256:") {
		a.Digest = v.Version
	}
	switch {
	case a.Tag != "":
		a.Reference = a.Repository + ":" + a.Tag
	case a.Digest != "":
		a.Reference = a.Repository + "@" + a.Digest
	}
	return a
}

// imageRepository strips the tag or digest from an image reference.
func imageRepository(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		ref = ref[:i]
	}
	return ref
}
