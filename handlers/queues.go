package handlers

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/jobs"
)

// queues serves the job queues' figures.
type queues struct {
	inspector *asynq.Inspector
	redis     redis.UniversalClient
}

// queueInfo is one queue as GET /api/v1/queues shows it.
type queueInfo struct {
	Queue string `json:"queue"`
	// Size is every job the queue holds but the completed: pending,
	// active, scheduled, retrying and archived.
	Size int `json:"size"`
	// Pending counts the spilled jobs too (jobs.Refill).
	Pending   int  `json:"pending"`
	Active    int  `json:"active"`
	Scheduled int  `json:"scheduled"`
	Retry     int  `json:"retry"`
	Archived  int  `json:"archived"`
	Completed int  `json:"completed"`
	Paused    bool `json:"paused"`
	// Processed and Failed count today's jobs (UTC).
	Processed int `json:"processed_today"`
	Failed    int `json:"failed_today"`
	// LatencyMS is how long the oldest pending job has waited.
	LatencyMS int64 `json:"latency_ms"`
}

// list answers GET /api/v1/queues: every job queue with its figures, by
// name. It needs read on the event history.
func (h queues) list(c *gin.Context) {
	if h.inspector == nil {
		fail(c, Errorf(http.StatusServiceUnavailable, "this server has no job queues to show"))
		return
	}
	names, err := h.inspector.Queues()
	if err != nil {
		fail(c, err)
		return
	}
	slices.Sort(names)
	out := make([]queueInfo, 0, len(names))
	for _, name := range names {
		q, err := h.inspector.GetQueueInfo(name)
		if err != nil {
			fail(c, err)
			return
		}
		spilled, err := jobs.Spilled(c.Request.Context(), h.redis, name)
		if err != nil {
			fail(c, err)
			return
		}
		out = append(out, queueInfo{
			Queue: name, Size: q.Size + spilled, Pending: q.Pending + spilled, Active: q.Active, Scheduled: q.Scheduled, Retry: q.Retry,
			Archived: q.Archived, Completed: q.Completed, Paused: q.Paused, Processed: q.Processed, Failed: q.Failed,
			LatencyMS: q.Latency.Milliseconds(),
		})
	}
	writeJSON(c, http.StatusOK, out)
}
