package handlers

import (
	"fmt"
	"net/http"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/jobs"
)

// opsRoutes serves the operators' pages under /ops/: the sign-in form, the
// events page with its live feed, an event's page, and asynq's queue UI
// at /ops/queues/. Every page but the sign-in form needs a session
// (opsSessions), every state-changing request its CSRF token, and each
// page the policy decision its API counterpart needs: read on events for
// the events pages, operate on queues (queueAdmin) for the queue UI.
func opsRoutes(r *gin.Engine, d Deps, pages opsPages, readEvents, queueAdmin gin.HandlerFunc) {
	s := opsSessions{store: d.Store, auth: d.Auth, log: d.Log}
	ops := r.Group(opsPath)
	ops.GET("/static/*file", gin.WrapH(opsStatic()))
	ops.GET("/login", s.loginPage)
	ops.POST("/login", s.login)
	in := ops.Group("", s.admit, checkCSRF)
	in.POST("/logout", s.logout)
	in.GET("/", readEvents, pages.index)
	in.GET("/feed", readEvents, pages.live)
	in.GET("/rows/:source/:id", readEvents, pages.row)
	in.GET("/events/:source/:id", readEvents, pages.event)
	if d.Redis != nil {
		ui := queueUI(d.Redis)
		in.Any("/queues/*path", queueAdmin, func(c *gin.Context) {
			c.Header("Content-Security-Policy", "frame-ancestors 'none'")
			c.Header("X-Content-Type-Options", "nosniff")
			c.Header("Cache-Control", "no-store")
			ui.ServeHTTP(c.Writer, c.Request)
			if m := c.Request.Method; m != http.MethodGet && m != http.MethodHead && c.Writer.Status() < http.StatusBadRequest {
				// An operation in the queue UI: its API path says which.
				audited(c, strings.ToLower(m), "queue-ui", c.Param("path"), 0)
			}
		})
	}
}

// sharedRedis hands the queue UI the server's own Redis client, so it
// connects the way the server does (TLS, Sentinel, Cluster) and opens no
// pool of its own. The UI is never closed, so the client never is.
type sharedRedis struct{ rdb redis.UniversalClient }

// MakeRedisClient returns the shared client.
func (s sharedRedis) MakeRedisClient() any { return s.rdb }

// queueUI is asynq's web UI (asynqmon) on rdb at /ops/queues. It shows a
// job's payload as its summary (jobs.SummarizeEvent), never the
// provider's data, and its results not at all.
func queueUI(rdb redis.UniversalClient) http.Handler {
	return asynqmon.New(asynqmon.Options{
		RootPath:     opsPath + "/queues",
		RedisConnOpt: sharedRedis{rdb},
		PayloadFormatter: asynqmon.PayloadFormatterFunc(func(typ string, payload []byte) string {
			if s := jobs.SummarizeEvent(typ, payload); s != nil {
				doc, _ := json.Marshal(s)
				return string(doc)
			}
			return fmt.Sprintf("(%d bytes, not shown)", len(payload))
		}),
		ResultFormatter: asynqmon.ResultFormatterFunc(func(string, []byte) string { return "" }),
	})
}
