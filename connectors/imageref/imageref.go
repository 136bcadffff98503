// Package imageref checks the parts of a container image reference (the
// repository name's components, a tag, a digest, a registry host) by the
// grammar of the OCI Distribution Specification
// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md),
// so that what a registry's webhook names is read alike by every
// connector, and nothing else passes for an image.
package imageref

// MaxComponent bounds one part of a repository name.
const MaxComponent = 255

// ValidComponent reports whether s is one component of a repository name
// as the distribution specification writes it: lower-case letters and
// digits, separated by '.', '_' or '-', starting and ending with a letter
// or digit.
func ValidComponent(s string) bool {
	if s == "" || len(s) > MaxComponent {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// MaxTag is the longest tag the distribution specification allows.
const MaxTag = 128

// ValidTag reports whether s is a tag as the distribution specification
// writes it: letters, digits, '_', '.' and '-', not starting with '.' or
// '-', at most 128 characters.
func ValidTag(s string) bool {
	if s == "" || len(s) > MaxTag {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// ValidDigest reports whether s is a sha256 or sha512 digest in
// lower-case hex, as registries name manifests.
func ValidDigest(s string) bool {
	var hex string
	switch {
	case len(s) == len("sha256:")+64 && s[:7] == "sha256:":
		hex = s[7:]
	case len(s) == len("sha512:")+128 && s[:7] == "sha512:":
		hex = s[7:]
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

// MaxHost bounds a registry host.
const MaxHost = 255

// ValidHost reports whether s is a registry host as an image reference
// names it: DNS labels of letters, digits and '-' joined by '.', and an
// optional ":port".
func ValidHost(s string) bool {
	name, port, hasPort := cutLast(s, ':')
	if name == "" || len(s) > MaxHost || (hasPort && !digits(port)) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(name)-1 && name[i-1] != '.' && name[i+1] != '.':
		case c == '.' && i > 0 && i < len(name)-1 && name[i-1] != '.':
		default:
			return false
		}
	}
	return true
}

// cutLast cuts s around the last sep.
func cutLast(s string, sep byte) (before, after string, found bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// digits reports whether s is 1 to 5 decimal digits.
func digits(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
