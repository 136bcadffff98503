package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
)

// readyTimeout bounds the readiness probe's Redis round trip.
const readyTimeout = 2 * time.Second

// healthz answers while the process serves requests.
func healthz(c *gin.Context) {
	writeJSON(c, http.StatusOK, answer{Status: "ok"})
}

// readyz answers 200 when Redis answers, 503 otherwise.
func readyz(rdb redis.UniversalClient) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()
		if err := rdb.Ping(ctx).Err(); err != nil {
			c.Header("Retry-After", "5")
			writeJSON(c, http.StatusServiceUnavailable, answer{Status: "failed", Message: "Redis is unreachable"})
			return
		}
		writeJSON(c, http.StatusOK, answer{Status: "ok"})
	}
}
