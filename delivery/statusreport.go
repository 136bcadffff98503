package delivery

import (
	"context"

	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/wire"
)

// Phase is what a delivery's provider hears of it.
type Phase string

// The phases a status reporter reports.
const (
	PhaseQueued    Phase = "queued"
	PhaseRunning   Phase = "running"
	PhaseSucceeded Phase = "succeeded"
	PhaseFailed    Phase = "failed"
	// PhaseError: the delivery ended without its action running to an
	// end (refused by the agent, or lost).
	PhaseError Phase = "error"
)

// StatusReporter tells the provider an event came from how the delivery
// it caused goes, e.g. GitHub's deployments and their statuses. It is
// looked up by the event's connector name. Its failures are logged and
// recorded; they never fail a delivery.
type StatusReporter interface {
	// Open opens the provider's record of a delivery and returns what to
	// keep on the deployment record to report on it later, or nil when
	// nothing applies to the job.
	Open(ctx context.Context, j wire.Job) map[string]any
	// Report reports a phase on the provider's record that Open returned.
	Report(ctx context.Context, ref map[string]any, phase Phase, description string)
}

// requestIDKey holds, in a status reporter's context, the request id of
// the delivery it reports on.
type requestIDKey struct{}

// RequestID returns the request id of the delivery a StatusReporter is
// called about (the webhook request that brought its event in), for the
// reporter's log lines as "request_id"; "" when none is known.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID returns ctx carrying a delivery's request id, for
// RequestID.
func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// openReport opens the provider's record of a delivery, with the
// reporter of the job's connector; it returns the connector's name and
// what to keep, or "" when no reporter applies.
func (d *Dispatcher) openReport(ctx context.Context, j wire.Job) (string, map[string]any) {
	r, ok := d.Reporters[j.Event.Connector]
	if !ok {
		return "", nil
	}
	d.Log.Debug("opening the provider's record of the delivery", "delivery", j.ID, "request_id", j.Event.RequestID, "connector", j.Event.Connector)
	return j.Event.Connector, r.Open(withRequestID(ctx, j.Event.RequestID), j)
}

// report reports a phase of the delivery rec records to the provider
// whose reporter opened a record of it. The provider's record is kept on
// the deployment record under the connector's name.
func (d *Dispatcher) report(ctx context.Context, rec *state.Object, phase Phase, description string) {
	for name, r := range d.Reporters {
		if ref, ok := rec.Content[name].(map[string]any); ok {
			id := recordRequestID(rec)
			d.Log.Debug("reporting the delivery to its provider", "delivery", rec.Name, "request_id", id, "connector", name, "phase", phase)
			r.Report(withRequestID(ctx, id), ref, phase, description)
		}
	}
}

// recordRequestID returns the request id a deployment object's event
// keeps, or "".
func recordRequestID(rec *state.Object) string {
	ev, _ := rec.Content["event"].(map[string]any)
	id, _ := ev["request_id"].(string)
	return id
}
