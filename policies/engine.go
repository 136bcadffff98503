package policies

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reflexops/reflex/state"
)

// TypeEvent is the target type of webhook events (receive, deliver).
const TypeEvent = "event"

// Check validates policy and scope objects before they are written: every
// expression must compile to bool. It is the state store's Check hook.
func Check(o *state.Object) error {
	switch o.Type {
	case state.TypePolicy:
		expr, _ := o.Content["expression"].(string)
		if _, err := Compile(expr); err != nil {
			return fmt.Errorf("%w: field expression: %v", state.ErrInvalid, err)
		}
	case state.TypeScope:
		_, err := compileScope(o)
		return err
	}
	return nil
}

// policy is a compiled policy object.
type policy struct {
	name string
	deny bool
	prg  *Program
}

// scope is a compiled scope object.
type scope struct {
	name     string
	global   bool
	sources  []string // empty: any source
	match    *Program // nil: matches every target
	policies []string
}

func compileScope(o *state.Object) (*scope, error) {
	s := &scope{name: o.Name, global: o.Content["mode"] == "global"}
	s.policies = o.Strings("policies")
	s.sources = o.Strings("sources")
	for _, t := range o.Strings("types") {
		if t != "*" && t != TypeEvent && !state.KnownType(t) {
			return nil, fmt.Errorf("%w: field types: %q is not a target type (event, *, or one of %s)", state.ErrInvalid, t, strings.Join(state.Types(), ", "))
		}
	}
	match, _ := o.Content["match"].(string)
	switch {
	case s.global && match != "":
		return nil, fmt.Errorf("%w: field match: a global scope covers whole types and has no match; make it targeted", state.ErrInvalid)
	case match != "":
		prg, err := CompileMatch(match)
		if err != nil {
			return nil, fmt.Errorf("%w: field match: %v", state.ErrInvalid, err)
		}
		s.match = prg
	}
	return s, nil
}

// snapshot is one compiled generation of the policies, scopes and groups.
type snapshot struct {
	gen uint64
	// asOf is the newest change in the change stream when the snapshot
	// was read: it reflects every change up to there.
	asOf     string
	policies map[string]*policy
	// index: action, then target type ("*" for scopes of every type), of
	// the scopes that name no source; bySource: action, target type, then
	// source, of the scopes that do.
	index    map[Action]map[string][]*scope
	bySource map[Action]map[string]map[string][]*scope
	groups   map[string][]string // API key name → group names
}

// add indexes a scope under an action and a target type.
func (snap *snapshot) add(act Action, typ string, s *scope) {
	if len(s.sources) == 0 {
		if snap.index[act] == nil {
			snap.index[act] = map[string][]*scope{}
		}
		snap.index[act][typ] = append(snap.index[act][typ], s)
		return
	}
	if snap.bySource[act] == nil {
		snap.bySource[act] = map[string]map[string][]*scope{}
	}
	if snap.bySource[act][typ] == nil {
		snap.bySource[act][typ] = map[string][]*scope{}
	}
	for _, src := range s.sources {
		snap.bySource[act][typ][src] = append(snap.bySource[act][typ][src], s)
	}
}

// candidates returns the scopes that may apply to a request: those of its
// action and target type (or of every type), and, for an event, those of
// its source. Only these have their match evaluated.
func (snap *snapshot) candidates(r Request) []*scope {
	out := append(slices.Clone(snap.index[r.Action][r.Type]), snap.index[r.Action]["*"]...)
	if r.Event != nil {
		out = append(out, snap.bySource[r.Action][r.Type][r.Event.Source]...)
		out = append(out, snap.bySource[r.Action]["*"][r.Event.Source]...)
	}
	return out
}

func newSnapshot(gen uint64) *snapshot {
	return &snapshot{
		gen: gen, policies: map[string]*policy{}, index: map[Action]map[string][]*scope{},
		bySource: map[Action]map[string]map[string][]*scope{}, groups: map[string][]string{},
	}
}

// Engine decides requests with the policies and scopes of the live state.
// It compiles them once per change and indexes scopes by action and target
// type, so a decision evaluates only the scopes that can apply.
type Engine struct {
	store *state.Store
	log   *slog.Logger
	snap  atomic.Pointer[snapshot]
	gen   atomic.Uint64
	// reload serializes reloads, so a slow one never replaces a newer
	// snapshot.
	reload sync.Mutex

	mu    sync.Mutex
	cache map[matchKey]bool // targeted scope match by object revision
}

type matchKey struct {
	gen                uint64
	scope, typ, action string
	id                 string // the object's id: a re-created object is another
	revision           int64
}

// maxCachedMatches bounds the match cache; beyond it, it is emptied.
const maxCachedMatches = 100_000

// NewEngine returns an engine; call Reload before use, and Run to follow
// changes.
func NewEngine(store *state.Store, log *slog.Logger) *Engine {
	e := &Engine{store: store, log: log, cache: map[matchKey]bool{}}
	e.snap.Store(newSnapshot(0))
	return e
}

// Reload reads and compiles every policy, scope and group.
func (e *Engine) Reload(ctx context.Context) error {
	e.reload.Lock()
	defer e.reload.Unlock()
	return e.reloadLocked(ctx)
}

// Sync makes the decisions that follow take every change up to changeID
// (a position in the change stream) into account: when the engine has not
// caught up with it yet, it reloads at once instead of waiting for its own
// follower. A watch stream calls it on a change of policies, scopes or
// groups before it sends what follows.
func (e *Engine) Sync(ctx context.Context, changeID string) error {
	if state.CompareChangeIDs(e.snap.Load().asOf, changeID) >= 0 {
		return nil
	}
	e.reload.Lock()
	defer e.reload.Unlock()
	if state.CompareChangeIDs(e.snap.Load().asOf, changeID) >= 0 {
		return nil // another caller reloaded meanwhile
	}
	return e.reloadLocked(ctx)
}

func (e *Engine) reloadLocked(ctx context.Context) error {
	asOf, err := e.store.LastChangeID(ctx)
	if err != nil {
		return fmt.Errorf("load policies: %w", err)
	}
	snap := newSnapshot(e.gen.Add(1))
	snap.asOf = asOf
	pols, err := e.store.Objects(ctx, state.TypePolicy, "")
	if err != nil {
		return fmt.Errorf("load policies: %w", err)
	}
	for _, o := range pols {
		expr, _ := o.Content["expression"].(string)
		prg, err := Compile(expr)
		if err != nil {
			e.log.Error("policy does not compile; it never allows", "policy", o.Name, "error", err)
			continue
		}
		deny, _ := o.Content["deny"].(bool)
		snap.policies[o.Name] = &policy{name: o.Name, deny: deny, prg: prg}
	}
	scopes, err := e.store.Objects(ctx, state.TypeScope, "")
	if err != nil {
		return fmt.Errorf("load scopes: %w", err)
	}
	for _, o := range scopes {
		s, err := compileScope(o)
		if err != nil {
			e.log.Error("scope does not compile; it matches nothing", "scope", o.Name, "error", err)
			continue
		}
		types := o.Strings("types")
		if len(types) == 0 {
			types = []string{"*"}
		}
		for _, a := range o.Strings("actions") {
			for _, act := range expand(Action(a)) {
				for _, t := range types {
					snap.add(act, t, s)
				}
			}
		}
	}
	groups, err := e.store.Objects(ctx, state.TypeGroup, "")
	if err != nil {
		return fmt.Errorf("load groups: %w", err)
	}
	for _, g := range groups {
		for _, m := range g.Strings("members") {
			snap.groups[m] = append(snap.groups[m], g.Name)
		}
	}
	e.snap.Store(snap)
	return nil
}

// expand turns admin into read and write.
func expand(a Action) []Action {
	if a == "admin" {
		return []Action{ActionRead, ActionWrite}
	}
	return []Action{a}
}

// Run reloads whenever a policy, scope or group changes, until ctx ends,
// and every 30 seconds besides.
func (e *Engine) Run(ctx context.Context, hub *state.Hub) {
	hub.Follow(ctx, []string{state.TypePolicy, state.TypeScope, state.TypeGroup}, 30*time.Second, func(ctx context.Context) {
		if err := e.Reload(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("cannot reload policies; the previous ones stay in force", "error", err)
		}
	})
}

// Authorize implements Authorizer.
func (e *Engine) Authorize(ctx context.Context, r Request) Decision {
	return e.Decide(ctx, r)
}

// Decide answers a request and explains the answer: the scopes that
// matched, each policy evaluated and its result. The master key is
// allowed without consulting scopes.
func (e *Engine) Decide(ctx context.Context, r Request) Decision {
	d := newDecision(r)
	if r.Caller != nil && r.Caller.Master && r.Caller.Kind != KindSource {
		d.Allowed, d.Reason = true, "master key"
		return d
	}
	snap := e.snap.Load()
	vars := newAttributes(&r, snap.groups)
	var selected []string
	for _, s := range snap.candidates(r) {
		ok, err := e.matches(snap.gen, s, r, vars)
		if err != nil {
			e.log.Warn("scope match failed to evaluate; denying", "scope", s.name, "error", err)
			d.Scopes = append(d.Scopes, s.name)
			d.Reason = fmt.Sprintf("scope %s failed to evaluate: %v", s.name, err)
			return d
		}
		if ok && !slices.Contains(d.Scopes, s.name) {
			d.Scopes = append(d.Scopes, s.name)
			for _, p := range s.policies {
				if !slices.Contains(selected, p) {
					selected = append(selected, p)
				}
			}
		}
	}
	if len(d.Scopes) == 0 {
		d.Reason = fmt.Sprintf("no scope covers %s of %s %s", r.Action, r.Type, d.Target)
		return d
	}
	// Deny policies first: one that holds refuses outright.
	slices.SortStableFunc(selected, func(a, b string) int {
		pa, pb := snap.policies[a], snap.policies[b]
		return boolRank(pb != nil && pb.deny) - boolRank(pa != nil && pa.deny)
	})
	for _, name := range selected {
		p := snap.policies[name]
		res := PolicyResult{Name: name}
		if p == nil {
			res.Error = "no such policy"
			d.Policies = append(d.Policies, res)
			d.Reason = fmt.Sprintf("scope names policy %s, which does not exist", name)
			return d
		}
		res.Deny = p.deny
		ok, err := p.prg.Eval(vars)
		res.Result = ok
		if err != nil {
			res.Error = err.Error()
			d.Policies = append(d.Policies, res)
			e.log.Warn("policy failed to evaluate; denying", "policy", name, "error", err)
			d.Reason = fmt.Sprintf("policy %s failed to evaluate: %v", name, err)
			return d
		}
		d.Policies = append(d.Policies, res)
		switch {
		case ok && p.deny:
			d.Reason = "denied by policy " + name
			return d
		case ok:
			d.Allowed, d.Reason = true, "allowed by policy "+name
			return d
		}
	}
	d.Reason = "no policy of the matching scopes allows it"
	return d
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// matches evaluates a scope's match on the target. Targeted matches on
// objects are cached per object revision, so an object is matched again
// only when it changes.
func (e *Engine) matches(gen uint64, s *scope, r Request, attrs *attributes) (bool, error) {
	if s.global || s.match == nil {
		return true, nil
	}
	var key matchKey
	cacheable := r.Event == nil && r.Object != nil && r.Object.Version > 0 && r.Object.ID != ""
	if cacheable {
		key = matchKey{gen: gen, scope: s.name, typ: r.Type, action: string(r.Action), id: r.Object.ID, revision: r.Object.Version}
		e.mu.Lock()
		ok, hit := e.cache[key]
		e.mu.Unlock()
		if hit {
			return ok, nil
		}
	}
	ok, err := s.match.Eval(attrs)
	if err == nil && cacheable {
		e.mu.Lock()
		if len(e.cache) >= maxCachedMatches {
			clear(e.cache)
		}
		e.cache[key] = ok
		e.mu.Unlock()
	}
	return ok, err
}
