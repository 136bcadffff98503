package jobs

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reflexops/reflex/internal/promtest"
)

// TestJobMetrics: each run of a handler is counted under its task type,
// with its outcome, and timed; a failure outside a worker (no retry
// count) or one that skips retries is counted as failed for good.
func TestJobMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := newJobMetrics(reg)
	results := []error{nil, nil, errors.New("boom"), fmt.Errorf("bad payload: %w", asynq.SkipRetry)}
	var i int
	h := m.measure(TypeProcessEvent, func(context.Context, *asynq.Task) error {
		err := results[i]
		i++
		return err
	})
	for range results {
		_ = h.ProcessTask(context.Background(), asynq.NewTask("anything:else", nil))
	}
	got, err := promtest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	s := promtest.Series
	want := promtest.Samples{
		s("reflex_jobs_total", "type", TypeProcessEvent, "outcome", "succeeded"): 2,
		s("reflex_jobs_total", "type", TypeProcessEvent, "outcome", "failed"):    2,
		s("reflex_job_duration_seconds_count", "type", TypeProcessEvent):         4,
	}
	delete(got, s("reflex_job_duration_seconds_sum", "type", TypeProcessEvent))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
}

// TestJobOutcome: a failure is retried unless asynq would not retry it.
func TestJobOutcome(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"success", nil, jobSucceeded},
		{"no retry count", errors.New("boom"), jobFailed},
		{"skip retry", asynq.SkipRetry, jobFailed},
		{"revoked", asynq.RevokeTask, jobFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jobOutcome(context.Background(), tt.err); got != tt.want {
				t.Errorf("jobOutcome(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
