package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// callerKey holds the authenticated caller in the gin context.
const callerKey = "reflex.caller"

// authenticate admits requests whose bearer token is a valid API key (or
// REFLEX_ADMIN_KEY) and records the caller for the handlers.
func authenticate(a *auth.Authenticator) gin.HandlerFunc {
	return func(c *gin.Context) {
		caller, err := a.Authenticate(c.Request.Context(), c.GetHeader("Authorization"))
		if errors.Is(err, auth.ErrUnauthenticated) {
			c.Header("WWW-Authenticate", `Bearer realm="reflex"`)
			fail(c, &Error{Status: http.StatusUnauthorized, Message: err.Error()})
			return
		}
		if err != nil {
			fail(c, err)
			return
		}
		c.Set(callerKey, caller)
		addLogAttrs(c, slog.String("apikey", caller.Name))
		c.Next()
	}
}

// callerOf returns the caller authenticate recorded.
func callerOf(c *gin.Context) *auth.Caller {
	v, _ := c.Get(callerKey)
	caller, _ := v.(*auth.Caller)
	if caller == nil {
		return &auth.Caller{}
	}
	return caller
}

// TypeEvent names received events in authorization requests.
const TypeEvent = "event"

// mayRead admits callers allowed to read a kind of record that is not an
// object (the event history), or every object of a type.
func mayRead(authz policies.Authorizer, typ string) gin.HandlerFunc {
	return mayDo(authz, policies.ActionRead, typ)
}

// mayWrite admits callers allowed to write every object of a type.
func mayWrite(authz policies.Authorizer, typ string) gin.HandlerFunc {
	return mayDo(authz, policies.ActionWrite, typ)
}

// mayDo admits callers allowed an action on every object ("*") of a
// type.
func mayDo(authz policies.Authorizer, action policies.Action, typ string) gin.HandlerFunc {
	return func(c *gin.Context) {
		o := &state.Object{Type: typ, Name: "*"}
		d := authz.Authorize(c.Request.Context(), policies.Request{Caller: callerOf(c), Action: action, Type: typ, Name: "*", Object: o})
		if !d.Allowed {
			fail(c, &Error{Status: http.StatusForbidden, Message: d.Reason})
			return
		}
		c.Next()
	}
}
