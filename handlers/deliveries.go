package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// deliveries serves the operator's controls of deliveries.
type deliveries struct {
	objects
	dispatcher *delivery.Dispatcher
}

// operate answers POST /api/v1/deliveries/{id}/retry and …/cancel.
func (h deliveries) operate(c *gin.Context) {
	if h.dispatcher == nil {
		fail(c, Errorf(http.StatusServiceUnavailable, "this server runs no delivery dispatcher"))
		return
	}
	c.Params = append(c.Params, gin.Param{Key: "name", Value: c.Param("id")})
	rec := h.load(c, state.TypeDeploy, 0, policies.ActionWrite, false)
	if rec == nil {
		return
	}
	ctx, by := c.Request.Context(), callerOf(c).Name
	var err error
	switch c.Param("op") {
	case "retry":
		err = h.dispatcher.Retry(ctx, rec.Name, by)
	case "cancel":
		err = h.dispatcher.Cancel(ctx, rec.Name, by)
	default:
		fail(c, Errorf(http.StatusNotFound, "no operation %q: retry or cancel", c.Param("op")))
		return
	}
	if errors.Is(err, delivery.ErrState) {
		fail(c, &Error{Status: http.StatusConflict, Message: err.Error()})
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	status := map[string]delivery.Status{"retry": delivery.StatusQueued, "cancel": delivery.StatusCancelled}[c.Param("op")]
	writeJSON(c, http.StatusOK, writeAnswer{Status: string(status), Name: rec.Name})
}
