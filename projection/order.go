package projection

import (
	"fmt"
	"time"

	"github.com/reflexops/reflex/event"
)

// The orders below decide whether an update replaces a stored entry. Each
// compares what the events say (times, run numbers, attempts, progress),
// so the outcome does not depend on the order in which events arrive.

// newerByTime: a record at the same or a later time wins.
func newerByTime(old, cur map[string]any) bool {
	return !timeOf(cur["at"]).Before(timeOf(old["at"]))
}

// newerByTimeAndProgress orders the updates of one step.
func newerByTimeAndProgress(old, cur map[string]any) bool {
	a, b := timeOf(old["updated_at"]), timeOf(cur["updated_at"])
	if !a.Equal(b) {
		return b.After(a)
	}
	return progress(cur["status"]) >= progress(old["status"])
}

// newerRun orders the updates of one workflow: a later run, a later
// attempt, a later update, then further progress.
func newerRun(old, cur map[string]any) bool {
	for _, k := range []string{"number", "attempt"} {
		if x, y := number(old[k]), number(cur[k]); x != y {
			return y > x
		}
	}
	a, b := timeOf(old["at"]), timeOf(cur["at"])
	if !a.Equal(b) {
		return b.After(a)
	}
	return progress(cur["status"]) >= progress(old["status"])
}

func timeOf(v any) time.Time {
	s, _ := v.(string)
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func number(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	}
	return 0
}

func progress(v any) int {
	switch event.BuildStatus(fmt.Sprint(v)) {
	case event.BuildQueued:
		return 1
	case event.BuildRunning:
		return 2
	case event.BuildFinished:
		return 3
	}
	return 0
}

// buildState sums up the steps: failed if any failed, cancelled if any was
// cancelled, succeeded when all finished, running when any runs, else
// pending.
func buildState(v any) string {
	steps, _ := v.(map[string]any)
	finished, running, failed, cancelled := 0, false, false, false
	for _, s := range steps {
		step, _ := s.(map[string]any)
		switch step["status"] {
		case string(event.BuildFinished):
			finished++
		case string(event.BuildRunning):
			running = true
		}
		switch step["outcome"] {
		case string(event.OutcomeFailure):
			failed = true
		case string(event.OutcomeCancelled):
			cancelled = true
		}
	}
	switch {
	case failed:
		return "failed"
	case cancelled:
		return "cancelled"
	case len(steps) > 0 && finished == len(steps):
		return "succeeded"
	case running || finished > 0:
		return "running"
	}
	return "pending"
}
