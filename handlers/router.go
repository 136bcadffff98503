package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/auth"
	"github.com/reflexops/reflex/delivery"
	"github.com/reflexops/reflex/fleet"
	"github.com/reflexops/reflex/policies"
	"github.com/reflexops/reflex/state"
)

// Deps is what the HTTP surface needs.
type Deps struct {
	// Redis backs the readiness probe and the queues' figures.
	Redis redis.UniversalClient
	// Store serves the API's reads.
	Store *state.Store
	// Hooks is the webhook intake; nil serves no /hooks routes (a worker
	// with only a health port, say).
	Hooks *Hooks
	// HooksCode plans and applies the hooks sources declare; nil answers
	// 501 (the server has no hooks settings).
	HooksCode *HooksCode
	// Auth authenticates /api callers.
	Auth *auth.Authenticator
	// Authz decides what they may do.
	Authz policies.Authorizer
	// Hub feeds watchers.
	Hub *state.Hub
	// Dispatcher steers deliveries and offers their jobs to agents; nil
	// when this server runs none.
	Dispatcher *delivery.Dispatcher
	// Fleet records the agents of the agent API; nil serves none.
	Fleet *fleet.Fleet
	// PollWait bounds how long an agent's poll for its next job is held
	// open. Default DefaultPollWait; at most wire.MaxPollWait.
	PollWait time.Duration
	// TrustedProxies lists the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For is believed. Default: none.
	TrustedProxies []string
	// Metrics is what GET /metrics exposes to authenticated callers; nil
	// serves no /metrics.
	Metrics prometheus.Gatherer
	// APILimits bounds each API key's rate of /api/v1 requests; nil
	// limits nothing.
	APILimits *APILimits
	// Log receives request logs.
	Log *slog.Logger
}

// NewRouter returns the HTTP handler of Reflex.
func NewRouter(d Deps) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	// Client addresses come from the connection unless proxies are trusted.
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	r.Use(requestID, recovery(d.Log), accessLog(d.Log), auditLog(d.Log), errorMiddleware)
	r.NoRoute(func(c *gin.Context) {
		fail(c, Errorf(http.StatusNotFound, "no route for %s %s", c.Request.Method, loggedPath(c)))
	})
	r.NoMethod(func(c *gin.Context) {
		fail(c, Errorf(http.StatusMethodNotAllowed, "%s is not allowed on %s", c.Request.Method, loggedPath(c)))
	})

	r.GET("/healthz", healthz)
	r.GET("/readyz", readyz(d.Redis))
	if d.Hooks != nil {
		r.POST("/hooks/:source", d.Hooks.Receive)
		// Endpoint confirmations (the CloudEvents webhook validation).
		r.OPTIONS("/hooks/:source", d.Hooks.Receive)
		// Providers that sign nothing are given a URL with a token in it.
		r.POST("/hooks/:source/:token", d.Hooks.Receive)
	}
	if d.Metrics != nil {
		// Metrics name sources and their traffic: callers authenticate.
		r.GET("/metrics", authenticate(d.Auth), gin.WrapH(promhttp.HandlerFor(d.Metrics, promhttp.HandlerOpts{})))
	}

	profiles(r, authenticate(d.Auth))
	api := r.Group("/api/v1", authenticate(d.Auth), limitKeys(d.APILimits))
	ev := events{store: d.Store}
	readEvents := mayRead(d.Authz, TypeEvent)
	api.GET("/events", readEvents, ev.list)
	api.GET("/events/:id", readEvents, ev.get)
	api.GET("/events/:id/payload", readEvents, ev.payload)
	// Operating the queues (and replaying an event) is writing the event
	// history: the policy model has no type of its own for queues.
	writeEvents := mayWrite(d.Authz, TypeEvent)
	q := queues{inspector: inspectorOf(d.Redis), redis: d.Redis, store: d.Store}
	api.GET("/queues", readEvents, q.list)
	api.GET("/queues/:queue/jobs", readEvents, q.jobs)
	api.GET("/queues/:queue/jobs/*id", readEvents, q.job)
	api.POST("/queues/:queue/jobs/*rest", writeEvents, q.operate)
	api.POST("/queues/:queue/pause", writeEvents, q.pause)
	api.POST("/queues/:queue/resume", writeEvents, q.resume)
	api.POST("/events/:id/replay", writeEvents, q.replay)
	fd := feed{store: d.Store, hub: d.Hub}
	api.GET("/events/feed", readEvents, fd.tail)

	obj := objects{store: d.Store, authz: d.Authz, keys: d.Auth}
	dec := decisions{obj}
	api.GET("/decisions/:id", readEvents, dec.list)
	api.POST("/decisions/test", mayRead(d.Authz, state.TypePolicy), dec.test)
	api.GET("/events/:id/explain", readEvents, mayRead(d.Authz, state.TypeTrigger), explainer{obj}.explain)

	dcl := declare{store: d.Store, authz: d.Authz}
	api.POST("/plan", dcl.plan)
	api.POST("/apply", dcl.apply)
	writeSources := mayWrite(d.Authz, state.TypeSource)
	api.POST("/hooks/plan", writeSources, d.HooksCode.plan)
	api.POST("/hooks/apply", writeSources, d.HooksCode.apply)
	api.POST("/hooks/rotate", writeSources, d.HooksCode.rotate)
	api.POST("/hooks/redeliver", writeSources, d.HooksCode.redeliver)
	api.POST("/hooks/list", mayRead(d.Authz, state.TypeSource), d.HooksCode.list)
	api.POST("/hooks/ping", writeSources, d.HooksCode.ping)
	api.GET("/hooks/setup/:source", d.HooksCode.setup(d.Authz))

	api.GET("/watch", watch{objects: obj, hub: d.Hub, auth: d.Auth, log: d.Log}.serve)
	dlv := deliveries{objects: obj, dispatcher: d.Dispatcher}
	api.POST("/deliveries/:id/:op", dlv.operate)
	api.GET("/deliveries/:id/output", dlv.output)
	agentAPI{dispatcher: d.Dispatcher, fleet: d.Fleet, pollWait: d.PollWait, auth: d.Auth}.routes(api)
	// Every object route starts with /:type: a route with a literal first
	// segment beside them (such as /apikey/…) would shadow them for its
	// method, and DELETE /apikey/{name} would answer 405.
	api.GET("/:type", obj.list)
	api.GET("/:type/", obj.list)
	api.POST("/:type", obj.create)
	api.GET("/:type/:name", obj.get)
	api.GET("/:type/:name/versions", obj.versions)
	api.PUT("/:type/:name", obj.replace)
	api.PATCH("/:type/:name", obj.merge)
	api.DELETE("/:type/:name", obj.remove)
	api.POST("/:type/:name/secrets", obj.addSecret)
	api.DELETE("/:type/:name/secrets/:id", obj.removeSecret)
	opsRoutes(r, d, opsPages{objects: obj, feed: fd, dispatcher: d.Dispatcher, queues: d.Redis != nil}, readEvents, writeEvents)
	return r, nil
}

// inspectorOf returns the job queues' inspector on rdb, or nil.
func inspectorOf(rdb redis.UniversalClient) *asynq.Inspector {
	if rdb == nil {
		return nil
	}
	return asynq.NewInspectorFromRedisClient(rdb)
}

// recovery turns a panic into a logged 500 with the usual JSON body.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		log.Error("panic while serving a request", "path", loggedPath(c), "request_id", c.GetString(requestIDKey), "panic", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, answer{Status: "failed", Message: "internal error; see the server log", RequestID: c.GetString(requestIDKey)})
	})
}

// requestIDKey holds the request's id in the gin context.
const requestIDKey = "reflex.request_id"

// requestID gives every request an id: the client's X-Request-Id when it
// sends a usable one (a proxy's, say), else a new one. It is answered in
// X-Request-Id, written in the request's log line and in error answers,
// so a person reporting a failure can point at its log line.
func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !validRequestID(id) {
		var raw [12]byte
		_, _ = rand.Read(raw[:])
		id = hex.EncodeToString(raw[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

// validRequestID accepts 1 to 128 letters, digits, '.', '_', ':' and '-'.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == ':' || r == '-') {
			return false
		}
	}
	return true
}

// routineKey marks a request that succeeded at what agents do all the time
// (a poll that found nothing, a heartbeat, a renewal): logged at debug
// level, as probes are, so the access log shows what happened.
const routineKey = "reflex.routine"

// logAttrsKey holds the attributes a handler adds to its request's log line.
const logAttrsKey = "reflex.logattrs"

// addLogAttrs adds attributes (source, delivery id, …) to the one log line
// of the current request.
func addLogAttrs(c *gin.Context, attrs ...slog.Attr) {
	prev, _ := c.Get(logAttrsKey)
	list, _ := prev.([]slog.Attr)
	c.Set(logAttrsKey, append(list, attrs...))
}

// loggedPath returns the request's path as logs and errors show it: a
// webhook URL's token (anything after /hooks/{source}/) is a secret and
// reads "[redacted]", also in a path a sender got slightly wrong
// ("//hooks/…", "/Hooks/…") that no route serves.
func loggedPath(c *gin.Context) string {
	return redactPath(c.Request.URL.Path)
}

// redactPath is loggedPath's rule for a path.
func redactPath(p string) string {
	trimmed := strings.TrimLeft(p, "/")
	head, rest, ok := strings.Cut(trimmed, "/")
	if !ok || !strings.EqualFold(head, "hooks") {
		return p
	}
	source, _, hasToken := strings.Cut(strings.TrimLeft(rest, "/"), "/")
	if !hasToken {
		return p
	}
	return "/" + head + "/" + source + "/[redacted]"
}

// accessLog logs one line per request, enriched by the handler: its id,
// the API key's name (never its secret), and for a failure the message
// the client got; a 5xx is logged at error level with its cause, once.
// Probes log at debug level.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		level := slog.LevelInfo
		if p := c.FullPath(); p == "/healthz" || p == "/readyz" || c.GetBool(routineKey) {
			level = slog.LevelDebug
		}
		status := c.Writer.Status()
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method), slog.String("path", loggedPath(c)),
			slog.Int("status", status), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("remote", c.ClientIP()), slog.String("request_id", c.GetString(requestIDKey)),
		}
		if extra, ok := c.Get(logAttrsKey); ok {
			attrs = append(attrs, extra.([]slog.Attr)...)
		}
		if len(c.Errors) > 0 {
			he := classify(c.Errors[0].Err)
			attrs = append(attrs, slog.String("error", he.Message))
			switch {
			case status >= 500 && he.Err != nil:
				// A failure of the server itself, with its cause. A refusal
				// for load (the body budget) has none: a flood of them is
				// not a flood of errors.
				level = slog.LevelError
				attrs = append(attrs, slog.String("cause", he.Err.Error()))
			case level == slog.LevelInfo:
				level = slog.LevelWarn
			}
		}
		log.LogAttrs(c.Request.Context(), level, "http request", attrs...)
	}
}
