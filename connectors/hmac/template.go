package hmac

import (
	"errors"
	"fmt"
	"strings"
)

// The placeholders of a signed_template.
const (
	placeBody      = "{body}"
	placeTimestamp = "{timestamp}"
	placeID        = "{id}"
)

// defaultTimestampTemplate is what is signed when a timestamp header is
// set and signed_template is not.
const defaultTimestampTemplate = placeTimestamp + "." + placeBody

// template is a compiled signed_template: literal text and placeholders,
// in order.
type template []part

// part is literal text, or one placeholder when place is set.
type part struct {
	literal string
	place   string
}

// parseTemplate compiles s: text with {body} exactly once, and
// {timestamp} or {id} at most once each; no other braces.
func parseTemplate(s string) (template, error) {
	var t template
	seen := map[string]bool{}
	for s != "" {
		i := strings.IndexAny(s, "{}")
		if i < 0 {
			t = append(t, part{literal: s})
			break
		}
		if i > 0 {
			t = append(t, part{literal: s[:i]})
		}
		var place string
		for _, p := range []string{placeBody, placeTimestamp, placeID} {
			if strings.HasPrefix(s[i:], p) {
				place = p
			}
		}
		if place == "" {
			bad := s[i : i+1]
			if end := strings.IndexByte(s[i:], '}'); s[i] == '{' && end > 0 && end < 32 {
				bad = s[i : i+end+1]
			}
			return nil, fmt.Errorf("%q is not a placeholder (known: {body}, {timestamp}, {id})", bad)
		}
		if seen[place] {
			return nil, fmt.Errorf("%s appears twice", place)
		}
		seen[place] = true
		t = append(t, part{place: place})
		s = s[i+len(place):]
	}
	if !seen[placeBody] {
		return nil, errors.New("the template must hold {body}")
	}
	return t, nil
}

// bodyOnly reports whether t signs the body alone.
func (t template) bodyOnly() bool { return len(t) == 1 && t[0].place == placeBody }

// uses reports whether t holds placeholder place.
func (t template) uses(place string) bool {
	for _, p := range t {
		if p.place == place {
			return true
		}
	}
	return false
}

// message returns the signed message: t with its placeholders filled.
func (t template) message(timestamp, id string, body []byte) []byte {
	n := len(body) + len(timestamp) + len(id)
	for _, p := range t {
		n += len(p.literal)
	}
	msg := make([]byte, 0, n)
	for _, p := range t {
		switch p.place {
		case placeBody:
			msg = append(msg, body...)
		case placeTimestamp:
			msg = append(msg, timestamp...)
		case placeID:
			msg = append(msg, id...)
		default:
			msg = append(msg, p.literal...)
		}
	}
	return msg
}
