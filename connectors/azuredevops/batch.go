package azuredevops

import (
	"strconv"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// result returns what a delivery normalized to: ev when events is nil,
// else a batch of events, each identified by ev's id, '.' and its number
// from 1 ("<delivery id>.1", …) and each carrying the whole payload, so
// that policies and triggers see it whichever event they decide on.
func result(ev *event.Event, events []*event.Event, payload []byte) (*connectors.Result, error) {
	if events == nil {
		return &connectors.Result{Event: ev, Payload: payload, Checked: true}, nil
	}
	out := &connectors.Result{Batch: make([]*connectors.Result, len(events))}
	for i, e := range events {
		e.ID = ev.ID + "." + strconv.Itoa(i+1)
		if err := connectors.CheckDeliveryID("the id of ref update "+strconv.Itoa(i+1)+" (the delivery id, '.' and its number)", e.ID); err != nil {
			return nil, err
		}
		out.Batch[i] = &connectors.Result{Event: e, Payload: payload, Checked: true}
	}
	return out, nil
}

// copyEvent returns a copy of a push's event before a ref change is read
// into it, when Repository is the only part it has: that is copied too,
// so the copies share nothing.
func copyEvent(ev *event.Event) *event.Event {
	c := *ev
	if ev.Repository != nil {
		r := *ev.Repository
		c.Repository = &r
	}
	return &c
}
