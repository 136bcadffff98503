package triggers

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// Result is what a trigger's "on" expression gave for an event.
type Result string

// The results of an "on" expression.
const (
	ResultTrue  Result = "true"
	ResultFalse Result = "false"
	ResultError Result = "error"
	// ResultNotEvaluated: the expression was not run, because its service
	// does not exist or the trigger does not compile.
	ResultNotEvaluated Result = "not evaluated"
)

// Explanation is how one trigger decides on one event, evaluated as the
// trigger and its service are now: what its "on" expression gave, the
// values it read, and, when it fires, the parameters and release a
// delivery would carry. Explaining changes nothing.
type Explanation struct {
	Name string `json:"name"`
	// Revision is the trigger object's revision that was evaluated.
	Revision int64  `json:"revision"`
	Service  string `json:"service"`
	// ServiceExists is false when the trigger names a service that does
	// not exist: it cannot fire.
	ServiceExists bool   `json:"service_exists"`
	On            string `json:"on"`
	Result        Result `json:"result"`
	// Reads are the values "on" read from event and service, sorted by
	// path, at most policies.MaxReads; ReadsOmitted counts the others.
	Reads        []policies.Read `json:"reads"`
	ReadsOmitted int             `json:"reads_omitted,omitempty"`
	// Error is why the trigger could not decide: "on" failed, a parameter
	// or the release failed, or the trigger does not compile.
	Error   string            `json:"error,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
	Release string            `json:"release,omitempty"`
	// Fires is true when the trigger matches the event: its service
	// exists, "on" is true, and its parameters and release are computed.
	Fires bool `json:"fires"`
	// Why says in one sentence why it fires or does not.
	Why string `json:"why"`
	// Target is the service as it is now; nil when it does not exist.
	Target *state.Object `json:"-"`
}

// Explain explains a compiled trigger on an event and the trigger's
// service as it is now (svc nil when the service does not exist), as
// Set.Match decides.
func (t *Trigger) Explain(ev *event.Event, svc *state.Object) Explanation {
	return t.explain(policies.JSONMap(ev), svc)
}

func (t *Trigger) explain(evMap map[string]any, svc *state.Object) Explanation {
	x := Explanation{Name: t.Name, Revision: t.Revision, Service: t.Service, On: t.on.Source, Result: ResultNotEvaluated,
		Reads: []policies.Read{}, ServiceExists: svc != nil, Target: svc}
	if svc == nil {
		x.Why = fmt.Sprintf("its service %q does not exist", t.Service)
		return x
	}
	vars := map[string]any{"event": evMap, "service": serviceMap(svc)}
	x.Reads, x.ReadsOmitted = t.on.Reads(vars)
	fires, err := t.on.Eval(vars) // Match's own verdict, with its checks of the result
	switch {
	case err != nil:
		x.Result, x.Error = ResultError, err.Error()
		x.Why = "its on expression failed, and a trigger that cannot decide does not fire"
		return x
	case !fires:
		x.Result, x.Why = ResultFalse, "its on expression is false"
		return x
	}
	x.Result = ResultTrue
	m := Match{Trigger: t, Service: svc, Params: map[string]string{}}
	if err := m.compute(vars); err != nil {
		x.Error = err.Error()
		x.Why = "its on expression is true, but it cannot compute what the delivery carries"
		return x
	}
	x.Params, x.Release, x.Fires = m.Params, m.Release, true
	x.Why = "its on expression is true"
	return x
}

// Explain explains every trigger of the live state on an event, sorted
// by name, as the triggers and their services are now (which may differ
// from when the event was processed). A trigger that does not compile is
// explained as never firing. Each service is read once; a failure to read
// the state is returned.
func Explain(ctx context.Context, store *state.Store, ev *event.Event) ([]Explanation, error) {
	objs, err := store.Objects(ctx, state.TypeTrigger, "")
	if err != nil {
		return nil, fmt.Errorf("load triggers: %w", err)
	}
	evMap := policies.JSONMap(ev)
	services := map[string]*state.Object{}
	out := make([]Explanation, 0, len(objs))
	for _, o := range objs {
		t, err := Compile(o)
		if err != nil {
			out = append(out, uncompiled(o, err))
			continue
		}
		svc, read := services[t.Service]
		if !read {
			svc, err = store.Object(ctx, state.TypeService, t.Service, 0)
			switch {
			case errors.Is(err, state.ErrNotFound):
				svc = nil
			case err != nil:
				return nil, fmt.Errorf("trigger %s: read service %s: %w", t.Name, t.Service, err)
			}
			services[t.Service] = svc
		}
		out = append(out, t.explain(evMap, svc))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// uncompiled explains a trigger object that does not compile.
func uncompiled(o *state.Object, err error) Explanation {
	x := Explanation{Name: o.Name, Revision: o.Version, Result: ResultNotEvaluated, Reads: []policies.Read{}, Error: err.Error(),
		Why: "it does not compile, so it never fires"}
	x.Service, _ = o.Content["service"].(string)
	x.On, _ = o.Content["on"].(string)
	return x
}
