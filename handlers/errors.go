package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/reflexops/reflex/connectors"
	"github.com/reflexops/reflex/intake"
	"github.com/reflexops/reflex/state"
)

// Error is an error with the HTTP status it answers. Its message is shown to
// the client, so it must help a person act and never hold a secret.
type Error struct {
	Status  int
	Message string
	// RetryAfter, in seconds, is sent as Retry-After when not zero.
	RetryAfter int
	// Err is the underlying error, logged but not shown.
	Err error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// answer is the Reflex response shape: a status, and a message or the id
// of what was accepted.
type answer struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	ID      string `json:"id,omitempty"`
	// RequestID names a failed request's log line.
	RequestID string `json:"request_id,omitempty"`
}

// retryAfterUnavailable is the Retry-After sent while Redis is unreachable.
const retryAfterUnavailable = 5

// retryAfterKeys is the Retry-After sent while a provider's keys cannot be
// fetched: a fetch is tried at most this often.
const retryAfterKeys = 30

// classify maps an error to the *Error answered for it.
func classify(err error) *Error {
	var he *Error
	switch {
	case errors.As(err, &he):
		return he
	case errors.Is(err, connectors.ErrUnauthorized):
		return &Error{Status: http.StatusUnauthorized, Message: err.Error()}
	case errors.Is(err, connectors.ErrUnsupportedMediaType):
		return &Error{Status: http.StatusUnsupportedMediaType, Message: err.Error()}
	case errors.Is(err, connectors.ErrUnavailable):
		// The provider delivers again; the cause (which host failed how)
		// is logged, and the answer says only what to expect.
		return &Error{Status: http.StatusServiceUnavailable, Message: "the keys that verify this delivery cannot be fetched now; retry later", RetryAfter: retryAfterKeys, Err: err}
	case errors.Is(err, connectors.ErrMalformed):
		return &Error{Status: http.StatusBadRequest, Message: err.Error()}
	case errors.Is(err, state.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Message: err.Error()}
	case errors.Is(err, state.ErrTrimmed):
		return &Error{Status: http.StatusGone, Message: err.Error()}
	case errors.Is(err, intake.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Message: "storage is unavailable; the delivery was not accepted, retry later", RetryAfter: retryAfterUnavailable, Err: err}
	}
	if status, ok := statusOfStateError(err); ok {
		return &Error{Status: status, Message: err.Error()}
	}
	return &Error{Status: http.StatusInternalServerError, Message: "internal error; see the server log", Err: err}
}

// fail answers a request with the error's status and JSON body.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// errorMiddleware writes the response for the first error a handler
// recorded, and logs server-side failures with their cause.
func errorMiddleware(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	he := classify(c.Errors[0].Err)
	if he.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(he.RetryAfter))
	}
	writeJSON(c, he.Status, answer{Status: "failed", Message: he.Message, RequestID: c.GetString(requestIDKey)})
}
