package convert

import (
	"net/url"
	"strings"

	"github.com/reflexops/reflex/event"
)

// maxRepositoryURL bounds the URL a repository is read from.
const maxRepositoryURL = 512

// RepositoryOf returns the repository a web or clone URL names, as the
// other connectors name repositories: Name is the path without ".git"
// ("owner/name", or "group/subgroup/name" on GitLab), URL the web page.
// It reads https and http URLs, ssh:// and git:// URLs and scp-like
// "git@host:owner/name.git"; the web page of the last three is taken to
// be https on the same host, as on GitHub, GitLab and Bitbucket. It
// returns nil for anything else, or for a path of fewer than two parts or
// with an empty, "." or ".." part.
func RepositoryOf(raw string) *event.Repository {
	if raw == "" || len(raw) > maxRepositoryURL {
		return nil
	}
	var host, path, web string
	if i := strings.Index(raw, "://"); i >= 0 {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil
		}
		switch scheme := strings.ToLower(raw[:i]); scheme {
		case "https", "http":
			host, web = u.Host, scheme+"://"
		case "ssh", "git", "git+ssh":
			host, web = u.Hostname(), "https://"
		default:
			return nil
		}
		path = u.Path
	} else {
		// scp-like: [user@]host:path, the host free of '/'.
		at, p, ok := strings.Cut(raw, ":")
		if !ok || strings.Contains(at, "/") {
			return nil
		}
		if i := strings.LastIndexByte(at, '@'); i >= 0 {
			at = at[i+1:]
		}
		host, path, web = at, p, "https://"
	}
	name := strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	if !validHost(host) || !validPath(name) {
		return nil
	}
	return &event.Repository{Name: name, URL: web + host + "/" + name}
}

// validPath reports whether a repository path has at least two parts, none
// empty, "." or "..", and no character that has no place in one.
func validPath(p string) bool {
	parts := 0
	for part := range strings.SplitSeq(p, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
		parts++
	}
	if parts < 2 {
		return false
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f || r == '\\' || r == '?' || r == '#' || r == '%' {
			return false
		}
	}
	return true
}

// validHost reports whether host is a host name or address, with a port
// perhaps.
func validHost(host string) bool {
	if host == "" {
		return false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':' || r == '[' || r == ']') {
			return false
		}
	}
	return true
}
