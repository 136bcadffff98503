package acr

import "github.com/reflexops/reflex/connectors/imageref"

// validVersion reports whether s is a chart's version: a SemVer 2
// version ("5.4.0", "1.0.0-rc.1+build.7"), or the file name's tail the
// registry sends ("5.4.0.tgz"): letters, digits, '.', '_', '+' and '-',
// starting with a letter or digit, at most 128 characters.
func validVersion(s string) bool {
	if s == "" || len(s) > imageref.MaxTag {
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
