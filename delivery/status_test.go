package delivery

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// TestSetStatusNeverOverwritesALaterOne: the dispatcher's own status
// changes apply only from the statuses they expect, so an agent's report
// that landed first (running, succeeded) is never set back to queued.
func TestSetStatusNeverOverwritesALaterOne(t *testing.T) {
	r := redistest.New(t)
	d := &Dispatcher{Store: state.New(r.Client, state.Options{}), Redis: r.Client, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	for _, tc := range []struct {
		name, from, to string
		allowed        []string
		want           string
	}{
		{"queued after the agent started", "running", "queued", []string{"queued", "waiting"}, "running"},
		{"queued after the agent finished", "succeeded", "queued", []string{"queued", "waiting"}, "succeeded"},
		{"waiting behind a running delivery", "queued", "waiting", []string{"queued", "waiting"}, "waiting"},
		{"queued when handed the service", "waiting", "queued", []string{"queued", "waiting"}, "queued"},
		{"superseded after it was queued", "queued", "superseded", []string{"queued", "waiting"}, "superseded"},
		{"cancel after it started", "running", "cancelled", []string{"waiting", "queued"}, "running"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "d-" + tc.from + "-" + tc.to
			content := map[string]any{"name": id, "service": "web", "zone": "production", "trigger": "t", "action": "deploy", "status": tc.from, "attempts": []any{}}
			if _, err := d.Store.Create(ctx, state.NewObject(state.TypeDeploy, content), "test"); err != nil {
				t.Fatal(err)
			}
			d.setStatus(ctx, id, tc.to, nil, tc.allowed...)
			rec, err := d.Store.Object(ctx, state.TypeDeploy, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Content["status"] != tc.want {
				t.Fatalf("status = %v, want %s", rec.Content["status"], tc.want)
			}
		})
	}
}
