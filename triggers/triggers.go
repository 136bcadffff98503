// Package triggers decides which accepted events start deliveries: each
// trigger object's "on" expression is tested on the event and the target
// service, and its parameters are computed from them.
package triggers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// Defaults of a trigger.
const (
	DefaultMaxAttempts = 3
	DefaultExpires     = time.Hour
)

// env is the environment of trigger expressions: the event and the
// target service (its document, with "release" "" when it has none).
var env = sync.OnceValues(func() (*cel.Env, error) {
	return policies.NewEnv(
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("service", cel.MapType(cel.StringType, cel.DynType)),
	)
})

// Trigger is a compiled trigger object.
type Trigger struct {
	Name string
	// Revision is the revision of the trigger object it was compiled from.
	Revision    int64
	Service     string
	Action      string
	MaxAttempts int
	KeepLatest  bool
	Expires     time.Duration
	// Forward puts the original verified delivery (its payload, type and
	// id) in the job, for the agent's forward actions.
	Forward bool

	on      *policies.Program
	params  map[string]*policies.Program
	release *policies.Program
}

// Compile compiles a trigger object; errors wrap state.ErrInvalid and name
// the field.
func Compile(o *state.Object) (*Trigger, error) {
	e, err := env()
	if err != nil {
		return nil, err
	}
	t := &Trigger{Name: o.Name, Revision: o.Version, MaxAttempts: DefaultMaxAttempts, Expires: DefaultExpires, params: map[string]*policies.Program{}}
	t.Service, _ = o.Content["service"].(string)
	t.Action, _ = o.Content["action"].(string)
	t.KeepLatest, _ = o.Content["keep_latest"].(bool)
	t.Forward, _ = o.Content["forward"].(bool)
	if n, ok := o.Content["max_attempts"].(float64); ok {
		t.MaxAttempts = int(n)
	}
	if s, ok := o.Content["expires"].(string); ok {
		if t.Expires, err = time.ParseDuration(s); err != nil {
			return nil, fmt.Errorf("%w: field expires: %v", state.ErrInvalid, err)
		}
	}
	on, _ := o.Content["on"].(string)
	if t.on, err = policies.CompileIn(e, on, true); err != nil {
		return nil, fmt.Errorf("%w: field on: %v", state.ErrInvalid, err)
	}
	if rel, _ := o.Content["release"].(string); rel != "" {
		if t.release, err = policies.CompileIn(e, rel, false); err != nil {
			return nil, fmt.Errorf("%w: field release: %v", state.ErrInvalid, err)
		}
	}
	params, _ := o.Content["params"].(map[string]any)
	for name, v := range params {
		expr, _ := v.(string)
		if t.params[name], err = policies.CompileIn(e, expr, false); err != nil {
			return nil, fmt.Errorf("%w: field params.%s: %v", state.ErrInvalid, name, err)
		}
	}
	return t, nil
}

// Check validates trigger objects before they are written.
func Check(o *state.Object) error {
	if o.Type != state.TypeTrigger {
		return nil
	}
	_, err := Compile(o)
	return err
}

// Match is a trigger that fires for an event.
type Match struct {
	Trigger *Trigger
	// Service is the target service, as it is now.
	Service *state.Object
	// Params are the job parameters computed from the event.
	Params map[string]string
	// Release is the version the delivery installs.
	Release string
}

// Set holds the compiled triggers of the live state.
type Set struct {
	store *state.Store
	log   *slog.Logger
	list  atomic.Pointer[[]*Trigger]
}

// NewSet returns an empty set; Reload fills it.
func NewSet(store *state.Store, log *slog.Logger) *Set {
	s := &Set{store: store, log: log}
	s.list.Store(&[]*Trigger{})
	return s
}

// Reload reads and compiles every trigger.
func (s *Set) Reload(ctx context.Context) error {
	objs, err := s.store.Objects(ctx, state.TypeTrigger, "")
	if err != nil {
		return fmt.Errorf("load triggers: %w", err)
	}
	list := make([]*Trigger, 0, len(objs))
	for _, o := range objs {
		t, err := Compile(o)
		if err != nil {
			s.log.Error("trigger does not compile; it never fires", "trigger", o.Name, "error", err)
			continue
		}
		list = append(list, t)
	}
	s.list.Store(&list)
	return nil
}

// Run reloads whenever a trigger changes, until ctx ends.
func (s *Set) Run(ctx context.Context, hub *state.Hub) {
	hub.Follow(ctx, []string{state.TypeTrigger}, 30*time.Second, func(ctx context.Context) {
		if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cannot reload triggers; the previous ones stay in force", "error", err)
		}
	})
}

// ErrNoService is wrapped when a trigger names a service that does not
// exist.
var ErrNoService = errors.New("no such service")

// Match returns the triggers that fire for an event, with their computed
// parameters, sorted by trigger name. A trigger that cannot decide (an
// expression fails to evaluate, its service does not exist) does not fire;
// its problem is returned beside the matches, for the event's record. A
// failure to read the live state is returned as the error, and no matches:
// the event must be processed again.
func (s *Set) Match(ctx context.Context, ev *event.Event) ([]Match, []error, error) {
	var out []Match
	var problems []error
	evMap := policies.JSONMap(ev)
	type read struct {
		svc *state.Object
		err error
	}
	services := map[string]read{} // each service is read once per event
	for _, t := range *s.list.Load() {
		r, ok := services[t.Service]
		if !ok {
			r.svc, r.err = s.store.Object(ctx, state.TypeService, t.Service, 0)
			services[t.Service] = r
		}
		svc, err := r.svc, r.err
		switch {
		case errors.Is(err, state.ErrNotFound):
			problems = append(problems, fmt.Errorf("trigger %s: %w %q", t.Name, ErrNoService, t.Service))
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("trigger %s: read service %s: %w", t.Name, t.Service, err)
		}
		vars := map[string]any{"event": evMap, "service": serviceMap(svc)}
		fires, err := t.on.Eval(vars)
		if err != nil {
			problems = append(problems, fmt.Errorf("trigger %s: on: %w", t.Name, err))
			continue
		}
		if !fires {
			continue
		}
		m := Match{Trigger: t, Service: svc, Params: map[string]string{}}
		if err := m.compute(vars); err != nil {
			problems = append(problems, fmt.Errorf("trigger %s: %w", t.Name, err))
			continue
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Trigger.Name < out[j].Trigger.Name })
	return out, problems, nil
}

func (m *Match) compute(vars map[string]any) error {
	for name, p := range m.Trigger.params {
		v, err := p.Value(vars)
		if err != nil {
			return fmt.Errorf("params.%s: %w", name, err)
		}
		m.Params[name] = fmt.Sprint(v)
	}
	if m.Trigger.release != nil {
		v, err := m.Trigger.release.Value(vars)
		if err != nil {
			return fmt.Errorf("release: %w", err)
		}
		m.Release = fmt.Sprint(v)
	}
	return nil
}

func serviceMap(o *state.Object) map[string]any {
	doc := o.Document(false)
	delete(doc, "sensitive")
	m := policies.JSONMap(doc)
	if _, ok := m["release"]; !ok {
		m["release"] = ""
	}
	return m
}
