package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/fleet"
	"github.com/reflexops/reflex/leases"
	"github.com/reflexops/reflex/wire"
)

// DefaultPollWait is how long a poll for an agent's next job is held open
// by default: under the 60 s at which proxies commonly cut idle
// connections.
const DefaultPollWait = 30 * time.Second

// maxAgentBody bounds the body of an agent API call: a finished report
// carries its output excerpt.
const maxAgentBody = 2 << 20

// agentAPI serves the agent API (wire.PathConnect and the rest): agents
// inside the secured network take their zone's jobs and report on them,
// over one outbound HTTPS connection, with their own key.
type agentAPI struct {
	dispatcher *delivery.Dispatcher
	fleet      *fleet.Fleet
	pollWait   time.Duration
	// auth checks the key again before a poll that waited hands out a
	// job; nil checks nothing more.
	auth *auth.Authenticator
}

// routes registers the agent API under api (/api/v1).
func (h agentAPI) routes(api *gin.RouterGroup) {
	g := api.Group("/agents", h.onlyAgents)
	g.POST("/connect", h.connect)
	g.POST("/heartbeat", h.heartbeat)
	g.POST("/disconnect", h.disconnect)
	g.POST("/jobs/next", h.next)
	g.POST("/jobs/:job/:op", h.job)
}

// onlyAgents admits the keys of agents, when this server offers jobs.
func (h agentAPI) onlyAgents(c *gin.Context) {
	caller := callerOf(c)
	switch {
	case caller.Kind != auth.KindAgent:
		fail(c, &Error{Status: http.StatusForbidden, Message: delivery.ErrNotAgent.Error()})
	case h.dispatcher == nil || h.dispatcher.Leases == nil || h.fleet == nil:
		fail(c, Errorf(http.StatusServiceUnavailable, "this server offers no jobs to agents"))
	default:
		addLogAttrs(c, slog.String("zone", caller.Zone))
		c.Next()
	}
}

// agentError maps the agent API's errors to their answers.
func agentError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, delivery.ErrNotYours), errors.Is(err, delivery.ErrNotAgent):
		fail(c, &Error{Status: http.StatusForbidden, Message: err.Error()})
	case errors.Is(err, leases.ErrLeaseLost):
		fail(c, &Error{Status: http.StatusConflict, Message: err.Error() + ": it ran out, or was never granted; stop the job"})
	case errors.Is(err, fleet.ErrWrongZone):
		fail(c, &Error{Status: http.StatusConflict, Message: err.Error()})
	case errors.Is(err, delivery.ErrBadReport):
		fail(c, &Error{Status: http.StatusBadRequest, Message: err.Error()})
	case errors.Is(err, leases.ErrClosed):
		fail(c, &Error{Status: http.StatusServiceUnavailable, Message: "this server is shutting down; poll again", RetryAfter: 1})
	default:
		fail(c, err)
	}
}

// decodeAgentBody reads a JSON body into v.
func decodeAgentBody(c *gin.Context, v any) bool {
	body, err := readBody(c.Request, maxAgentBody)
	if err != nil {
		fail(c, err)
		return false
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		fail(c, Errorf(http.StatusBadRequest, "the body must be JSON: %v", err))
		return false
	}
	return true
}

// connect answers POST /api/v1/agents/connect: the agent is recorded, and
// told its name, zone and cadence.
func (h agentAPI) connect(c *gin.Context) {
	var hello wire.Hello
	if !decodeAgentBody(c, &hello) {
		return
	}
	caller := callerOf(c)
	if err := h.fleet.Connect(c.Request.Context(), caller, hello); err != nil {
		agentError(c, err)
		return
	}
	ttl := h.dispatcher.Leases.TTL()
	writeJSON(c, http.StatusOK, wire.Welcome{
		Agent: caller.Name, Zone: caller.Zone, PollWaitMS: h.wait().Milliseconds(), LeaseTTLMS: ttl.Milliseconds(),
		RenewEveryMS: (ttl / 3).Milliseconds(), HeartbeatEveryMS: h.fleet.HeartbeatEvery().Milliseconds(),
	})
}

func (h agentAPI) wait() time.Duration {
	if h.pollWait > 0 {
		return min(h.pollWait, wire.MaxPollWait)
	}
	return DefaultPollWait
}

// heartbeat answers POST /api/v1/agents/heartbeat.
func (h agentAPI) heartbeat(c *gin.Context) {
	var hb wire.Heartbeat
	if !decodeAgentBody(c, &hb) {
		return
	}
	if err := h.fleet.Heartbeat(c.Request.Context(), callerOf(c), hb); err != nil {
		agentError(c, err)
		return
	}
	c.Set(routineKey, true)
	c.Status(http.StatusNoContent)
}

// disconnect answers POST /api/v1/agents/disconnect.
func (h agentAPI) disconnect(c *gin.Context) {
	if err := h.fleet.Disconnect(c.Request.Context(), callerOf(c)); err != nil {
		agentError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// next answers POST /api/v1/agents/jobs/next?wait=25s: the zone's next job,
// leased to the agent, as soon as there is one (on whichever replica it is
// offered), or 204 once the wait is over. The wait is the agent's, up to
// the server's.
func (h agentAPI) next(c *gin.Context) {
	wait := h.wait()
	if s := c.Query("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			fail(c, Errorf(http.StatusBadRequest, "wait %q: want a duration such as 25s", s))
			return
		}
		wait = min(d, wait)
	}
	l, err := h.dispatcher.Take(c.Request.Context(), callerOf(c), wait)
	if err != nil {
		agentError(c, err)
		return
	}
	if l == nil {
		c.Set(routineKey, true)
		c.Status(http.StatusNoContent)
		return
	}
	addLogAttrs(c, slog.String("job", l.JobID), slog.Int("attempt", l.Attempt))
	if !h.stillValid(c, l) {
		return
	}
	writeJSON(c, http.StatusOK, wire.Offer{Job: l.JobID, Lease: l.LeaseID, Attempt: l.Attempt, LeaseExpiresAt: l.ExpiresAt, Signed: l.Payload})
}

// stillValid checks the agent's key again before a job leased during its
// poll is handed to it: the poll authenticated when it started, and a key
// deleted since gets nothing. The job is given back for another agent of
// the zone.
func (h agentAPI) stillValid(c *gin.Context, l *leases.Lease) bool {
	if h.auth == nil {
		return true
	}
	_, err := h.auth.Fresh(c.Request.Context(), c.GetHeader("Authorization"))
	if err == nil {
		return true
	}
	if rerr := h.dispatcher.Release(context.WithoutCancel(c.Request.Context()), callerOf(c), l.JobID, l.LeaseID); rerr != nil {
		addLogAttrs(c, slog.String("release", rerr.Error()))
	}
	if errors.Is(err, auth.ErrUnauthenticated) {
		c.Header("WWW-Authenticate", `Bearer realm="reflex"`)
		err = &Error{Status: http.StatusUnauthorized, Message: err.Error()}
	}
	fail(c, err)
	return false
}

// job answers POST /api/v1/agents/jobs/{job}/{op}: renew, output, report
// or release, under the lease the agent holds on the job.
func (h agentAPI) job(c *gin.Context) {
	ctx, caller, job := c.Request.Context(), callerOf(c), c.Param("job")
	addLogAttrs(c, slog.String("job", job))
	switch c.Param("op") {
	case wire.OpRenew:
		var ref wire.LeaseRef
		if !decodeAgentBody(c, &ref) {
			return
		}
		ren, err := h.dispatcher.Renew(ctx, caller, job, ref.Lease)
		if err != nil {
			agentError(c, err)
			return
		}
		c.Set(routineKey, !ren.Cancel)
		writeJSON(c, http.StatusOK, wire.Renewal{Cancel: ren.Cancel, LeaseExpiresAt: ren.ExpiresAt})
	case wire.OpReport:
		var r wire.Report
		if !decodeAgentBody(c, &r) {
			return
		}
		addLogAttrs(c, slog.String("report", r.Kind))
		ren, err := h.dispatcher.Report(ctx, caller, job, r)
		if err != nil {
			agentError(c, err)
			return
		}
		writeJSON(c, http.StatusAccepted, wire.Renewal{Cancel: ren.Cancel, LeaseExpiresAt: ren.ExpiresAt})
	case wire.OpOutput:
		var o wire.Output
		if !decodeAgentBody(c, &o) {
			return
		}
		n, err := h.dispatcher.Output(ctx, caller, job, o)
		if errors.Is(err, delivery.ErrOutputGap) {
			c.Header("X-Reflex-Output-Length", strconv.FormatInt(n, 10))
			c.PureJSON(http.StatusRequestedRangeNotSatisfiable, struct {
				answer
				Length int64 `json:"length"`
			}{answer{Status: "failed", Message: err.Error(), RequestID: c.GetString(requestIDKey)}, n})
			return
		}
		if err != nil {
			agentError(c, err)
			return
		}
		c.Set(routineKey, true)
		writeJSON(c, http.StatusOK, wire.OutputAck{Length: n})
	case wire.OpRelease:
		var ref wire.LeaseRef
		if !decodeAgentBody(c, &ref) {
			return
		}
		if err := h.dispatcher.Release(ctx, caller, job, ref.Lease); err != nil {
			agentError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	default:
		fail(c, Errorf(http.StatusNotFound, "no operation %q on a job: %s, %s, %s or %s", c.Param("op"), wire.OpRenew, wire.OpOutput, wire.OpReport, wire.OpRelease))
	}
}
