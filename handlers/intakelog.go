package handlers

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/event"
	"github.com/reflexops/reflex/state"
)

// logIntake records a delivery the event history does not keep (a
// refusal before the intake decided, or a duplicate) in the intake log,
// for the operators' page and `reflex events tail`. The sender's answer
// does not wait on it failing: a log that cannot be written is noted in
// the request's log line.
func (h *Hooks) logIntake(c *gin.Context, e state.IntakeEntry) {
	if h.intake == nil || h.intake.Store == nil {
		return
	}
	e.At, e.RequestID = h.now().UTC(), c.GetString(requestIDKey)
	if err := h.intake.Store.LogIntake(c.Request.Context(), e); err != nil {
		addLogAttrs(c, slog.String("intake_log_error", err.Error()))
	}
}

// logRefusal records a refusal: its reason and what the sender was told.
func (h *Hooks) logRefusal(c *gin.Context, source, connector, reason string, err error) {
	he := classify(err)
	h.logIntake(c, state.IntakeEntry{Source: source, Connector: connector, Outcome: outcomeRefused, Reason: reason, Status: he.Status, Message: he.Message})
}

// logDuplicate records a duplicate of an accepted delivery.
func (h *Hooks) logDuplicate(c *gin.Context, connector string, ev *event.Event, status int) {
	e := state.IntakeEntry{Source: ev.Source, Connector: connector, ID: ev.ID, Type: ev.Type, Kind: ev.Kind, Outcome: outcomeDuplicate, Status: status}
	if ev.Repository != nil {
		e.Repository = ev.Repository.Name
	}
	h.logIntake(c, e)
}
