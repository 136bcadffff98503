package acr

// maxComponent bounds one part of a repository name.
const maxComponent = 255

// validComponent reports whether s is one component of a repository name
// as the distribution specification writes it: lower-case letters and
// digits, separated by '.', '_' or '-', starting and ending with a letter
// or digit.
func validComponent(s string) bool {
	if s == "" || len(s) > maxComponent {
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

// maxTag is the longest tag the distribution specification allows.
const maxTag = 128

// validTag reports whether s is a tag as the distribution specification
// writes it: letters, digits, '_', '.' and '-', not starting with '.' or
// '-', at most 128 characters.
func validTag(s string) bool {
	if s == "" || len(s) > maxTag {
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

// validVersion reports whether s is a chart's version: a SemVer 2
// version ("5.4.0", "1.0.0-rc.1+build.7"), or the file name's tail the
// registry sends ("5.4.0.tgz"): letters, digits, '.', '_', '+' and '-',
// starting with a letter or digit, at most 128 characters.
func validVersion(s string) bool {
	if s == "" || len(s) > maxTag {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '+' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// validDigest reports whether s is a sha256 or sha512 digest in
// lower-case hex, as registries name manifests.
func validDigest(s string) bool {
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

// maxHost bounds a registry host.
const maxHost = 255

// validHost reports whether s is a registry host as an image reference
// names it: DNS labels of letters, digits and '-' joined by '.', and an
// optional ":port".
func validHost(s string) bool {
	name, port, hasPort := cutLast(s, ':')
	if name == "" || len(s) > maxHost || (hasPort && !digits(port)) {
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
