package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/intake"
	"github.com/reflexops/reflex/jobs"
	"github.com/reflexops/reflex/state"
)

// queues serves the job queues: their figures and jobs to readers of the
// event history, and the operator's controls (retry, delete and archive a
// job, pause and resume a queue, replay an event) to its writers.
type queues struct {
	inspector *asynq.Inspector
	redis     redis.UniversalClient
	store     *state.Store
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

// unavailable answers 503 when the server has no job queues; it reports
// whether it answered.
func (h queues) unavailable(c *gin.Context) bool {
	if h.inspector == nil {
		fail(c, Errorf(http.StatusServiceUnavailable, "this server has no job queues to show"))
		return true
	}
	return false
}

// list answers GET /api/v1/queues: every job queue with its figures, by
// name. It needs read on the event history.
func (h queues) list(c *gin.Context) {
	if h.unavailable(c) {
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

// queueOf returns the figures of the queue in the path, or nil when the
// request has been answered (404 for a queue asynq does not know).
func (h queues) queueOf(c *gin.Context) *asynq.QueueInfo {
	if h.unavailable(c) {
		return nil
	}
	name := c.Param("queue")
	names, err := h.inspector.Queues()
	if err != nil {
		fail(c, err)
		return nil
	}
	if !slices.Contains(names, name) {
		fail(c, Errorf(http.StatusNotFound, "no queue %q: reflex queue stats lists them", name))
		return nil
	}
	q, err := h.inspector.GetQueueInfo(name)
	if err != nil {
		fail(c, err)
		return nil
	}
	return q
}

// jobInfo is one job as the queue routes show it: what it is and where it
// stands, never its payload, which may hold an event's data.
type jobInfo struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Queue    string `json:"queue"`
	State    string `json:"state"`
	Retried  int    `json:"retried"`
	MaxRetry int    `json:"max_retry"`
	// LastError is the last failure's message, cut at maxJobError bytes.
	LastError     string     `json:"last_error,omitempty"`
	LastFailedAt  *time.Time `json:"last_failed_at,omitempty"`
	NextProcessAt *time.Time `json:"next_process_at,omitempty"`
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
	PayloadBytes  int        `json:"payload_bytes"`
	// Event names the event of an event:process job.
	Event *jobs.EventSummary `json:"event,omitempty"`
}

// maxJobError bounds the error message a job view shows.
const maxJobError = 1024

// viewJob is t as jobInfo shows it.
func viewJob(t *asynq.TaskInfo) jobInfo {
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	msg := t.LastErr
	if len(msg) > maxJobError {
		msg = strings.ToValidUTF8(msg[:maxJobError], "") + "…"
	}
	return jobInfo{
		ID: t.ID, Type: t.Type, Queue: t.Queue, State: t.State.String(), Retried: t.Retried, MaxRetry: t.MaxRetry,
		LastError: msg, LastFailedAt: at(t.LastFailedAt), NextProcessAt: at(t.NextProcessAt), CompletedAt: at(t.CompletedAt),
		PayloadBytes: len(t.Payload), Event: jobs.SummarizeEvent(t.Type, t.Payload),
	}
}

// jobStates are the states a queue's jobs are listed by, each with its
// list and its count in the queue's figures.
var jobStates = map[string]struct {
	list  func(*asynq.Inspector, string, ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	count func(*asynq.QueueInfo) int
}{
	"pending":   {(*asynq.Inspector).ListPendingTasks, func(q *asynq.QueueInfo) int { return q.Pending }},
	"active":    {(*asynq.Inspector).ListActiveTasks, func(q *asynq.QueueInfo) int { return q.Active }},
	"scheduled": {(*asynq.Inspector).ListScheduledTasks, func(q *asynq.QueueInfo) int { return q.Scheduled }},
	"retry":     {(*asynq.Inspector).ListRetryTasks, func(q *asynq.QueueInfo) int { return q.Retry }},
	"archived":  {(*asynq.Inspector).ListArchivedTasks, func(q *asynq.QueueInfo) int { return q.Archived }},
	"completed": {(*asynq.Inspector).ListCompletedTasks, func(q *asynq.QueueInfo) int { return q.Completed }},
}

// defaultJobsLimit is the page size of a job list without ?limit=.
const defaultJobsLimit = 50

// jobs answers GET /api/v1/queues/{queue}/jobs: one page of the queue's
// jobs in one state. Query: state (pending, the default, active,
// scheduled, retry, archived or completed), limit (1 to 1000, default 50)
// and page (from 1). A Link header names the next page when there is one.
// Pending jobs beyond the embedded Redis's pending bound (spilled) are not
// listed until they move back.
func (h queues) jobs(c *gin.Context) {
	state := c.DefaultQuery("state", "pending")
	by, ok := jobStates[state]
	if !ok {
		fail(c, Errorf(http.StatusBadRequest, "state must be pending, active, scheduled, retry, archived or completed"))
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		fail(c, err)
		return
	}
	if limit == 0 {
		limit = defaultJobsLimit
	}
	page := 1
	if v := c.Query("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			fail(c, Errorf(http.StatusBadRequest, "page must be a number from 1"))
			return
		}
	}
	q := h.queueOf(c)
	if q == nil {
		return
	}
	tasks, err := by.list(h.inspector, q.Queue, asynq.PageSize(limit), asynq.Page(page))
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]jobInfo, len(tasks))
	for i, t := range tasks {
		out[i] = viewJob(t)
	}
	if page*limit < by.count(q) {
		next := c.Request.URL.Query()
		next.Set("page", strconv.Itoa(page+1))
		c.Header("Link", "<"+(&url.URL{Path: c.Request.URL.Path, RawQuery: next.Encode()}).String()+`>; rel="next"`)
	}
	writeJSON(c, http.StatusOK, out)
}

// jobOf returns the job id of the queue in the path, or nil when the
// request has been answered (404 for an unknown queue or job). An event's
// job id holds a "/" ("source/id"): the route's last parameter takes the
// rest of the path.
func (h queues) jobOf(c *gin.Context, id string) *asynq.TaskInfo {
	q := h.queueOf(c)
	if q == nil {
		return nil
	}
	t, err := h.inspector.GetTaskInfo(q.Queue, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || id == "" {
		fail(c, Errorf(http.StatusNotFound, "queue %q holds no job %q (a job that ran to its end is gone unless its type keeps it)", q.Queue, id))
		return nil
	}
	if err != nil {
		fail(c, err)
		return nil
	}
	return t
}

// job answers GET /api/v1/queues/{queue}/jobs/{id}.
func (h queues) job(c *gin.Context) {
	if t := h.jobOf(c, strings.TrimPrefix(c.Param("id"), "/")); t != nil {
		writeJSON(c, http.StatusOK, viewJob(t))
	}
}

// jobVerbs are the operations on one job, each with the states it applies
// in, as asynq's inspector allows them (and in words), and what the job is
// after it.
var jobVerbs = map[string]struct {
	states []string
	needs  string
	after  string
	do     func(*asynq.Inspector, string, string) error
}{
	"retry":   {[]string{"scheduled", "retry", "archived"}, "scheduled, retry or archived", "pending", (*asynq.Inspector).RunTask},
	"delete":  {[]string{"pending", "scheduled", "retry", "archived", "completed"}, "pending, scheduled, retry, archived or completed", "deleted", (*asynq.Inspector).DeleteTask},
	"archive": {[]string{"pending", "scheduled", "retry"}, "pending, scheduled or retry", "archived", (*asynq.Inspector).ArchiveTask},
}

// jobAnswer is the answer of an operation on a job or a queue.
type jobAnswer struct {
	Status string `json:"status"`
	Queue  string `json:"queue"`
	ID     string `json:"id,omitempty"`
}

// operate answers POST /api/v1/queues/{queue}/jobs/{id}/{retry|delete|archive}:
// 200 with the job's new state, 404 for an unknown queue, job or
// operation, 409 when the operation does not apply in the job's state.
// It needs write on the event history.
func (h queues) operate(c *gin.Context) {
	rest := strings.TrimPrefix(c.Param("rest"), "/")
	var id, op string
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		id, op = rest[:i], rest[i+1:]
	}
	verb, ok := jobVerbs[op]
	if !ok {
		fail(c, Errorf(http.StatusNotFound, "no operation %q on a job: retry, delete or archive", op))
		return
	}
	t := h.jobOf(c, id)
	if t == nil {
		return
	}
	notHere := func(state string) {
		fail(c, Errorf(http.StatusConflict, "job %s is %s: %s applies to a job that is %s", t.ID, state, op, verb.needs))
	}
	if !slices.Contains(verb.states, t.State.String()) {
		notHere(t.State.String())
		return
	}
	if t.State == asynq.TaskStatePending && op != "retry" {
		if err := jobs.Unspill(c.Request.Context(), h.redis, t.Queue, t.ID); err != nil {
			fail(c, err)
			return
		}
	}
	if err := verb.do(h.inspector, t.Queue, t.ID); err != nil {
		// It moved meanwhile (a worker took it, say).
		if now, e := h.inspector.GetTaskInfo(t.Queue, t.ID); e == nil && !slices.Contains(verb.states, now.State.String()) {
			notHere(now.State.String())
			return
		}
		fail(c, err)
		return
	}
	addLogAttrs(c, slog.String("queue", t.Queue), slog.String("job", t.ID), slog.String("operation", op))
	audited(c, op, "job", t.Queue+"/"+t.ID, 0)
	writeJSON(c, http.StatusOK, jobAnswer{Status: verb.after, Queue: t.Queue, ID: t.ID})
}

// pause answers POST /api/v1/queues/{queue}/pause: its workers take no
// more of its jobs (those running finish) until it is resumed; 409 when
// it is paused already. It needs write on the event history.
func (h queues) pause(c *gin.Context) { h.setPaused(c, true) }

// resume answers POST /api/v1/queues/{queue}/resume; 409 when the queue
// is not paused.
func (h queues) resume(c *gin.Context) { h.setPaused(c, false) }

func (h queues) setPaused(c *gin.Context, paused bool) {
	q := h.queueOf(c)
	if q == nil {
		return
	}
	if q.Paused == paused {
		fail(c, Errorf(http.StatusConflict, "queue %q is %s already", q.Queue, map[bool]string{true: "paused", false: "running"}[paused]))
		return
	}
	do, status := h.inspector.UnpauseQueue, "running"
	if paused {
		do, status = h.inspector.PauseQueue, "paused"
	}
	if err := do(q.Queue); err != nil {
		fail(c, err)
		return
	}
	addLogAttrs(c, slog.String("queue", q.Queue), slog.String("operation", status))
	audited(c, map[bool]string{true: "pause", false: "resume"}[paused], "queue", q.Queue, 0)
	writeJSON(c, http.StatusOK, jobAnswer{Status: status, Queue: q.Queue})
}

// replayAnswer is the answer of a replay: the event, and the job that
// processes it again.
type replayAnswer struct {
	Status  string `json:"status"`
	ID      string `json:"id"`
	Source  string `json:"source"`
	Replays int    `json:"replays"`
	Queue   string `json:"queue"`
	Job     string `json:"job"`
}

// replay answers POST /api/v1/events/{id}/replay: the stored event is
// processed again by a fresh job (jobs.Replay). ?source= picks the source
// when several used the same id. 202 once the job is queued; 404 for an
// event not stored; 409 for one denied by policy, or whose processing is
// under way. It needs write on the event history.
func (h queues) replay(c *gin.Context) {
	id := c.Param("id")
	ev, task, err := jobs.Replay(c.Request.Context(), h.redis, h.store, id, c.Query("source"), intake.DefaultMaxRetry)
	switch {
	case errors.Is(err, state.ErrNotFound):
		fail(c, Errorf(http.StatusNotFound, "no event %q is stored (it may have left the history)", id))
		return
	case errors.Is(err, jobs.ErrNotAccepted):
		fail(c, Errorf(http.StatusConflict, "event %q was denied by policy, so it has nothing to replay; once a policy allows it, its provider can deliver it again", id))
		return
	case errors.Is(err, state.ErrUnderWay), errors.Is(err, state.ErrExists):
		fail(c, Errorf(http.StatusConflict, "event %q is being processed: its job is queued, running or waiting for a retry (reflex queue ls events); replay it once that ends", id))
		return
	case err != nil:
		fail(c, err)
		return
	}
	addLogAttrs(c, slog.String("source", ev.Source), slog.String("delivery_id", ev.ID), slog.String("job", task))
	audited(c, "replay", TypeEvent, ev.Source+"/"+ev.ID, 0)
	writeJSON(c, http.StatusAccepted, replayAnswer{Status: string(ev.Status), ID: ev.ID, Source: ev.Source, Replays: ev.Replays, Queue: jobs.QueueEvents, Job: task})
}
