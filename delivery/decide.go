package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
	"github.com/reflexops/reflex/triggers"
	"github.com/reflexops/reflex/wire"
)

// Decider is the one path from a processed event to its deliveries: each
// trigger that fires is checked with the deliver policy decision, the
// decision is recorded on the event, and, when allowed, the delivery is
// dispatched to its service's zone.
type Decider struct {
	Triggers   *triggers.Set
	Authz      policies.Authorizer
	Dispatcher *Dispatcher
	Store      *state.Store
	Log        *slog.Logger
}

// deliverDecision is a deliver decision with what it was about.
type deliverDecision struct {
	policies.Decision
	Trigger  string `json:"trigger"`
	Service  string `json:"service"`
	Delivery string `json:"delivery,omitempty"`
}

// Process delivers what the event triggers. A delivery already recorded is
// not decided or dispatched again, so processing an event twice delivers
// once. A trigger that cannot decide, or whose service has no zone, is
// recorded in the event's TriggerErrors and delivers nothing; a failure to
// read or write the live state is returned, so the event is processed
// again.
func (d *Decider) Process(ctx context.Context, ev *event.Event, payload Payload) error {
	if d == nil {
		return nil
	}
	matches, problems, err := d.Triggers.Match(ctx, ev)
	if err != nil {
		return err
	}
	ev.TriggerErrors = nil
	problem := func(err error) {
		d.Log.Warn("trigger not evaluated", "delivery_id", ev.ID, "request_id", ev.RequestID, "error", err)
		ev.TriggerErrors = append(ev.TriggerErrors, err.Error())
	}
	for _, err := range problems {
		problem(err)
	}
	for _, m := range matches {
		id := wire.ID(m.Trigger.Name, ev.Source, ev.ID)
		done, err := d.Dispatcher.Exists(ctx, id)
		if err != nil {
			return err
		}
		if done {
			if _, err := d.Dispatcher.Deliver(ctx, ev, m, payload); err != nil && !errors.Is(err, ErrNoSigner) && !errors.Is(err, ErrNoZone) {
				return err // finish a dispatch that was interrupted
			}
			continue
		}
		if _, err := Zone(m.Service); err != nil {
			problem(fmt.Errorf("trigger %s: %w", m.Trigger.Name, err))
			continue
		}
		dec := d.Authz.Authorize(ctx, policies.Request{
			Caller: &auth.Caller{Kind: policies.KindSource, Name: ev.Source, Source: ev.Source, Connector: ev.Connector},
			Action: policies.ActionDeliver, Type: policies.TypeEvent, Name: ev.ID, Event: ev, Object: m.Service, Verified: true,
		})
		rec := deliverDecision{Decision: dec, Trigger: m.Trigger.Name, Service: m.Service.Name}
		if dec.Allowed {
			rec.Delivery = id
		}
		trail, _ := json.Marshal(rec)
		if err := d.Store.AddDecisions(ctx, ev.Source, ev.ID, trail); err != nil {
			return err
		}
		log := d.Log.With("delivery_id", ev.ID, "request_id", ev.RequestID, "trigger", m.Trigger.Name, "service", m.Service.Name)
		if !dec.Allowed {
			log.Info("delivery refused by policy", "reason", dec.Reason)
			continue
		}
		switch _, err := d.Dispatcher.Deliver(ctx, ev, m, payload); {
		case errors.Is(err, ErrNoSigner):
			log.Error("delivery not queued", "error", err)
			continue
		case errors.Is(err, state.ErrInvalid):
			problem(fmt.Errorf("trigger %s: %w", m.Trigger.Name, err)) // what it would record is invalid: another attempt changes nothing
			continue
		case err != nil:
			return err
		}
		log.Info("delivery queued", "delivery", id)
	}
	return nil
}
