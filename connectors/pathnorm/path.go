package pathnorm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits of a path, so that a setting cannot make a reader deep or slow.
const (
	maxPathLen      = 256
	maxSteps        = 32
	maxIndex        = 9999
	maxAlternatives = 8
)

// path is a parsed JSON path: member names and array indexes from the
// root of a document.
type path struct {
	text  string
	steps []step
}

// step is one member name, or one array index when index >= 0.
type step struct {
	name  string
	index int
}

// String returns the path as it was written.
func (p path) String() string { return p.text }

// parsePath parses one path, e.g. "data.push.changes[0].new.name".
func parsePath(s string) (path, error) {
	p := path{text: s}
	if s == "" {
		return p, errors.New("the path is empty")
	}
	if len(s) > maxPathLen {
		return p, fmt.Errorf("the path is longer than %d characters", maxPathLen)
	}
	for i := 0; i < len(s); {
		if len(p.steps) == maxSteps {
			return p, fmt.Errorf("the path has more than %d steps", maxSteps)
		}
		switch c := s[i]; {
		case c == '[' && i+1 < len(s) && s[i+1] == '"':
			name, n, err := quotedName(s, i)
			if err != nil {
				return p, err
			}
			p.steps = append(p.steps, step{name: name, index: -1})
			i += n
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return p, fmt.Errorf("the '[' at %d has no ']'", i)
			}
			digits := s[i+1 : i+end]
			n, err := strconv.Atoi(digits)
			if err != nil || n < 0 || digits != strconv.Itoa(n) {
				return p, fmt.Errorf("the index at %d must be a number such as [0]", i)
			}
			if n > maxIndex {
				return p, fmt.Errorf("the index at %d is above %d", i, maxIndex)
			}
			p.steps = append(p.steps, step{index: n})
			i += end + 1
		case c == '.' && i > 0 && i+1 < len(s):
			i++
			fallthrough
		case len(p.steps) == 0 && c != '.':
			name, err := memberName(s, i)
			if err != nil {
				return p, err
			}
			p.steps = append(p.steps, step{name: name, index: -1})
			i += len(name)
		default:
			return p, fmt.Errorf("unexpected %q at %d: members are joined by '.' and indexes written [n]", c, i)
		}
	}
	return p, nil
}

// memberName returns the member name that starts at s[i].
func memberName(s string, i int) (string, error) {
	j := i
	for j < len(s) && s[j] != '.' && s[j] != '[' {
		if !nameByte(s[j]) {
			return "", fmt.Errorf("%q at %d cannot be part of a member name", s[j], j)
		}
		j++
	}
	if j == i {
		return "", fmt.Errorf("a member name is missing at %d", i)
	}
	return s[i:j], nil
}

// quotedName reads the ["name"] that starts at s[i], for a member name
// that holds '.' or another character a dotted path cannot, such as an
// OCI label's "org.opencontainers.image.revision". It returns the name
// and the length read.
func quotedName(s string, i int) (string, int, error) {
	end := strings.Index(s[i+2:], `"]`)
	if end < 0 {
		return "", 0, fmt.Errorf("the [\" at %d has no closing \"]", i)
	}
	name := s[i+2 : i+2+end]
	if name == "" {
		return "", 0, fmt.Errorf("the member name at %d is empty", i)
	}
	for j := 0; j < len(name); j++ {
		if c := name[j]; c < ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '|' {
			return "", 0, fmt.Errorf("%q at %d cannot be part of a quoted member name", c, i+2+j)
		}
	}
	return name, end + 4, nil
}

// nameByte reports whether c may be part of a member name: printable
// ASCII other than the path's own punctuation, quotes and backslash.
func nameByte(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`.[]|"\`, rune(c))
}

// parseAlternatives parses "a|b|c": paths tried in order.
func parseAlternatives(s string) ([]path, error) {
	parts := strings.Split(s, "|")
	if len(parts) > maxAlternatives {
		return nil, fmt.Errorf("more than %d alternatives", maxAlternatives)
	}
	paths := make([]path, 0, len(parts))
	for _, part := range parts {
		p, err := parsePath(strings.TrimSpace(part))
		if err != nil {
			if len(parts) > 1 {
				return nil, fmt.Errorf("%q: %w", part, err)
			}
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
