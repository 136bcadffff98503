package delivery

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/state"
)

// TestEndsCountedOnce: two brokers moving one delivery to its end at once
// count it once between them; a move that changes nothing counts nothing;
// a delivery run again counts again when it ends again.
func TestEndsCountedOnce(t *testing.T) {
	ctx := context.Background()
	r := redistest.New(t)
	store := state.New(r.Client, state.Options{})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	brokers := []*Dispatcher{
		{Store: store, Redis: r.Client, Log: log, Metrics: NewMetrics(nil)},
		{Store: store, Redis: r.Client, Log: log, Metrics: NewMetrics(nil)},
	}
	rec := &Record{Name: "d1", Service: "web-prod", Zone: "production", Action: "deploy", Status: StatusQueued}
	content, err := rec.content(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Create(ctx, state.NewObject(state.TypeDeploy, content), writer); err != nil {
		t.Fatal(err)
	}
	ended := func() float64 {
		var n float64
		for _, d := range brokers {
			var m dto.Metric
			if err := d.Metrics.ended.WithLabelValues("production", "web-prod", "cancelled").Write(&m); err != nil {
				t.Fatal(err)
			}
			n += m.GetCounter().GetValue()
		}
		return n
	}
	var wg sync.WaitGroup
	for _, d := range brokers {
		wg.Go(func() { d.setStatus(ctx, "d1", moveCancel, "by a test") })
	}
	wg.Wait()
	if got := ended(); got != 1 {
		t.Fatalf("after two brokers cancelled it: counted %v ends, want 1", got)
	}
	brokers[0].setStatus(ctx, "d1", moveWait, "")
	brokers[1].setStatus(ctx, "d1", moveCancel, "again")
	if got := ended(); got != 1 {
		t.Fatalf("after moves that change nothing: counted %v ends, want 1", got)
	}
	brokers[0].setStatus(ctx, "d1", moveRunAgain, "run again")
	brokers[1].setStatus(ctx, "d1", moveCancel, "by a test")
	if got := ended(); got != 2 {
		t.Fatalf("after it ran again and was cancelled: counted %v ends, want 2", got)
	}
}
