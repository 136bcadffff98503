package pathnorm

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// UnknownType is the event type of a payload that holds none where the
// type path points: the delivery is genuine, so it is kept, as
// event.KindUnnormalized unless settings.kinds maps "unknown".
const UnknownType = "unknown"

// MaxType is the longest event type kept.
const MaxType = 128

// CheckType checks an event type taken from a payload or a header: at
// most MaxType letters, digits, '.', '_', '-' and ':'. what names where it
// came from in the error, which wraps connectors.ErrMalformed.
func CheckType(what, typ string) error {
	return connectors.CheckValue(what, typ, MaxType, typeRune, "letters, digits, '.', '_', '-' and ':'")
}

func typeRune(_ int, r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' || r == ':'
}

// DefaultNormalize returns the paths used when a source sets no
// normalize: best-effort guesses at the members many senders use for the
// common fields (the top level and under "data"). It names no kind, build,
// change, release, artifact or deployment field: those take the sender's
// own paths.
func DefaultNormalize() map[string]string {
	return map[string]string{
		"action":                    "action|data.action",
		"repository":                "repository.full_name|repository.path_with_namespace|data.repository.full_name|repository|data.repository",
		"repository.url":            "repository.html_url|repository.web_url|data.repository.html_url|data.repository.web_url",
		"repository.default_branch": "repository.default_branch|data.repository.default_branch",
		"ref":                       "ref|data.ref",
		"branch":                    "branch|data.branch",
		"tag":                       "tag|data.tag",
		"commit":                    "after|commit|commit.sha|sha|data.after|data.commit|data.commit.sha|data.sha",
		"before":                    "before|data.before",
		"actor":                     "sender.login|actor.login|actor|user.login|data.sender.login|data.actor.login|data.actor|data.user.login",
		"url":                       "html_url|url|data.html_url|data.url",
	}
}

// Config is what a Spec is compiled from: a connector's settings.
type Config struct {
	// Type is the path (or '|' alternatives) of the event type in the
	// payload; empty when the connector sets Event.Type itself, from a
	// header.
	Type string
	// Normalize maps field names (Fields) to paths. Nil takes
	// DefaultNormalize; an empty map fills no field.
	Normalize map[string]string
	// Kinds maps event types to kind names (event.Kinds).
	Kinds map[string]string
}

// Spec is a compiled Config: the paths a payload is read along, in one
// pass, and the kinds of its event types. It is safe for concurrent use.
type Spec struct {
	root     node
	nslots   int
	typ      []int
	typePath path
	fields   []fieldSlots
	kinds    map[string]event.Kind
}

// fieldSlots are the slots of a field's alternatives, in order.
type fieldSlots struct {
	id    fieldID
	slots []int
}

// Compile checks and compiles c. Its errors name the setting as the
// connectors call it, "event_type: …", "normalize.<field>: …" or
// "kinds.<type>: …", for the caller to prefix with "settings.".
func Compile(c Config) (*Spec, error) {
	s := &Spec{}
	if c.Type != "" {
		paths, err := parseAlternatives(c.Type)
		if err != nil {
			return nil, fmt.Errorf("event_type: %w", err)
		}
		s.typ, s.typePath = s.addSlots(paths), paths[0]
	}
	normalize := c.Normalize
	if normalize == nil {
		normalize = DefaultNormalize()
	}
	for _, name := range slices.Sorted(maps.Keys(normalize)) {
		id, ok := fieldByName(name)
		if !ok {
			return nil, fmt.Errorf("normalize.%s: is not a field (known: %s)", name, fieldNames())
		}
		paths, err := parseAlternatives(normalize[name])
		if err != nil {
			return nil, fmt.Errorf("normalize.%s: %w", name, err)
		}
		s.fields = append(s.fields, fieldSlots{id: id, slots: s.addSlots(paths)})
	}
	// Fill in the order of the event model, whatever the map's order.
	slices.SortFunc(s.fields, func(a, b fieldSlots) int { return int(a.id) - int(b.id) })
	s.kinds = make(map[string]event.Kind, len(c.Kinds))
	for _, typ := range slices.Sorted(maps.Keys(c.Kinds)) {
		if err := CheckType("the event type", typ); err != nil {
			return nil, fmt.Errorf("kinds.%s: %w", typ, err)
		}
		kind := event.Kind(c.Kinds[typ])
		if !event.KnownKind(kind) {
			return nil, fmt.Errorf("kinds.%s: %q is not a kind (known: %s)", typ, kind, kindNames())
		}
		s.kinds[typ] = kind
	}
	return s, nil
}

// addSlots adds paths to the tree, returning their slots.
func (s *Spec) addSlots(paths []path) []int {
	slots := make([]int, len(paths))
	for i, p := range paths {
		slots[i] = s.nslots
		s.root.add(p, s.nslots)
		s.nslots++
	}
	return slots
}

func fieldNames() string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

func kindNames() string {
	var names []string
	for _, k := range event.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// maxStackSlots is how many slots a read keeps on the stack.
const maxStackSlots = 48

// read reads every path of s from payload into buf, or a larger slice
// when s has more slots. Errors wrap connectors.ErrMalformed.
func (s *Spec) read(payload []byte, buf *[maxStackSlots]value) ([]value, error) {
	var vals []value
	if s.nslots <= maxStackSlots {
		vals = buf[:s.nslots]
	} else {
		vals = make([]value, s.nslots)
	}
	r := reader{data: payload, vals: vals}
	if err := r.read(&s.root); err != nil {
		return nil, fmt.Errorf("%w: the payload is not a JSON document: %v", connectors.ErrMalformed, err)
	}
	return vals, nil
}

// first returns the first value found among slots.
func first(vals []value, slots []int) (value, bool) {
	for _, i := range slots {
		if vals[i].kind != kindNone {
			return vals[i], true
		}
	}
	return value{}, false
}

// Apply reads payload along s and fills ev: its type (when s has a type
// path), the fields, and its kind. ev.Type must be set beforehand when s
// has no type path. Errors wrap connectors.ErrMalformed: a payload that
// is not JSON, or a type that is not a safe name.
func (s *Spec) Apply(payload []byte, ev *event.Event) error {
	var buf [maxStackSlots]value
	vals, err := s.read(payload, &buf)
	if err != nil {
		return err
	}
	if s.typ != nil {
		ev.Type = UnknownType
		if v, ok := first(vals, s.typ); ok {
			ev.Type = v.text(payload)
			if err := CheckType("the payload's event type", ev.Type); err != nil {
				return err
			}
		}
	}
	t := target{ev: ev}
	s.fill(&t, payload, vals)
	s.finish(&t)
	return nil
}

// fill sets the fields whose paths found a value. The texts of the values
// are copied out of the payload into one string, which the fields then
// share: one allocation rather than one per field.
func (s *Spec) fill(t *target, payload []byte, vals []value) {
	var found [numFields]value
	size := 0
	for _, f := range s.fields {
		if v, ok := first(vals, f.slots); ok {
			found[f.id] = v
			size += v.end - v.start
		}
	}
	var b strings.Builder
	b.Grow(size)
	var spans [numFields][2]int
	for id, v := range found {
		if v.kind == kindNone || v.escaped {
			continue
		}
		raw := payload[v.start:v.end]
		if v.kind == kindString {
			raw = raw[1 : len(raw)-1]
		}
		spans[id][0] = b.Len()
		b.Write(raw)
		spans[id][1] = b.Len()
	}
	texts := b.String()
	for id, v := range found {
		switch {
		case v.kind == kindNone:
		case v.escaped:
			t.set(fieldID(id), v.kind, v.text(payload))
		default:
			t.set(fieldID(id), v.kind, texts[spans[id][0]:spans[id][1]])
		}
	}
}

// Type returns the event type payload holds along the type path, "" when
// it holds none, is not JSON, or s has no type path.
func (s *Spec) Type(payload []byte) string {
	var buf [maxStackSlots]value
	vals, err := s.read(payload, &buf)
	if err != nil {
		return ""
	}
	v, _ := first(vals, s.typ)
	return v.text(payload)
}

// finish completes and attaches what t collected, and sets the kind.
func (s *Spec) finish(t *target) {
	ev := t.ev
	ev.Kind = event.KindUnnormalized
	if k, ok := s.kinds[ev.Type]; ok {
		ev.Kind = k
	} else if k := event.Kind(t.kind); k != "" && event.KnownKind(k) {
		ev.Kind = k
	}
	completeRefs(ev)
	if t.repo.Name != "" {
		repo := t.repo
		ev.Repository = &repo
	}
	if t.change != (event.Change{}) {
		c := t.change
		ev.Change = &c
	}
	if t.release != (event.Release{}) {
		r := t.release
		ev.Release = &r
	}
	if t.build != (event.Build{}) {
		b := t.build
		if b.Status == "" && b.Outcome != "" {
			b.Status = event.BuildFinished
		}
		ev.Build = &b
	}
	if t.artifact != (event.Artifact{}) {
		a := t.artifact
		if a.Reference == "" && a.Repository != "" {
			switch {
			case a.Tag != "":
				a.Reference = a.Repository + ":" + a.Tag
			case a.Digest != "":
				a.Reference = a.Repository + "@" + a.Digest
			}
		}
		ev.Artifact = &a
	}
	if t.deployment != (event.Deployment{}) {
		d := t.deployment
		ev.Deployment = &d
	}
}

// completeRefs fills the branch or tag a full ref names, and the ref of
// the branch or tag for the kinds whose GitHub events carry one: pushes,
// branch and tag events, change requests and releases.
func completeRefs(ev *event.Event) {
	if name, ok := strings.CutPrefix(ev.Ref, "refs/heads/"); ok && ev.Branch == "" {
		ev.Branch = name
	}
	if name, ok := strings.CutPrefix(ev.Ref, "refs/tags/"); ok && ev.Tag == "" {
		ev.Tag = name
	}
	if ev.Ref != "" {
		return
	}
	switch ev.Kind {
	case event.KindCodePushed, event.KindBranchCreated, event.KindBranchDeleted,
		event.KindChangeCreated, event.KindChangeUpdated, event.KindChangeMerged, event.KindChangeAbandoned:
		if ev.Branch != "" {
			ev.Ref = "refs/heads/" + ev.Branch
		}
	case event.KindTagCreated, event.KindTagDeleted, event.KindReleasePublished:
		if ev.Tag != "" {
			ev.Ref = "refs/tags/" + ev.Tag
		}
	}
}
