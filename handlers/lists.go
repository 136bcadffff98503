package handlers

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/state"
)

// writeJSON answers v as JSON. Unlike gin's JSON it does not escape HTML
// characters: the API serves documents, not pages, so an expression's
// "&&" reads "&&", not "\u0026\u0026".
func writeJSON(c *gin.Context, status int, v any) { c.PureJSON(status, v) }

// pageLimit reads ?limit=: the page size, 1 to state.MaxListLimit; 0 when
// absent (the default size).
func pageLimit(c *gin.Context) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > state.MaxListLimit {
		return 0, Errorf(http.StatusBadRequest, "limit must be a number from 1 to %d", state.MaxListLimit)
	}
	return n, nil
}

// linkNext announces the page after this one, when there is one, in a
// Link header (RFC 8288) that repeats the request's query with its cursor.
func linkNext(c *gin.Context, cursor string) {
	if cursor == "" {
		return
	}
	q := c.Request.URL.Query()
	q.Del("before")
	q.Set("cursor", cursor)
	next := url.URL{Path: c.Request.URL.Path, RawQuery: q.Encode()}
	c.Header("Link", "<"+next.String()+`>; rel="next"`)
}
