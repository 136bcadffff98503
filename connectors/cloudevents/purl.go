package cloudevents

import (
	"net/url"
	"strings"

	"github.com/reflexops/reflex/event"
)

// purl is a package URL, pkg:type/namespace/name@version?qualifiers#subpath
// (https://github.com/package-url/purl-spec), the form CDEvents gives
// artifact ids in.
type purl struct {
	typ, namespace, name, version string
	query                         string
}

// qualifier returns the value of a qualifier, percent-decoded; "" when
// absent or undecodable.
func (p *purl) qualifier(key string) string {
	for q := p.query; q != ""; {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(pair, "=")
		if strings.EqualFold(k, key) {
			v, err := url.QueryUnescape(v)
			if err != nil {
				return ""
			}
			return v
		}
	}
	return ""
}

// parsePurl reads a package URL; ok is false when s is not one.
func parsePurl(s string) (p purl, ok bool) {
	rest, found := cutPrefixFold(s, "pkg:")
	if !found {
		return p, false
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	rest = strings.TrimLeft(rest, "/")
	typ, path, found := strings.Cut(rest, "/")
	if !found || typ == "" {
		return p, false
	}
	p.typ = strings.ToLower(typ)
	if at := strings.LastIndexByte(path, '@'); at >= 0 {
		path, p.version = path[:at], path[at+1:]
	}
	path = strings.Trim(path, "/")
	if slash := strings.LastIndexByte(path, '/'); slash >= 0 {
		p.namespace, p.name = path[:slash], path[slash+1:]
	} else {
		p.name = path
	}
	var err error
	for _, part := range []*string{&p.namespace, &p.name, &p.version} {
		if *part, err = url.PathUnescape(*part); err != nil {
			return p, false
		}
	}
	if p.name == "" {
		return p, false
	}
	p.query = query
	return p, true
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// artifactOf describes the artifact a CDEvents artifact id names. An OCI
// or Docker purl is a container image: its repository (the repository_url
// qualifier, else the name), digest and tag, and a reference to pull it
// by. Another purl is a package of its type, with its version. An id that
// is no purl is kept as the repository.
func artifactOf(id string) *event.Artifact {
	p, ok := parsePurl(id)
	if !ok {
		return &event.Artifact{Repository: id}
	}
	full := p.name
	if p.namespace != "" {
		full = p.namespace + "/" + p.name
	}
	switch p.typ {
	case "oci":
		a := &event.Artifact{Type: "container", Repository: p.name, Tag: p.qualifier("tag")}
		if repo := registryOf(&p); repo != "" {
			a.Repository = repo
		}
		if strings.Contains(p.version, ":") {
			a.Digest = p.version
		}
		a.Reference = imageReference(a)
		return a
	case "docker":
		a := &event.Artifact{Type: "container", Repository: full}
		if registry := registryOf(&p); registry != "" {
			a.Repository = registry + "/" + full
		}
		if strings.Contains(p.version, ":") {
			a.Digest = p.version
		} else {
			a.Tag = p.version
		}
		a.Reference = imageReference(a)
		return a
	}
	return &event.Artifact{Type: p.typ, Repository: full, Version: p.version, Reference: id}
}

// registryOf returns the repository_url qualifier without a scheme, as an
// image reference writes it.
func registryOf(p *purl) string {
	repo := p.qualifier("repository_url")
	for _, scheme := range []string{"https://", "http://"} {
		repo, _ = cutPrefixFold(repo, scheme)
	}
	return strings.TrimRight(repo, "/")
}

// imageReference returns the reference to pull an image by: its digest
// when known, else its tag.
func imageReference(a *event.Artifact) string {
	switch {
	case a.Digest != "":
		return a.Repository + "@" + a.Digest
	case a.Tag != "":
		return a.Repository + ":" + a.Tag
	}
	return ""
}
