package delivery

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reflexops/reflex/state"
)

// Metrics counts the deliveries that end, by zone, service and final
// status.
type Metrics struct {
	ended *prometheus.CounterVec
}

// NewMetrics returns the deliveries' counters, registered with reg when
// not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{ended: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "reflex_deliveries_total",
		Help: "Deliveries that ended, by zone, service and outcome (succeeded, failed, refused, cancelled, superseded); a delivery run again counts again when it ends again.",
	}, []string{"zone", "service", "outcome"})}
	if reg != nil {
		reg.MustRegister(m.ended)
	}
	return m
}

// update changes a deployment record with change, as editRecord does,
// and counts the delivery in Metrics when this write is the one that ends
// it. The store writes a record by compare-and-set, so of several brokers
// moving one delivery to an end, only one write moves it from a status
// that had not ended: it alone is counted, whichever broker made it.
func (d *Dispatcher) update(ctx context.Context, id string, change func(r *Record) error) (*state.Object, error) {
	var from Status
	next, changed, err := d.Store.Update(ctx, state.TypeDeploy, id, 0, writer, editRecord(func(r *Record) error {
		from = r.Status
		return change(r)
	}))
	if err != nil || !changed {
		return next, err
	}
	if to := statusOf(next); to.Ended() && !from.Ended() && d.Metrics != nil {
		zone, _ := next.Content["zone"].(string)
		service, _ := next.Content["service"].(string)
		d.Metrics.ended.WithLabelValues(zone, service, string(to)).Inc()
	}
	return next, nil
}

// created counts a record created already ended (a refusal of a job that
// was no delivery's).
func (d *Dispatcher) created(r *Record) {
	if d.Metrics != nil && r.Status.Ended() {
		d.Metrics.ended.WithLabelValues(r.Zone, r.Service, string(r.Status)).Inc()
	}
}
