package handlers

import (
	"errors"
	"net/http"
	"strconv"

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

// record loads the deployment record of the delivery in the path, for
// action; nil when the request has been answered.
func (h deliveries) record(c *gin.Context, action policies.Action) *state.Object {
	if h.dispatcher == nil {
		fail(c, Errorf(http.StatusServiceUnavailable, "this server runs no delivery dispatcher"))
		return nil
	}
	c.Params = append(c.Params, gin.Param{Key: "name", Value: c.Param("id")})
	return h.load(c, state.TypeDeploy, 0, action, false)
}

// operate answers POST /api/v1/deliveries/{id}/retry and …/cancel.
func (h deliveries) operate(c *gin.Context) {
	rec := h.record(c, policies.ActionWrite)
	if rec == nil {
		return
	}
	ctx, by := c.Request.Context(), callerOf(c).Name
	var err error
	code, status := http.StatusOK, string(delivery.StatusQueued)
	switch c.Param("op") {
	case "retry":
		err = h.dispatcher.Retry(ctx, rec.Name, by)
	case "cancel":
		var done bool
		done, err = h.dispatcher.Cancel(ctx, rec.Name, by)
		status = string(delivery.StatusCancelled)
		if !done { // its agent stops it, and then it is cancelled
			code, status = http.StatusAccepted, "cancelling"
		}
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
	audited(c, c.Param("op"), state.TypeDeploy, rec.Name, 0)
	writeJSON(c, code, writeAnswer{Status: status, Name: rec.Name})
}

// output answers GET /api/v1/deliveries/{id}/output: the output of the
// delivery's last attempt as text, while it runs as the agent sends it.
// X-Reflex-Output-Length says how many bytes the agent sent in all (more
// than the body when Reflex kept only the first part).
func (h deliveries) output(c *gin.Context) {
	rec := h.record(c, policies.ActionRead)
	if rec == nil {
		return
	}
	out, total, err := h.dispatcher.LiveOutput(c.Request.Context(), rec)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("X-Reflex-Output-Length", strconv.FormatInt(total, 10))
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(out))
}
