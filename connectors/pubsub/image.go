package pubsub

import (
	"errors"
	"strings"
)

// maxReference bounds an image reference.
const maxReference = 512

// imageRef is an image reference taken apart.
type imageRef struct {
	// repository is the image's full name with its registry host, e.g.
	// "us-docker.pkg.dev/acme-prod/containers/widget".
	repository string
	tag        string
	// digest is "sha256:" and 64 hex digits.
	digest string
}

// errReference is parseReference's one error; callers say which field.
var errReference = errors.New("not an image reference")

// parseReference reads "host/path[:tag][@sha256:hex]", the form Artifact
// Registry and Cloud Build name images in. The host is required (a
// registry-qualified name), so the repository reads the same as every
// other registry connector's.
func parseReference(s string) (imageRef, error) {
	var r imageRef
	if s == "" || len(s) > maxReference {
		return r, errReference
	}
	name := s
	if at := strings.IndexByte(s, '@'); at >= 0 {
		name, r.digest = s[:at], s[at+1:]
		if !isDigest(r.digest) {
			return r, errReference
		}
	}
	if colon := strings.LastIndexByte(name, ':'); colon > strings.LastIndexByte(name, '/') {
		name, r.tag = name[:colon], name[colon+1:]
		if !isTag(r.tag) {
			return r, errReference
		}
	}
	host, path, ok := strings.Cut(name, "/")
	if !ok || !isHost(host) || !isPath(path) {
		return r, errReference
	}
	r.repository = name
	return r, nil
}

// isDigest reports whether s is a SHA-256 content digest.
func isDigest(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isTag reports whether s is a tag: a word character, then up to 127 word
// characters, '.' and '-'.
func isTag(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(isAlnum(c) || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isHost reports whether s is a registry host: a DNS name with a dot, or
// localhost, with an optional port.
func isHost(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort {
		if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return false
		}
	}
	if host != "localhost" && !strings.Contains(host, ".") {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(isAlnum(c) || c == '-') {
				return false
			}
		}
	}
	return true
}

// isPath reports whether s is a repository path: '/'-separated components
// of lower-case letters and digits, joined by '.', '_', "__" or '-'.
func isPath(s string) bool {
	for _, comp := range strings.Split(s, "/") {
		if comp == "" || !isLowerAlnum(comp[0]) || !isLowerAlnum(comp[len(comp)-1]) {
			return false
		}
		for i := 0; i < len(comp); i++ {
			if c := comp[i]; !(isLowerAlnum(c) || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isLowerAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}
