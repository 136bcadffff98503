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

// openReport opens the provider's record of a delivery, with the
// reporter of the job's connector; it returns the connector's name and
// what to keep, or "" when no reporter applies.
func (d *Dispatcher) openReport(ctx context.Context, j wire.Job) (string, map[string]any) {
	r, ok := d.Reporters[j.Event.Connector]
	if !ok {
		return "", nil
	}
	return j.Event.Connector, r.Open(ctx, j)
}

// report reports a phase of the delivery rec records to the provider
// whose reporter opened a record of it. The provider's record is kept on
// the deployment record under the connector's name.
func (d *Dispatcher) report(ctx context.Context, rec *state.Object, phase Phase, description string) {
	for name, r := range d.Reporters {
		if ref, ok := rec.Content[name].(map[string]any); ok {
			r.Report(ctx, ref, phase, description)
		}
	}
}
