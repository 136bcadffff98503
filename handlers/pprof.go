package handlers

import (
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/gin-gonic/gin"
)

// profiles serves Go's runtime profiles (net/http/pprof) under
// /debug/pprof, to the master key only: a profile shows what the process
// holds and does, so nothing less than the key that may do everything may
// take one. `go tool pprof -H "Authorization: Bearer $KEY" …` reads them.
func profiles(r *gin.Engine, authn gin.HandlerFunc) {
	g := r.Group("/debug/pprof", authn, func(c *gin.Context) {
		if !callerOf(c).Master {
			fail(c, Errorf(http.StatusForbidden, "only the master key may take profiles"))
			return
		}
		c.Next()
	})
	g.GET("/*profile", func(c *gin.Context) {
		switch name := strings.TrimPrefix(c.Param("profile"), "/"); name {
		case "":
			pprof.Index(c.Writer, c.Request)
		case "cmdline":
			pprof.Cmdline(c.Writer, c.Request)
		case "profile":
			pprof.Profile(c.Writer, c.Request)
		case "symbol":
			pprof.Symbol(c.Writer, c.Request)
		case "trace":
			pprof.Trace(c.Writer, c.Request)
		default:
			pprof.Handler(name).ServeHTTP(c.Writer, c.Request)
		}
	})
}
