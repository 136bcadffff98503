package artifactory

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// payload is a predefined webhook's event: the envelope and the fields of
// data the connector reads, for every domain it normalizes.
type payload struct {
	Domain    string `json:"domain"`
	EventType string `json:"event_type"`
	Data      data   `json:"data"`
	JPDOrigin string `json:"jpd_origin"`
	Source    string `json:"source"`
}

// data is what a docker or artifact event is about.
type data struct {
	RepoKey   string `json:"repo_key"`
	Path      string `json:"path"`
	Name      string `json:"name"`
	SHA256    string `json:"sha256"`
	ImageName string `json:"image_name"`
	Tag       string `json:"tag"`
}

// The domains the connector normalizes.
const (
	domainDocker   = "docker"
	domainArtifact = "artifact"
)

// kinds maps the normalized domain and event type pairs to their kind.
var kinds = map[[2]string]event.Kind{
	{domainDocker, "pushed"}:     event.KindArtifactPublished,
	{domainDocker, "deleted"}:    event.KindOther,
	{domainDocker, "promoted"}:   event.KindOther,
	{domainArtifact, "deployed"}: event.KindOther,
	{domainArtifact, "deleted"}:  event.KindOther,
}

// normalize sets the event's kind and artifact: a Docker tag, or a
// generic file; anything else is unnormalized.
func (c *Connector) normalize(p *payload, ev *event.Event) error {
	kind, ok := kinds[[2]string{p.Domain, p.EventType}]
	if !ok {
		ev.Kind = event.KindUnnormalized
		return nil
	}
	ev.Kind = kind
	host := c.host(p.JPDOrigin)
	var err error
	if p.Domain == domainDocker {
		ev.Artifact, err = image(host, &p.Data, ev.Type+" "+ev.Action)
		if ev.Artifact != nil {
			ev.Tag = ev.Artifact.Tag
		}
	} else {
		ev.Artifact, err = file(host, &p.Data, ev.Type+" "+ev.Action)
	}
	return err
}

// fallbackHost is the host of an image when neither the settings nor the
// payload name one.
const fallbackHost = "artifactory"

// host returns the registry host image names start with: the settings',
// else jpd_origin's (the platform URL), else fallbackHost.
func (c *Connector) host(origin string) string {
	if c.registryHost != "" {
		return c.registryHost
	}
	if u, err := url.Parse(origin); err == nil && (u.Scheme == "https" || u.Scheme == "http") && validHost(u.Host) {
		return strings.ToLower(u.Host)
	}
	return fallbackHost
}

// image describes a Docker tag: "<host>/<repo_key>/<image_name>", its tag
// and the digest of its manifest (data.sha256), by tag, else by digest.
func image(host string, d *data, what string) (*event.Artifact, error) {
	if err := checkPath("the "+what+" payload's data.repo_key", d.RepoKey, false); err != nil {
		return nil, err
	}
	if err := checkPath("the "+what+" payload's data.image_name", d.ImageName, true); err != nil {
		return nil, err
	}
	a := &event.Artifact{Type: "container", Repository: host + "/" + d.RepoKey + "/" + d.ImageName}
	if d.Tag != "" {
		if !isTag(d.Tag) {
			return nil, fmt.Errorf("%w: the %s payload's data.tag is not an image tag (letters, digits, '_', '.' and '-', at most 128)", connectors.ErrMalformed, what)
		}
		a.Tag = d.Tag
	}
	if isHexSHA256(d.SHA256) {
		a.Digest = "sha256:" + d.SHA256
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

// file describes a file in a repository: its type guessed from its name,
// "<host>/<repo_key>", a reference "<host>/<repo_key>/<path>" and its
// SHA-256.
func file(host string, d *data, what string) (*event.Artifact, error) {
	if err := checkPath("the "+what+" payload's data.repo_key", d.RepoKey, false); err != nil {
		return nil, err
	}
	if err := checkPath("the "+what+" payload's data.path", d.Path, true); err != nil {
		return nil, err
	}
	a := &event.Artifact{Type: fileType(d.Path), Repository: host + "/" + d.RepoKey}
	a.Reference = a.Repository + "/" + d.Path
	if isHexSHA256(d.SHA256) {
		a.Digest = "sha256:" + d.SHA256
	}
	return a, nil
}

// fileTypes maps file extensions to the package type they are.
var fileTypes = map[string]string{
	".jar": "maven", ".war": "maven", ".ear": "maven", ".aar": "maven", ".pom": "maven",
	".whl": "pypi", ".nupkg": "nuget", ".gem": "gem", ".deb": "deb", ".rpm": "rpm",
}

// fileType guesses a file's package type from its path: by extension, an
// npm tarball by its "<name>/-/" directory, a Docker manifest by its
// name; "generic" otherwise.
func fileType(p string) string {
	base := path.Base(p)
	switch {
	case base == "manifest.json" || base == "list.manifest.json":
		return "container"
	case strings.HasSuffix(base, ".tgz") && strings.Contains(p, "/-/"):
		return "npm"
	}
	if t, ok := fileTypes[strings.ToLower(path.Ext(base))]; ok {
		return t
	}
	return "generic"
}

// maxPath bounds a repository key, an image name or a file path.
const maxPath = 1024

// checkPath accepts a repository key (slashes false) or a path within
// one: letters, digits, '.', '_', '-', '+', '@' and, in a path, '/'
// between non-empty components that are not "." or "..".
func checkPath(what, s string, slashes bool) error {
	alphabet := "letters, digits, '.', '_', '-', '+' and '@'"
	if slashes {
		alphabet += " in components joined by '/'"
	}
	err := connectors.CheckValue(what, s, maxPath, func(_ int, r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("._-+@", r) || slashes && r == '/'
	}, alphabet)
	if err != nil {
		return err
	}
	for _, part := range strings.Split(s, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("%w: %s has an empty, \".\" or \"..\" component", connectors.ErrMalformed, what)
		}
	}
	return nil
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

// isHexSHA256 reports whether s is a SHA-256 in lower-case hex, as
// Artifactory writes checksums.
func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// actor returns the user of a payload's source, "jfrog/<user>".
func actor(source string) string {
	return strings.TrimPrefix(source, "jfrog/")
}
