package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// adminAuth admits requests that carry the admin key as a bearer token.
// Keys are compared as SHA-256 digests in constant time, so neither their
// content nor their length leaks through timing. Without an admin key the
// API is closed.
func adminAuth(adminKey string) gin.HandlerFunc {
	want := sha256.Sum256([]byte(adminKey))
	return func(c *gin.Context) {
		if adminKey == "" {
			fail(c, Errorf(http.StatusUnauthorized, "the API is closed: no admin key is configured on the server (set REFLEX_ADMIN_KEY)"))
			return
		}
		token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || token == "" {
			c.Header("WWW-Authenticate", `Bearer realm="reflex"`)
			fail(c, Errorf(http.StatusUnauthorized, "missing API key: send Authorization: Bearer <key>"))
			return
		}
		got := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			c.Header("WWW-Authenticate", `Bearer realm="reflex", error="invalid_token"`)
			fail(c, Errorf(http.StatusUnauthorized, "invalid API key"))
			return
		}
		c.Next()
	}
}
