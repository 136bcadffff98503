package pathnorm

import (
	"errors"
	"fmt"

	"github.com/reflexops/reflex/connectors"
)

// node is one place in a document that some path reaches: the slots its
// value fills when a path ends here, the members or items paths go on
// to, and every slot at or under it.
type node struct {
	slots   []int
	members []member
	items   []item
	subtree []int
}

type member struct {
	name string
	node *node
}

type item struct {
	index int
	node  *node
}

// add adds p's steps under n, ending in slot.
func (n *node) add(p path, slot int) {
	for _, st := range p.steps {
		n.subtree = append(n.subtree, slot)
		n = n.child(st)
	}
	n.subtree = append(n.subtree, slot)
	n.slots = append(n.slots, slot)
}

// child returns (adding it) the node a step leads to.
func (n *node) child(st step) *node {
	if st.index >= 0 {
		for _, it := range n.items {
			if it.index == st.index {
				return it.node
			}
		}
		c := &node{}
		n.items = append(n.items, item{st.index, c})
		return c
	}
	for _, m := range n.members {
		if m.name == st.name {
			return m.node
		}
	}
	c := &node{}
	n.members = append(n.members, member{st.name, c})
	return c
}

// member returns the node of the member named by the raw (still quoted
// inside, unescaped when escaped is true) key, or nil.
func (n *node) member(key []byte, escaped bool) *node {
	if escaped {
		var s string
		if connectors.Decode(key, &s) != nil {
			return nil
		}
		key = []byte(s)
	} else {
		key = key[1 : len(key)-1]
	}
	for _, m := range n.members {
		if string(key) == m.name {
			return m.node
		}
	}
	return nil
}

// item returns the node of the array's i-th item, or nil.
func (n *node) item(i int) *node {
	for _, it := range n.items {
		if it.index == i {
			return it.node
		}
	}
	return nil
}

// The kinds of value a slot holds.
const (
	kindNone byte = iota
	kindString
	kindNumber
	kindBool
)

// value is a scalar a path found: where its JSON text lies in the
// document, quotes included for a string. It holds offsets rather than a
// slice, so that the values of a read stay on the stack.
type value struct {
	start, end int
	kind       byte
	escaped    bool
}

// text returns the value as a string: a string unescaped, a number or a
// boolean as written. doc is the document the value was read from.
func (v value) text(doc []byte) string {
	raw := doc[v.start:v.end]
	switch {
	case v.kind == kindNone:
		return ""
	case v.kind != kindString:
		return string(raw)
	case !v.escaped:
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if connectors.Decode(raw, &s) != nil {
		return ""
	}
	return s
}

// errEnd reports a document that ends inside a value.
var errEnd = errors.New("the document ends early")

// reader walks a document along a tree of nodes, filling slots.
type reader struct {
	data []byte
	i    int
	vals []value
}

// read fills vals from data; it fails when data is not one JSON value.
func (r *reader) read(root *node) error {
	if err := r.value(root); err != nil {
		return err
	}
	r.space()
	if r.i != len(r.data) {
		return fmt.Errorf("unexpected %q after the document at %d", r.data[r.i], r.i)
	}
	return nil
}

func (r *reader) space() {
	for r.i < len(r.data) {
		switch r.data[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// value reads the value at r.i for n.
func (r *reader) value(n *node) error {
	r.space()
	if r.i >= len(r.data) {
		return errEnd
	}
	start := r.i
	var v value
	switch c := r.data[r.i]; {
	case c == '{' && len(n.members) > 0:
		return r.object(n)
	case c == '[' && len(n.items) > 0:
		return r.array(n)
	case c == '{' || c == '[':
		return r.skip()
	case c == '"':
		escaped, err := r.str()
		if err != nil {
			return err
		}
		v = value{kind: kindString, escaped: escaped}
	default:
		lit, err := r.literal()
		if err != nil {
			return err
		}
		v.kind = lit
	}
	if v.kind != kindNone {
		v.start, v.end = start, r.i
		for _, s := range n.slots {
			r.vals[s] = v
		}
	}
	return nil
}

// object reads the object at r.i, following the members n names and
// skipping the others.
func (r *reader) object(n *node) error {
	r.i++
	r.space()
	if r.i < len(r.data) && r.data[r.i] == '}' {
		r.i++
		return nil
	}
	for {
		r.space()
		if r.i >= len(r.data) || r.data[r.i] != '"' {
			return r.unexpected("a member name")
		}
		start := r.i
		escaped, err := r.str()
		if err != nil {
			return err
		}
		key := r.data[start:r.i]
		r.space()
		if r.i >= len(r.data) || r.data[r.i] != ':' {
			return r.unexpected("':'")
		}
		r.i++
		if c := n.member(key, escaped); c != nil {
			// A repeated member replaces what an earlier one held, as
			// encoding/json decides.
			for _, slot := range c.subtree {
				r.vals[slot] = value{}
			}
			err = r.value(c)
		} else {
			err = r.skip()
		}
		if err != nil {
			return err
		}
		if done, err := r.next('}'); done || err != nil {
			return err
		}
	}
}

// array reads the array at r.i, following the items n names and
// skipping the others.
func (r *reader) array(n *node) error {
	r.i++
	r.space()
	if r.i < len(r.data) && r.data[r.i] == ']' {
		r.i++
		return nil
	}
	for i := 0; ; i++ {
		var err error
		if c := n.item(i); c != nil {
			err = r.value(c)
		} else {
			err = r.skip()
		}
		if err != nil {
			return err
		}
		if done, err := r.next(']'); done || err != nil {
			return err
		}
	}
}

// next reads the ',' between members or items, or the closing byte.
func (r *reader) next(closing byte) (done bool, err error) {
	r.space()
	if r.i < len(r.data) {
		switch r.data[r.i] {
		case ',':
			r.i++
			return false, nil
		case closing:
			r.i++
			return true, nil
		}
	}
	return false, r.unexpected(fmt.Sprintf("',' or '%c'", closing))
}

// skip passes over one value without reading it. It counts brackets
// rather than matching them: the intake checks the whole payload with
// connectors.CheckPayload.
func (r *reader) skip() error {
	r.space()
	if r.i >= len(r.data) {
		return errEnd
	}
	switch r.data[r.i] {
	case '"':
		_, err := r.str()
		return err
	case '{', '[':
	default:
		_, err := r.literal()
		return err
	}
	d, depth := r.data, 0
	for i := r.i; ; i++ {
		for i < len(d) && !skipStop[d[i]] {
			i++
		}
		if i >= len(d) {
			return errEnd
		}
		switch d[i] {
		case '"':
			r.i = i
			if _, err := r.str(); err != nil {
				return err
			}
			i = r.i - 1
		case '{', '[':
			depth++
		default:
			if depth--; depth == 0 {
				r.i = i + 1
				return nil
			}
		}
	}
}

// skipStop marks the bytes skip must look at: strings and brackets.
var skipStop = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true}

// strStop marks the bytes that end a run of a string's plain bytes.
var strStop = [256]bool{'"': true, '\\': true}

// str passes over the string at r.i, reporting whether it holds an
// escape.
func (r *reader) str() (escaped bool, err error) {
	d := r.data
	for i := r.i + 1; ; i += 2 {
		for i < len(d) && !strStop[d[i]] {
			i++
		}
		if i >= len(d) {
			return false, errEnd
		}
		if d[i] == '"' {
			r.i = i + 1
			return escaped, nil
		}
		escaped = true
	}
}

// literal passes over a number, true, false or null, and says which it
// was (kindNone for null).
func (r *reader) literal() (byte, error) {
	start := r.i
	for r.i < len(r.data) {
		c := r.data[r.i]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		r.i++
	}
	switch lit := r.data[start:r.i]; {
	case len(lit) == 0:
		r.i = start
		return kindNone, r.unexpected("a value")
	case string(lit) == "true" || string(lit) == "false":
		return kindBool, nil
	case string(lit) == "null":
		return kindNone, nil
	case lit[0] == '-' || lit[0] >= '0' && lit[0] <= '9':
		return kindNumber, nil
	}
	r.i = start
	return kindNone, r.unexpected("a value")
}

// unexpected describes the byte at r.i, where want was expected.
func (r *reader) unexpected(want string) error {
	if r.i >= len(r.data) {
		return errEnd
	}
	return fmt.Errorf("unexpected %q at %d, want %s", r.data[r.i], r.i, want)
}
