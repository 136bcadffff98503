package quay

import (
	"strconv"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/event"
)

// result returns what a delivery normalized to: ev when events is nil,
// else a batch of events, each identified by ev's id, '.' and its number
// from 1 ("<id>.1", …), and each carrying the whole payload.
func result(ev *event.Event, events []*event.Event, payload []byte) (*connectors.Result, error) {
	if events == nil {
		return &connectors.Result{Event: ev, Payload: payload, Checked: true}, nil
	}
	out := &connectors.Result{Batch: make([]*connectors.Result, len(events))}
	for i, e := range events {
		e.ID = ev.ID + "." + strconv.Itoa(i+1)
		if err := connectors.CheckDeliveryID("the id of updated tag "+strconv.Itoa(i+1), e.ID); err != nil {
			return nil, err
		}
		out.Batch[i] = &connectors.Result{Event: e, Payload: payload, Checked: true}
	}
	return out, nil
}
