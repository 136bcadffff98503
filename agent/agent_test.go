package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reflexops/reflex/internal/redistest"
	"github.com/reflexops/reflex/wire"
)

// TestClock: whether a job has expired, and when its reports say things
// happened, follow the agent's clock.
func TestClock(t *testing.T) {
	r := redistest.New(t)
	file, err := actionsFile(t, `{"actions":{"deploy":{"type":"system","exec":["true"]}}}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	seed, pub, keyErr := wire.GenerateKey()
	signer, signerErr := wire.NewSigner("k1", seed)
	keys := wire.Verifier{}
	if err := errors.Join(keyErr, signerErr, keys.ParsePublicKey("k1="+pub)); err != nil {
		t.Fatal(err)
	}
	expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		now   time.Time
		kinds []string
	}{
		{"before expiry", expires.Add(-time.Second), []string{wire.ReportStarted, wire.ReportFinished}},
		{"after expiry", expires.Add(time.Second), []string{wire.ReportRefused}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "d-" + tt.name
			payload, err := signer.Sign(&wire.Job{ID: id, Zone: "production", Action: "deploy", ExpiresAt: expires})
			if err != nil {
				t.Fatal(err)
			}
			ledger, err := OpenLedger(filepath.Join(t.TempDir(), "ledger.json"), nil)
			if err != nil {
				t.Fatal(err)
			}
			a := &agent{
				o: Options{Redis: r.Client, Zone: "production", Name: "a1", Actions: file, Keys: keys, Ledger: ledger,
					Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return tt.now }},
				reports: asynq.NewClientFromRedisClient(r.Client),
				runner:  &Runner{File: file},
			}
			_ = a.handle(context.Background(), asynq.NewTask(wire.TypeRun, payload))
			var kinds []string
			for _, rep := range reports(t, r.Client, id) {
				kinds = append(kinds, rep.Kind)
				if !rep.At.Equal(tt.now) {
					t.Errorf("the %s report is dated %s, not by the agent's clock (%s)", rep.Kind, rep.At, tt.now)
				}
			}
			if !slices.Equal(kinds, tt.kinds) {
				t.Fatalf("reports %v, want %v", kinds, tt.kinds)
			}
		})
	}
}

// reports returns the reports queued on the delivery id.
func reports(t *testing.T, rdb redis.UniversalClient, id string) []wire.Report {
	t.Helper()
	tasks, err := asynq.NewInspectorFromRedisClient(rdb).ListPendingTasks(wire.QueueReports)
	if err != nil {
		t.Fatal(err)
	}
	var out []wire.Report
	for _, task := range tasks {
		var rep wire.Report
		if err := json.Unmarshal(task.Payload, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.ID == id {
			out = append(out, rep)
		}
	}
	return out
}
