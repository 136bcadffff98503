package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/periodic"
)

// Target is a server under load, and how to watch it.
type Target struct {
	// Name says which it is: reflex or baseline.
	Name string
	// HookURL is where its deliveries are posted.
	HookURL string
	// PID and RedisPID are the server's and Redis's processes, for their
	// CPU time; 0 when unknown, the same when Redis is embedded.
	PID, RedisPID int
	// Backlog returns how many accepted deliveries are not processed yet;
	// nil when it cannot be told.
	Backlog func(ctx context.Context) (int, error)
	// Check, when set, reads back the delivery ids answered 202 and says
	// how many were processed, are still pending, and cannot be found.
	Check func(ctx context.Context, ids []string) (Readback, error)
	// Queue is the asynq queue the target's jobs go to. With Hold, Run
	// pauses it during the load and resumes it after, so intake and
	// processing are measured apart: the load's CPU is the intake's alone,
	// and the drain's the processing's.
	Queue string
	Hold  bool
}

// Readback is what became of deliveries answered 202.
type Readback struct {
	Checked, Processed, Pending, Missing int
}

// Measure is one load of one target: its answers, the CPU it cost, the
// Redis commands it ran, and its backlog.
type Measure struct {
	Target string
	Result *Result
	// IntakeCPU is the CPU the server and Redis spent during the load;
	// TotalCPU until the backlog drained too (processing included); the
	// Redis ones are Redis's part of each. Negative: unknown.
	IntakeCPU, TotalCPU           time.Duration
	IntakeRedisCPU, TotalRedisCPU time.Duration
	// Commands and Scripts are Redis's commands (scripts' inner commands
	// included) and script calls until the backlog drained; -1: unknown.
	Commands, Scripts int64
	// Backlog samples the backlog once a second, during the load and
	// while it drains; Drain is how long it took to drain after the load.
	Backlog    []int
	MaxBacklog int
	Drain      time.Duration
	// Held is set when processing was held during the load.
	Held     bool
	Readback *Readback
}

// DrainTimeout bounds how long a Measure waits for the backlog to drain.
const DrainTimeout = 5 * time.Minute

// Run measures target under load; rdb, when set, is the Redis both use,
// for its command counts.
func Run(ctx context.Context, target Target, load Load, rdb redis.UniversalClient) (*Measure, error) {
	m := &Measure{Target: target.Name, IntakeCPU: -1, TotalCPU: -1, IntakeRedisCPU: -1, TotalRedisCPU: -1, Commands: -1, Scripts: -1}
	resume := func() error { return nil }
	if target.Hold {
		if rdb == nil || target.Queue == "" {
			return nil, fmt.Errorf("holding %s's processing needs its Redis and its queue", target.Name)
		}
		var err error
		if resume, err = hold(rdb, target.Queue); err != nil {
			return nil, err
		}
		defer func() { _ = resume() }()
		m.Held = true
	}
	cpu0, redis0, cpuErr := target.cpu()
	cmds0, scripts0, statsErr := commandStats(ctx, rdb)
	load.URL = target.HookURL
	sampler := m.sample(ctx, target)
	res, err := load.Run(ctx)
	if err != nil {
		sampler()
		return nil, err
	}
	m.Result = res
	apart := target.RedisPID != 0 && target.RedisPID != target.PID
	if cpu1, redis1, err := target.cpu(); err == nil && cpuErr == nil {
		m.IntakeCPU = cpu1 - cpu0
		if apart {
			m.IntakeRedisCPU = redis1 - redis0
		}
	}
	if err := resume(); err != nil {
		sampler()
		return nil, err
	}
	end := time.Now()
	if target.Backlog != nil {
		for deadline := time.Now().Add(DrainTimeout); time.Now().Before(deadline); {
			n, err := target.Backlog(ctx)
			if err != nil {
				sampler()
				return nil, fmt.Errorf("read the backlog of %s: %w", target.Name, err)
			}
			if n == 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		m.Drain = time.Since(end)
	}
	sampler()
	settle(ctx, target)
	if cpu2, redis2, err := target.cpu(); err == nil && cpuErr == nil {
		m.TotalCPU = cpu2 - cpu0
		if apart {
			m.TotalRedisCPU = redis2 - redis0
		}
	}
	if cmds1, scripts1, err := commandStats(ctx, rdb); err == nil && statsErr == nil {
		m.Commands, m.Scripts = cmds1-cmds0, scripts1-scripts0
	}
	if target.Check != nil && len(res.Accepted) > 0 {
		rb, err := target.Check(ctx, res.Accepted)
		if err != nil {
			return nil, fmt.Errorf("read back the deliveries: %w", err)
		}
		m.Readback = &rb
	}
	return m, nil
}

// Settling: after the backlog drained, a target may still work on what the
// load left (the history's trim runs every second, say); that is its cost
// too, and must not fall on the next round. settle waits until the target
// and its Redis use less than settleIdle of a core over a settleWindow, for
// at most settleMax, and the wait counts in the round's CPU.
const (
	settleWindow = 500 * time.Millisecond
	settleIdle   = 0.15
	settleMax    = 10 * time.Second
)

func settle(ctx context.Context, t Target) {
	last, _, err := t.cpu()
	if err != nil {
		return
	}
	for deadline := time.Now().Add(settleMax); time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(settleWindow)
		now, _, err := t.cpu()
		if err != nil {
			return
		}
		if float64(now-last) < settleIdle*float64(settleWindow) {
			return
		}
		last = now
	}
}

// hold pauses an asynq queue, and returns what resumes it (once).
func hold(rdb redis.UniversalClient, queue string) (resume func() error, err error) {
	in := asynq.NewInspectorFromRedisClient(rdb)
	if err := in.PauseQueue(queue); err != nil {
		return nil, fmt.Errorf("hold the %s queue: %w", queue, err)
	}
	held := true
	return func() error {
		if !held {
			return nil
		}
		held = false
		if err := in.UnpauseQueue(queue); err != nil {
			return fmt.Errorf("resume the %s queue: %w", queue, err)
		}
		return nil
	}, nil
}

// sample records the backlog once a second until the returned stop.
func (m *Measure) sample(ctx context.Context, t Target) func() {
	if t.Backlog == nil {
		return func() {}
	}
	// A read in progress at the stop finishes on ctx, and counts.
	return periodic.Start(ctx, time.Second, func(context.Context) {
		if n, err := t.Backlog(ctx); err == nil {
			m.Backlog = append(m.Backlog, n)
			m.MaxBacklog = max(m.MaxBacklog, n)
		}
	})
}

// cpu returns the CPU time of the target's server and Redis together, and
// of Redis alone (0 when Redis is embedded in the server).
func (t Target) cpu() (total, redis time.Duration, err error) {
	if t.PID == 0 {
		return 0, 0, ErrNoProcStat
	}
	if total, err = CPUTime(t.PID); err != nil {
		return 0, 0, err
	}
	if t.RedisPID != 0 && t.RedisPID != t.PID {
		if redis, err = CPUTime(t.RedisPID); err != nil {
			return 0, 0, err
		}
	}
	return total + redis, redis, nil
}

// scriptCommands are the commands that run a script.
var scriptCommands = map[string]bool{"eval": true, "evalsha": true, "eval_ro": true, "evalsha_ro": true, "fcall": true, "fcall_ro": true}

// commandStats returns Redis's total command calls and script calls so far
// (INFO commandstats, which counts the commands scripts run too).
func commandStats(ctx context.Context, rdb redis.UniversalClient) (calls, scripts int64, err error) {
	if rdb == nil {
		return 0, 0, errors.New("no Redis to count commands on")
	}
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd {
			continue
		}
		for kv := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k != "calls" {
				continue
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			calls += n
			if scriptCommands[name] {
				scripts += n
			}
		}
	}
	return calls, scripts, nil
}

// ReflexBacklog reads a Reflex's backlog through its API: the jobs of its
// events queue not processed yet (GET /api/v1/queues).
func ReflexBacklog(base, apikey string, client *http.Client) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		var queues []struct {
			Queue                             string
			Pending, Active, Scheduled, Retry int
		}
		if err := getJSON(ctx, client, base+"/api/v1/queues", apikey, &queues); err != nil {
			return 0, err
		}
		for _, q := range queues {
			if q.Queue == "events" {
				return q.Pending + q.Active + q.Scheduled + q.Retry, nil
			}
		}
		return 0, nil
	}
}

// ReflexCheck reads back, through a Reflex's API, the last (at most 1,000)
// deliveries answered 202: the oldest may have left the event history.
func ReflexCheck(base, apikey, source string, client *http.Client) func(ctx context.Context, ids []string) (Readback, error) {
	return func(ctx context.Context, ids []string) (Readback, error) {
		var rb Readback
		for _, id := range ids[max(0, len(ids)-1000):] {
			var ev struct{ Status string }
			err := getJSON(ctx, client, base+"/api/v1/events/"+url.PathEscape(id)+"?source="+url.QueryEscape(source), apikey, &ev)
			var se *httpStatusError
			switch {
			case errors.As(err, &se) && se.status == http.StatusNotFound:
				rb.Missing++
			case err != nil:
				return rb, err
			case ev.Status == "processed":
				rb.Processed++
			default:
				rb.Pending++
			}
			rb.Checked++
		}
		return rb, nil
	}
}

// QueueBacklog reads the backlog of an asynq queue on Redis directly: the
// baseline has no API.
func QueueBacklog(rdb redis.UniversalClient, queue string) func(ctx context.Context) (int, error) {
	in := asynq.NewInspectorFromRedisClient(rdb)
	return func(context.Context) (int, error) {
		q, err := in.GetQueueInfo(queue)
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return q.Pending + q.Active + q.Scheduled + q.Retry, nil
	}
}

// httpStatusError is an API answer that is not a success.
type httpStatusError struct {
	status int
	url    string
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("GET %s: %d %s", e.url, e.status, http.StatusText(e.status))
}

func getJSON(ctx context.Context, client *http.Client, u, apikey string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+apikey)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &httpStatusError{status: resp.StatusCode, url: strings.SplitN(u, "?", 2)[0]}
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
