// Package jsonvalid tells whether a document is JSON (RFC 8259) in valid
// UTF-8, in one pass and without allocating: what Reflex requires of a
// payload it stores and serves as JSON, at a fraction of what
// encoding/json.Valid costs. Fast decoders skip what they do not decode
// without checking it, so a payload they accept is checked here too.
package jsonvalid

import (
	"encoding/binary"
	"unicode/utf8"
)

// maxDepth bounds nesting, as encoding/json does, so that a hostile
// document cannot exhaust the stack.
const maxDepth = 10000

// Valid reports whether data is one JSON value, with optional white space
// around it, in valid UTF-8.
func Valid(data []byte) bool {
	v := validator{data: data}
	v.space()
	if !v.value(0) {
		return false
	}
	v.space()
	return v.i == len(v.data)
}

// plain marks the bytes a string holds as they are: ASCII, not a control
// character, a quote or a backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

type validator struct {
	data []byte
	i    int
}

func (v *validator) space() {
	for v.i < len(v.data) {
		switch v.data[v.i] {
		case ' ', '\t', '\n', '\r':
			v.i++
		default:
			return
		}
	}
}

func (v *validator) value(depth int) bool {
	if v.i >= len(v.data) {
		return false
	}
	switch c := v.data[v.i]; {
	case c == '{':
		return depth < maxDepth && v.object(depth+1)
	case c == '[':
		return depth < maxDepth && v.array(depth+1)
	case c == '"':
		return v.str()
	case c == '-' || c >= '0' && c <= '9':
		return v.number()
	case c == 't':
		return v.word("true")
	case c == 'f':
		return v.word("false")
	case c == 'n':
		return v.word("null")
	}
	return false
}

func (v *validator) word(w string) bool {
	if len(v.data)-v.i < len(w) || string(v.data[v.i:v.i+len(w)]) != w {
		return false
	}
	v.i += len(w)
	return true
}

// container checks an object or an array from its opening bracket to
// close: members separated by commas, each checked by member.
func (v *validator) container(close byte, member func() bool) bool {
	v.i++ // { or [
	v.space()
	if v.i < len(v.data) && v.data[v.i] == close {
		v.i++
		return true
	}
	for {
		if !member() {
			return false
		}
		v.space()
		if v.i >= len(v.data) {
			return false
		}
		switch v.data[v.i] {
		case ',':
			v.i++
			v.space()
		case close:
			v.i++
			return true
		default:
			return false
		}
	}
}

func (v *validator) object(depth int) bool {
	return v.container('}', func() bool {
		if v.i >= len(v.data) || v.data[v.i] != '"' || !v.str() {
			return false
		}
		v.space()
		if v.i >= len(v.data) || v.data[v.i] != ':' {
			return false
		}
		v.i++
		v.space()
		return v.value(depth)
	})
}

func (v *validator) array(depth int) bool {
	return v.container(']', func() bool { return v.value(depth) })
}

// str checks a string, its quotes included: no control character, known
// escapes only, valid UTF-8.
func (v *validator) str() bool {
	v.i++ // "
	for v.i < len(v.data) {
		v.i = skipPlain(v.data, v.i)
		if v.i >= len(v.data) {
			return false
		}
		c := v.data[v.i]
		switch {
		case c == '"':
			v.i++
			return true
		case c == '\\':
			if v.i+1 >= len(v.data) {
				return false
			}
			switch v.data[v.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				v.i += 2
			case 'u':
				if v.i+6 > len(v.data) {
					return false
				}
				for _, h := range v.data[v.i+2 : v.i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				v.i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		case c < utf8.RuneSelf:
			v.i++
		default:
			r, size := utf8.DecodeRune(v.data[v.i:])
			if r == utf8.RuneError && size == 1 {
				return false
			}
			v.i += size
		}
	}
	return false
}

// skipPlain returns the position of the first byte from i on that is
// not plain, or len(data): eight bytes at a time while none of them is.
func skipPlain(data []byte, i int) int {
	for i+8 <= len(data) && !special8(binary.LittleEndian.Uint64(data[i:])) {
		i += 8
	}
	for i < len(data) && plain[data[i]] {
		i++
	}
	return i
}

// special8 reports whether any of the eight bytes in x is not plain: a
// quote, a backslash, a control byte or a byte of a multi-byte rune. The
// byte-wise tests are the classic ones (a byte below n sets its top bit
// in (x - n*lsb) &^ x); a borrow can only flag a byte above one truly
// flagged, so the answer for the eight is exact.
func special8(x uint64) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	quote, backslash := x^(lsb*'"'), x^(lsb*'\\')
	return ((x-lsb*0x20)&^x|(quote-lsb)&^quote|(backslash-lsb)&^backslash|x)&msb != 0
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (v *validator) number() bool {
	if v.data[v.i] == '-' {
		v.i++
	}
	if v.i >= len(v.data) {
		return false
	}
	switch c := v.data[v.i]; {
	case c == '0':
		v.i++
	case c >= '1' && c <= '9':
		v.digits()
	default:
		return false
	}
	if v.i < len(v.data) && v.data[v.i] == '.' {
		v.i++
		if !v.digits() {
			return false
		}
	}
	if v.i < len(v.data) && (v.data[v.i] == 'e' || v.data[v.i] == 'E') {
		v.i++
		if v.i < len(v.data) && (v.data[v.i] == '+' || v.data[v.i] == '-') {
			v.i++
		}
		if !v.digits() {
			return false
		}
	}
	return true
}

// digits takes one digit or more.
func (v *validator) digits() bool {
	start := v.i
	for v.i < len(v.data) && v.data[v.i] >= '0' && v.data[v.i] <= '9' {
		v.i++
	}
	return v.i > start
}
