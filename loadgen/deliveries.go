// Package loadgen drives a running Reflex with genuine webhook deliveries
// and measures what it does with them: the load tool behind `reflex bench`.
// It sends the recorded fixtures of a connector, each signed as its
// provider would sign it and with a delivery id of its own, closed-loop at
// a number of connections or at a fixed rate; it measures answers,
// latencies and, on Linux, the CPU the server and Redis spend; it reads
// back through the API what was processed; and it runs a naive baseline
// server (verify, decode two fields, one CEL expression, enqueue) on the
// same Redis, so the two compare in one run.
package loadgen

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/connectors/registry"
	"github.com/reflexops/reflex/fixtures"
)

// template is a recorded delivery to send again and again.
type template struct {
	name string
	typ  string
	body []byte
}

// Deliveries makes the requests of a load: the fixtures of a connector,
// taken in turn, each sent as a new delivery (an id of its own) and signed
// with the source's secret.
type Deliveries struct {
	sim       connectors.Simulator
	templates []template
	secret    []byte
	prefix    string
	next      atomic.Uint64
}

// NewDeliveries prepares the fixtures of connector for a load; prefix
// starts every delivery id, so one run's deliveries can be told apart. A
// provider's ping is left out: it queues nothing.
func NewDeliveries(connector, prefix string, secret []byte) (*Deliveries, error) {
	conn, err := registry.Lookup(connector)
	if err != nil {
		return nil, err
	}
	sim, ok := conn.(connectors.Simulator)
	if !ok {
		return nil, fmt.Errorf("connector %s cannot imitate its provider", connector)
	}
	list, err := fixtures.Load(connector)
	if err != nil {
		return nil, err
	}
	d := &Deliveries{sim: sim, secret: secret, prefix: prefix}
	for _, f := range list {
		typ := sim.EventType(f.Header, f.Body)
		h, body := sim.Delivery(typ, "probe", f.Body)
		sim.Sign(h, body, secret)
		res, err := conn.Parse(&connectors.Request{Header: h, Body: body})
		if err != nil || res.Ping {
			continue
		}
		d.templates = append(d.templates, template{name: f.Name, typ: typ, body: f.Body})
	}
	if len(d.templates) == 0 {
		return nil, fmt.Errorf("connector %s has no fixtures to send", connector)
	}
	return d, nil
}

// Len returns how many distinct recorded deliveries the load cycles
// through.
func (d *Deliveries) Len() int { return len(d.templates) }

// Next returns the next delivery: its id, headers and body.
func (d *Deliveries) Next() (id string, h http.Header, body []byte) {
	n := d.next.Add(1)
	t := d.templates[(n-1)%uint64(len(d.templates))]
	id = d.prefix + strconv.FormatUint(n, 10)
	h, body = d.sim.Delivery(t.typ, id, t.body)
	d.sim.Sign(h, body, d.secret)
	return id, h, body
}
