package handlers

import (
	"log/slog"

	"github.com/gin-gonic/gin"
)

// auditKey holds the changes a request made, logged once it is answered.
const auditKey = "reflex.audit"

// auditMessage is the message of the log line written for each change an
// API call makes to Reflex's state.
const auditMessage = "audit"

// change is one change a request made: an operation on an object (or a
// queue, a job, a provider's hook), and the revision it produced when the
// object has revisions.
type change struct {
	op, typ, name string
	revision      int64
}

// audited records a change the request made, once it has been made. It
// is logged by auditLog after the answer, with who made it and from
// where. Only names, operations and revisions are recorded, never a
// document, a secret or a key.
func audited(c *gin.Context, op, typ, name string, revision int64) {
	prev, _ := c.Get(auditKey)
	list, _ := prev.([]change)
	c.Set(auditKey, append(list, change{op: op, typ: typ, name: name, revision: revision}))
}

// auditLog writes one "audit" line at info level for each change a
// request recorded (audited): the operation, the object's type and name,
// the revision it produced (for a delete, the one deleted; objects only),
// the name of the API key that made it, the client's address as the
// trusted proxies give it, and the request id, which also names the
// request's access-log line.
func auditLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		v, _ := c.Get(auditKey)
		list, _ := v.([]change)
		for _, ch := range list {
			attrs := []slog.Attr{
				slog.String("op", ch.op), slog.String("type", ch.typ), slog.String("name", ch.name),
			}
			if ch.revision > 0 {
				attrs = append(attrs, slog.Int64("revision", ch.revision))
			}
			attrs = append(attrs,
				slog.String("apikey", callerOf(c).Name), slog.String("remote", c.ClientIP()),
				slog.String("request_id", c.GetString(requestIDKey)),
			)
			log.LogAttrs(c.Request.Context(), slog.LevelInfo, auditMessage, attrs...)
		}
	}
}
